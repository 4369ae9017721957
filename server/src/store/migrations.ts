import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { provenanceMigration } from './migration-provenance.js';
import { rebuildProposals } from './proposals-rebuild.js';
import { revertMigration } from './migration-revert.js';
import { teamSync } from './migration-sync.js';
import { usageMigration } from './migration-usage.js';

/*
 * Migrations live in a static map rather than a scanned folder so a bundled server still finds
 * them. Names sort lexically, so keep the zero-padded prefix. Never edit a shipped migration: add
 * the next one.
 *
 * CHECK constraints pin the enums. Widening one later needs a table rebuild migration (SQLite cannot
 * alter a constraint); that cost is accepted so a bad status never reaches the UI.
 */

const initial: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('workspaces')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('uri', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'integer', (c) =>
        c.notNull().references('workspaces.id').onDelete('cascade'),
      )
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_message_preview', 'text', (c) => c.notNull().defaultTo(''))
      .execute();

    await db.schema
      .createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) =>
        c.notNull().references('sessions.id').onDelete('cascade'),
      )
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('instruction', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) =>
        c
          .notNull()
          .check(sql`status in ('running', 'completed', 'failed', 'cancelled', 'interrupted')`),
      )
      .addColumn('error', 'text')
      .addColumn('input_tokens', 'integer')
      .addColumn('output_tokens', 'integer')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('first_token_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('owner_pid', 'integer')
      .execute();

    // AUTOINCREMENT: ids are handed to clients (search hits) and must never be reused for another
    // message after a session is deleted; it also keeps rowid order equal to insertion order.
    await db.schema
      .createTable('messages')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('session_id', 'text', (c) =>
        c.notNull().references('sessions.id').onDelete('cascade'),
      )
      .addColumn('run_id', 'text', (c) => c.references('runs.id').onDelete('set null'))
      .addColumn('role', 'text', (c) =>
        c.notNull().check(sql`role in ('user', 'assistant', 'system')`),
      )
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('tool_calls')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('arguments', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('is_error', 'integer', (c) => c.notNull().check(sql`is_error in (0, 1)`))
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('proposals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('session_id', 'text', (c) =>
        c.notNull().references('sessions.id').onDelete('cascade'),
      )
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('proposed', 'applied', 'discarded', 'conflict')`),
      )
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('files', 'text', (c) => c.notNull())
      .addColumn('diff', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('decided_at', 'text')
      .execute();

    // Every foreign-key child column is indexed: cascades otherwise scan the whole child table.
    const indexes: Array<[name: string, table: string, columns: string[]]> = [
      ['sessions_workspace_updated', 'sessions', ['workspace_id', 'updated_at']],
      ['sessions_updated', 'sessions', ['updated_at']],
      ['messages_session_id', 'messages', ['session_id', 'id']],
      ['messages_run', 'messages', ['run_id']],
      ['runs_session_started', 'runs', ['session_id', 'started_at']],
      ['tool_calls_run', 'tool_calls', ['run_id', 'id']],
      ['proposals_run', 'proposals', ['run_id']],
      ['proposals_session_created', 'proposals', ['session_id', 'created_at']],
    ];
    for (const [name, table, columns] of indexes) {
      await db.schema.createIndex(name).on(table).columns(columns).execute();
    }
    // Start-up recovery looks only at live runs; a partial index keeps that O(running).
    await db.schema
      .createIndex('runs_running')
      .on('runs')
      .column('status')
      .where(sql.ref('status'), '=', 'running')
      .execute();

    // unicode61 with diacritics folded, so "cafe" finds "café"; `So` makes emoji searchable
    // tokens instead of separators.
    await sql`
      CREATE VIRTUAL TABLE messages_fts USING fts5(
        content,
        content = 'messages',
        content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co So'"
      )`.execute(db);
    // Without secure-delete, tokens of deleted messages linger in index segments until a merge;
    // deleting a session should really remove its text.
    await sql`INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1)`.execute(db);
    await sql`
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
      END`.execute(db);
    // Also fires for rows removed by ON DELETE CASCADE from sessions.
    await sql`
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
      END`.execute(db);
    // `OF content`: the run_id SET NULL cascade must not churn the index.
    await sql`
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
      END`.execute(db);
  },

  async down(db: Kysely<any>) {
    for (const trigger of ['messages_fts_update', 'messages_fts_delete', 'messages_fts_insert']) {
      await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)}`.execute(db);
    }
    await sql`DROP TABLE IF EXISTS messages_fts`.execute(db);
    // Children first; dropping a table drops its indexes.
    for (const table of ['proposals', 'tool_calls', 'messages', 'runs', 'sessions', 'workspaces']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};

/** CLI datasources keep their own conversation id so a follow-up ask can resume it. */
const externalSession: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('runs').addColumn('external_session_id', 'text').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('runs').dropColumn('external_session_id').execute();
  },
};

/**
 * Command policy and the audit log. Both key on the workspace URI as text, not on workspaces.id:
 * the audit must outlive deleted sessions, so it has no foreign keys at all, and triggers make it
 * append-only (an UPDATE or DELETE aborts).
 */
const commands: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('command_rules')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('workspace_uri', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('allow', 'deny')`))
      /** JSON array of words; a trailing "*" allows further arguments. */
      .addColumn('argv', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('command_rules_unique', ['workspace_uri', 'kind', 'argv'])
      .execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('workspace_uri', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) =>
        c.notNull().check(sql`kind in ('command-asked', 'command-approved', 'command-denied', 'command-run', 'proposal-applied')`),
      )
      .addColumn('session_id', 'text')
      .addColumn('run_id', 'text')
      /** The command text, or the proposal's summary. */
      .addColumn('subject', 'text', (c) => c.notNull())
      /** JSON object: { by, reason, exitCode, durationMs, proposalId, … } depending on kind. */
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_workspace').on('audit_log').columns(['workspace_uri', 'id']).execute();
    await sql`
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END`.execute(db);
    await sql`
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END`.execute(db);
  },
  async down(db: Kysely<any>) {
    await sql`DROP TRIGGER IF EXISTS audit_log_no_update`.execute(db);
    await sql`DROP TRIGGER IF EXISTS audit_log_no_delete`.execute(db);
    await db.schema.dropTable('audit_log').ifExists().execute();
    await db.schema.dropTable('command_rules').ifExists().execute();
  },
};

/**
 * `unconfirmed`: the editor answered `applied: true` but the server never saw the new text (a
 * table rebuild: proposals-rebuild.ts).
 */
/** The proposals table as it was at 0004: no evidence column (0007), no sync triggers (0008). */
const AT_0004 = { evidence: false, syncTriggers: false };

const proposalUnconfirmed: Migration = {
  async up(db: Kysely<any>) {
    await rebuildProposals(db, ['proposed', 'applied', 'unconfirmed', 'discarded', 'conflict'], { status: sql`status`, detail: sql`detail` }, AT_0004);
  },
  // The older schema has no such state: the editor said it applied the edit, so `applied`, with
  // the doubt kept in `detail`.
  async down(db: Kysely<any>) {
    await rebuildProposals(db, ['proposed', 'applied', 'discarded', 'conflict'], {
      status: sql`CASE status WHEN 'unconfirmed' THEN 'applied' ELSE status END`,
      detail: sql`CASE status WHEN 'unconfirmed' THEN 'unconfirmed: ' || coalesce(detail, 'the editor did not send the new text') ELSE detail END`,
    }, AT_0004);
  },
};

/**
 * What a provider's model turned out to support, remembered so the next ask starts right: a model
 * whose server refused tools starts in text mode (edit blocks) instead of failing first.
 */
const modelCapabilities: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('model_capabilities')
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('tools', 'text', (c) => c.notNull().check(sql`tools in ('native', 'text')`))
      .addColumn('noted_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_capabilities_pk', ['provider', 'model'])
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('model_capabilities').ifExists().execute();
  },
};

/**
 * Project memory: short facts per workspace. Keyed on the workspace URI as text (like
 * command_rules), and `run_id` (the run whose `remember` stored it) has no foreign key: a fact
 * outlives the session that made it. A fact can be forgotten (the row deleted), never silently
 * rewritten: a trigger refuses UPDATE.
 */
const memory: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('memory_facts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_uri', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('memory_facts_workspace').on('memory_facts').columns(['workspace_uri', 'created_at']).execute();
    await sql`
      CREATE TRIGGER memory_facts_no_update BEFORE UPDATE ON memory_facts BEGIN
        SELECT RAISE(ABORT, 'memory facts are never rewritten: remove one and add another');
      END`.execute(db);
  },
  async down(db: Kysely<any>) {
    await sql`DROP TRIGGER IF EXISTS memory_facts_no_update`.execute(db);
    await db.schema.dropTable('memory_facts').ifExists().execute();
  },
};

/**
 * The commands a run ran after its last edit and their exit codes, kept with its proposal so the
 * review and history can say what the change was checked with. Null for proposals made before.
 */
const proposalEvidence: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('proposals').addColumn('evidence', 'text').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('proposals').dropColumn('evidence').execute();
  },
};

export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_external_session': externalSession,
  '0003_commands': commands,
  '0004_proposal_unconfirmed': proposalUnconfirmed,
  '0005_model_capabilities': modelCapabilities,
  '0006_memory': memory,
  '0007_proposal_evidence': proposalEvidence,
  '0008_team_sync': teamSync,
  '0009_model_calls': usageMigration,
  '0010_proposal_reverted': revertMigration,
  '0011_proposal_provenance': provenanceMigration,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
