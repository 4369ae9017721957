import { sql, type Kysely, type RawBuilder } from 'kysely';
import { proposalSyncTriggers } from './migration-sync.js';

/**
 * Widening or narrowing the proposal statuses (migrations 0004 and 0010). SQLite cannot alter a
 * CHECK, so the table is rebuilt inside the migration run's transaction with its rows (rowid order
 * kept: listProposals breaks created_at ties by it) and indexes. Nothing references proposals, so
 * the drop cascades nowhere. `schema` says which columns and triggers exist at that migration:
 * `evidence` from 0007, team sync's queueing triggers from 0008 (dropping a table drops its
 * triggers; copying rows into the new table fires none, so a rebuild queues nothing for the team).
 */
export async function rebuildProposals(
  db: Kysely<any>,
  statuses: readonly string[],
  copied: { status: RawBuilder<unknown>; detail: RawBuilder<unknown> },
  schema: { evidence: boolean; syncTriggers: boolean },
): Promise<void> {
  let table = db.schema
    .createTable('proposals_rebuilt')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in (${sql.join(statuses.map((status) => sql.lit(status)))})`))
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('diff', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text');
  if (schema.evidence) table = table.addColumn('evidence', 'text');
  await table.execute();
  const evidence = schema.evidence ? sql`, evidence` : sql``;
  await sql`
    INSERT INTO proposals_rebuilt (rowid, id, run_id, session_id, status, summary, files, diff, detail, created_at, decided_at${evidence})
    SELECT rowid, id, run_id, session_id, ${copied.status}, summary, files, diff, ${copied.detail}, created_at, decided_at${evidence} FROM proposals ORDER BY rowid`.execute(db);
  await db.schema.dropTable('proposals').execute();
  await sql`ALTER TABLE proposals_rebuilt RENAME TO proposals`.execute(db);
  await db.schema.createIndex('proposals_run').on('proposals').column('run_id').execute();
  await db.schema.createIndex('proposals_session_created').on('proposals').columns(['session_id', 'created_at']).execute();
  if (schema.syncTriggers) for (const trigger of proposalSyncTriggers()) await sql.raw(trigger).execute(db);
}
