import { type Kysely, type Migration } from 'kysely';

/**
 * 0009_model_calls: one row per model call (a built-in loop request, or a whole CLI datasource run),
 * for `codebench usage`. No foreign keys on purpose: money spent stays spent, so the rows outlive a
 * deleted session or run. `input_tokens` counts every prompt token, cached ones included;
 * `cached_input_tokens` is the part of it read from the provider's prompt cache.
 */
export const usageMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('model_calls')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('workspace_uri', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('input_tokens', 'integer', (c) => c.notNull())
      .addColumn('output_tokens', 'integer', (c) => c.notNull())
      .addColumn('cached_input_tokens', 'integer', (c) => c.notNull().defaultTo(0))
      // The CLI's own figure (claude's total_cost_usd); null when the caller prices the call.
      .addColumn('reported_cost_usd', 'real')
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    // Every report reads a time range.
    await db.schema.createIndex('model_calls_at').on('model_calls').column('at').execute();
    // ACP's usage_update after each turn reads one session's calls.
    await db.schema.createIndex('model_calls_session').on('model_calls').columns(['session_id', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('model_calls').execute();
  },
};
