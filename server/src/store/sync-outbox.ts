import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { now } from './clock.js';
import { writeSync } from './database.js';
import type { Database, SyncKind } from './schema.js';
import type { OutboxBatch, OutboxEntry, SharedMessage, SharedProposal, SharedRun, SharedSession } from './sync-records.js';

/**
 * The local half of pushing: which workspaces are shared, and the queue the triggers of migration
 * 0008 fill. Reads are synchronous (better-sqlite3) so a batch is one consistent snapshot.
 */

/** The records the outbox queues: their kind, table and the id the server knows them by. */
const QUEUED = [
  { kind: 'session', table: 'sessions', id: 'id' },
  { kind: 'run', table: 'runs', id: 'id' },
  { kind: 'message', table: 'messages', id: 'uid' },
  { kind: 'proposal', table: 'proposals', id: 'id' },
] as const;

/**
 * Marks the workspace shared under `identity` (or not shared, with undefined). Becoming shared, or
 * changing identity, queues everything it already holds, so history from before sync was set up
 * reaches the team too. Stopping drops what was still queued for it. True when something changed.
 */
export function shareWorkspace(db: Kysely<Database>, sqlite: SQLite.Database, uri: string, identity: string | undefined): boolean {
  return writeSync(sqlite, (tx) => {
    if (identity !== undefined) tx.run(db.insertInto('workspaces').values({ uri, created_at: now() }).onConflict((oc) => oc.column('uri').doNothing()));
    const row = tx.get(db.selectFrom('workspaces').select(['id', 'team_identity']).where('uri', '=', uri));
    if (!row || (row.team_identity ?? undefined) === identity) return false;
    tx.run(db.updateTable('workspaces').set({ team_identity: identity ?? null }).where('id', '=', row.id));
    for (const { kind, table, id } of QUEUED) {
      // This workspace's records of the kind.
      const from = kind === 'session' ? 'sessions WHERE workspace_id = ?' : `${table} WHERE session_id IN (SELECT id FROM sessions WHERE workspace_id = ?)`;
      if (identity === undefined) sqlite.prepare(`DELETE FROM sync_outbox WHERE kind = ? AND op = 'upsert' AND record_id IN (SELECT ${id} FROM ${from})`).run(kind, row.id);
      else sqlite.prepare(`INSERT OR REPLACE INTO sync_outbox (kind, record_id, op) SELECT '${kind}', ${id}, 'upsert' FROM ${from} AND ${id} IS NOT NULL`).run(row.id);
    }
    return true;
  });
}

/** Shared workspaces: uri and identity. */
export function sharedWorkspaces(sqlite: SQLite.Database): Array<{ uri: string; identity: string }> {
  return sqlite.prepare('SELECT uri, team_identity AS identity FROM workspaces WHERE team_identity IS NOT NULL ORDER BY uri').all() as Array<{ uri: string; identity: string }>;
}

export function newestOutboxSeq(sqlite: SQLite.Database): number {
  return (sqlite.prepare('SELECT max(seq) FROM sync_outbox').pluck().get() as number | null) ?? 0;
}

export function outboxSize(sqlite: SQLite.Database): number {
  return (sqlite.prepare('SELECT count(*) FROM sync_outbox').pluck().get() as number) ?? 0;
}

/** The oldest `limit` queued changes with their records (see OutboxBatch). */
export function outboxBatch(sqlite: SQLite.Database, limit: number): OutboxBatch {
  return sqlite.transaction((): OutboxBatch => {
    const rows = sqlite.prepare('SELECT seq, kind, record_id, op FROM sync_outbox ORDER BY seq LIMIT ?').all(limit) as Array<{ seq: number; kind: SyncKind; record_id: string; op: 'upsert' | 'delete' }>;
    const entries: OutboxEntry[] = rows.map((row) => ({ seq: row.seq, kind: row.kind, recordId: row.record_id, op: row.op }));
    const ids = (kind: SyncKind) => entries.filter((entry) => entry.kind === kind && entry.op === 'upsert').map((entry) => entry.recordId);
    const batch: OutboxBatch = {
      entries,
      sessions: selectIn(sqlite, SESSIONS_SQL, ids('session')).map(toSharedSession),
      runs: selectIn(sqlite, RUNS_SQL, ids('run')).map(toSharedRun),
      messages: selectIn(sqlite, MESSAGES_SQL, ids('message')).map(toSharedMessage),
      proposals: selectIn(sqlite, PROPOSALS_SQL, ids('proposal')).map(toSharedProposal),
      deletedSessions: entries.filter((entry) => entry.kind === 'session' && entry.op === 'delete').map((entry) => entry.recordId),
    };
    return batch;
  }).deferred();
}

/** Removes exactly these queue rows: a record changed since has a new seq and stays queued. */
export function completeOutbox(sqlite: SQLite.Database, seqs: number[]): void {
  const remove = sqlite.prepare('DELETE FROM sync_outbox WHERE seq = ?');
  sqlite.transaction(() => {
    for (const seq of seqs) remove.run(seq);
  }).immediate();
}

// Each query joins to the workspace so only records of a still-shared workspace leave the machine.
const SHARED_SESSION_JOIN = 'JOIN workspaces w ON w.id = s.workspace_id AND w.team_identity IS NOT NULL';
const SESSIONS_SQL = `SELECT s.*, w.team_identity AS workspace FROM sessions s ${SHARED_SESSION_JOIN} WHERE s.id IN (SELECT value FROM json_each(?))`;
const RUNS_SQL = `SELECT r.*, w.team_identity AS workspace FROM runs r JOIN sessions s ON s.id = r.session_id ${SHARED_SESSION_JOIN} WHERE r.id IN (SELECT value FROM json_each(?))`;
const MESSAGES_SQL = `SELECT m.*, w.team_identity AS workspace FROM messages m JOIN sessions s ON s.id = m.session_id ${SHARED_SESSION_JOIN} WHERE m.uid IN (SELECT value FROM json_each(?))`;
const PROPOSALS_SQL = `SELECT p.*, w.team_identity AS workspace FROM proposals p JOIN sessions s ON s.id = p.session_id ${SHARED_SESSION_JOIN} WHERE p.id IN (SELECT value FROM json_each(?))`;

type Row = Record<string, any>;

function selectIn(sqlite: SQLite.Database, query: string, ids: string[]): Row[] {
  return ids.length === 0 ? [] : (sqlite.prepare(query).all(JSON.stringify(ids)) as Row[]);
}

const optional = <T>(value: T | null): T | undefined => value ?? undefined;

function toSharedSession(row: Row): SharedSession {
  return {
    id: row.id, workspace: row.workspace, title: row.title, provider: row.provider,
    continuesSessionId: optional(row.continues_session_id), messageCount: row.message_count,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

function toSharedRun(row: Row): SharedRun {
  return {
    id: row.id, sessionId: row.session_id, workspace: row.workspace, provider: row.provider, model: row.model,
    instruction: row.instruction, status: row.status, error: optional(row.error), inputTokens: optional(row.input_tokens),
    outputTokens: optional(row.output_tokens), startedAt: row.started_at, firstTokenAt: optional(row.first_token_at),
    finishedAt: optional(row.finished_at),
  };
}

function toSharedMessage(row: Row): SharedMessage {
  return { id: row.uid, sessionId: row.session_id, runId: optional(row.run_id), workspace: row.workspace, role: row.role, content: row.content, createdAt: row.created_at };
}

function toSharedProposal(row: Row): SharedProposal {
  return {
    id: row.id, runId: row.run_id, sessionId: row.session_id, workspace: row.workspace, status: row.status,
    summary: row.summary, files: JSON.parse(row.files), diff: row.diff, detail: optional(row.detail),
    evidence: row.evidence === null ? undefined : JSON.parse(row.evidence), createdAt: row.created_at,
    decidedAt: optional(row.decided_at),
  };
}
