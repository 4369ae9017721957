import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { now } from './clock.js';
import { writeSync } from './database.js';
import type { SessionRecord } from './records.js';
import type { Database, SessionRow } from './schema.js';
import { ensureWorkspace, findWorkspace } from './workspaces.js';

export const DEFAULT_SESSION_LIMIT = 50;
export const MAX_SESSION_LIMIT = 1000;

export async function createSession(
  db: Kysely<Database>,
  input: { workspaceUri: string; title: string; provider: string; id?: string; continuesSessionId?: string },
): Promise<SessionRecord> {
  const workspace = await ensureWorkspace(db, input.workspaceUri);
  const timestamp = now();
  const row = await db
    .insertInto('sessions')
    .values({
      id: input.id ?? randomUUID(),
      workspace_id: workspace.id,
      title: input.title,
      provider: input.provider,
      created_at: timestamp,
      updated_at: timestamp,
      continues_session_id: input.continuesSessionId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSessionRecord(row, workspace.uri);
}

function selectSessions(db: Kysely<Database>) {
  return db
    .selectFrom('sessions')
    .innerJoin('workspaces', 'workspaces.id', 'sessions.workspace_id')
    .selectAll('sessions')
    .select('workspaces.uri as workspace_uri');
}

export async function getSession(
  db: Kysely<Database>,
  id: string,
): Promise<SessionRecord | undefined> {
  const row = await selectSessions(db).where('sessions.id', '=', id).executeTakeFirst();
  return row && toSessionRecord(row, row.workspace_uri);
}

/** Most recently active first. */
export async function listSessions(
  db: Kysely<Database>,
  input: { workspaceUri?: string; limit?: number },
): Promise<SessionRecord[]> {
  let query = selectSessions(db)
    .orderBy('sessions.updated_at', 'desc')
    // Another process can write the same millisecond; fall back to creation order.
    .orderBy(sql`sessions.rowid`, 'desc')
    .limit(clampLimit(input.limit, DEFAULT_SESSION_LIMIT, MAX_SESSION_LIMIT));
  if (input.workspaceUri !== undefined) {
    const workspace = await findWorkspace(db, input.workspaceUri);
    if (!workspace) return [];
    query = query.where('sessions.workspace_id', '=', workspace.id);
  }
  const rows = await query.execute();
  return rows.map((row) => toSessionRecord(row, row.workspace_uri));
}

/** Cascades to messages (and their search index entries), runs, tool calls and proposals. */
export async function deleteSession(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Deletes a session that holds nothing but the user's own words: no assistant or system message,
 * no tool call, no proposal, no run still going. For a first ask that failed before anything was
 * answered, so history keeps no empty sessions. Checked and deleted in one write transaction, so
 * a run that stores something meanwhile keeps the session. True when deleted.
 */
export function deleteSessionIfUnanswered(db: Kysely<Database>, sqlite: SQLite.Database, id: string): boolean {
  return writeSync(sqlite, (tx) => {
    const answered = tx.get(db.selectFrom('messages').select('id').where('session_id', '=', id).where('role', '!=', 'user').limit(1));
    const running = tx.get(db.selectFrom('runs').select('id').where('session_id', '=', id).where('status', '=', 'running').limit(1));
    const toolCall = tx.get(
      db.selectFrom('tool_calls').innerJoin('runs', 'runs.id', 'tool_calls.run_id').select('tool_calls.id').where('runs.session_id', '=', id).limit(1),
    );
    const proposal = tx.get(db.selectFrom('proposals').select('id').where('session_id', '=', id).limit(1));
    if (answered || running || toolCall || proposal) return false;
    return tx.run(db.deleteFrom('sessions').where('id', '=', id)) > 0;
  });
}

export function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}

function toSessionRecord(row: SessionRow, workspaceUri: string): SessionRecord {
  return {
    id: row.id,
    workspaceUri,
    title: row.title,
    provider: row.provider,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    messageCount: row.message_count,
    lastMessagePreview: row.last_message_preview,
    ...(row.continues_session_id ? { continuesSessionId: row.continues_session_id } : {}),
  };
}

/** Sessions opened before their first message (ACP's session/new) get their title later. */
export async function setSessionTitle(db: Kysely<Database>, id: string, title: string): Promise<void> {
  const result = await db.updateTable('sessions').set({ title }).where('id', '=', id).executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new Error(`Unknown session ${id}`);
}
