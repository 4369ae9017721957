import { sql, type Kysely, type Migration } from 'kysely';

/*
 * Team sync (migration 0008). Local SQLite stays the source of truth; what a shared workspace
 * writes is queued in `sync_outbox` by triggers, so the queue entry is in the same transaction as
 * the write by construction: no code path can store a record and forget to queue it.
 *
 * The outbox holds one row per record (UNIQUE kind+record_id); a change replaces the row and so
 * gets a new `seq`. A push deletes exactly the seqs it sent once the server committed them, so a
 * change made while a push was in flight stays queued.
 *
 * Teammates' records land in separate `team_*` tables: read-only copies without foreign keys
 * (they arrive in any order), never queued, never mixed into the user's own history or search.
 */

/** A v4 UUID in SQL, for messages stored before they had one. */
const UUID_SQL = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

/** The shared workspace's identity for a session id, or NULL: the condition of every queueing trigger. */
const sessionShared = (sessionId: string) =>
  `(SELECT w.team_identity FROM sessions s JOIN workspaces w ON w.id = s.workspace_id WHERE s.id = ${sessionId}) IS NOT NULL`;

function queueTriggers(table: string, kind: string, idColumn: string, condition: string): string[] {
  return ['INSERT', 'UPDATE'].map(
    (event) => `
      CREATE TRIGGER ${table}_sync_${event.toLowerCase()} AFTER ${event} ON ${table}
      WHEN ${condition}
      BEGIN
        INSERT OR REPLACE INTO sync_outbox (kind, record_id, op) VALUES ('${kind}', NEW.${idColumn}, 'upsert');
      END`,
  );
}

const TEAM_TABLES = `
  CREATE TABLE team_sessions (
    id TEXT PRIMARY KEY, workspace TEXT NOT NULL, author TEXT NOT NULL, title TEXT NOT NULL,
    provider TEXT NOT NULL, continues_session_id TEXT, message_count INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX team_sessions_workspace ON team_sessions (workspace, updated_at);
  CREATE TABLE team_runs (
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL, author TEXT NOT NULL, provider TEXT NOT NULL,
    model TEXT NOT NULL, instruction TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
    input_tokens INTEGER, output_tokens INTEGER, started_at TEXT NOT NULL, first_token_at TEXT,
    finished_at TEXT);
  CREATE INDEX team_runs_session ON team_runs (session_id);
  CREATE TABLE team_messages (
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL, run_id TEXT, author TEXT NOT NULL,
    role TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE INDEX team_messages_session ON team_messages (session_id, created_at);
  CREATE TABLE team_proposals (
    id TEXT PRIMARY KEY, run_id TEXT NOT NULL, session_id TEXT NOT NULL, author TEXT NOT NULL,
    status TEXT NOT NULL, summary TEXT NOT NULL, files TEXT NOT NULL, diff TEXT NOT NULL,
    detail TEXT, evidence TEXT, created_at TEXT NOT NULL, decided_at TEXT);
  CREATE INDEX team_proposals_session ON team_proposals (session_id)`;

const TRIGGERS = [
  ...queueTriggers('sessions', 'session', 'id', '(SELECT team_identity FROM workspaces WHERE id = NEW.workspace_id) IS NOT NULL'),
  ...queueTriggers('runs', 'run', 'id', sessionShared('NEW.session_id')),
  // store/messages.ts always sets uid; the guard keeps a stray NULL from failing the user's write.
  ...queueTriggers('messages', 'message', 'uid', `NEW.uid IS NOT NULL AND ${sessionShared('NEW.session_id')}`),
  ...queueTriggers('proposals', 'proposal', 'id', sessionShared('NEW.session_id')),
  // A deleted session is deleted on the server too (with its runs, messages and proposals there).
  // BEFORE, so the workspace join still sees the row.
  `CREATE TRIGGER sessions_sync_delete BEFORE DELETE ON sessions
   WHEN (SELECT team_identity FROM workspaces WHERE id = OLD.workspace_id) IS NOT NULL
   BEGIN
     INSERT OR REPLACE INTO sync_outbox (kind, record_id, op) VALUES ('session', OLD.id, 'delete');
   END`,
];

/**
 * The queueing triggers of `proposals`, for a migration that rebuilds that table (dropping a table
 * drops its triggers): the same SQL 0008 created.
 */
export function proposalSyncTriggers(): string[] {
  return queueTriggers('proposals', 'proposal', 'id', sessionShared('NEW.session_id'));
}

const TRIGGER_NAMES = ['sessions', 'runs', 'messages', 'proposals'].flatMap((table) => [`${table}_sync_insert`, `${table}_sync_update`]).concat('sessions_sync_delete');

export const teamSync: Migration = {
  async up(db: Kysely<any>) {
    await sql.raw('ALTER TABLE messages ADD COLUMN uid TEXT').execute(db);
    await sql.raw(`UPDATE messages SET uid = ${UUID_SQL} WHERE uid IS NULL`).execute(db);
    await sql.raw('CREATE UNIQUE INDEX messages_uid ON messages (uid)').execute(db);
    await sql.raw('ALTER TABLE workspaces ADD COLUMN team_identity TEXT').execute(db);
    await sql.raw('ALTER TABLE sessions ADD COLUMN continues_session_id TEXT').execute(db);
    await sql
      .raw(
        `CREATE TABLE sync_outbox (
           seq INTEGER PRIMARY KEY AUTOINCREMENT,
           kind TEXT NOT NULL CHECK (kind IN ('session', 'run', 'message', 'proposal')),
           record_id TEXT NOT NULL,
           op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
           UNIQUE (kind, record_id))`,
      )
      .execute(db);
    await sql.raw('CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)').execute(db);
    for (const statement of TEAM_TABLES.split(';')) await sql.raw(statement).execute(db);
    for (const trigger of TRIGGERS) await sql.raw(trigger).execute(db);
  },
  async down(db: Kysely<any>) {
    for (const name of TRIGGER_NAMES) await sql.raw(`DROP TRIGGER IF EXISTS ${name}`).execute(db);
    for (const table of ['team_proposals', 'team_messages', 'team_runs', 'team_sessions', 'sync_state', 'sync_outbox']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
    await sql.raw('DROP INDEX IF EXISTS messages_uid').execute(db);
    await db.schema.alterTable('messages').dropColumn('uid').execute();
    await db.schema.alterTable('workspaces').dropColumn('team_identity').execute();
    await db.schema.alterTable('sessions').dropColumn('continues_session_id').execute();
  },
};
