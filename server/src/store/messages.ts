import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { now } from './clock.js';
import { rethrowForeignKey, writeSync } from './database.js';
import {
  SNIPPET_CLOSE,
  SNIPPET_ELLIPSIS,
  SNIPPET_OPEN,
  type MessageRecord,
  type MessageRole,
  type SearchHit,
} from './records.js';
import type { Database, MessageRow } from './schema.js';
import { clampLimit } from './sessions.js';
import { findWorkspace } from './workspaces.js';

const PREVIEW_CHARS = 160;
const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 200;
/** Tokens of context in a snippet (FTS5 allows at most 64). */
const SNIPPET_TOKENS = 16;
/** More terms only slow the AND down; a pasted paragraph is not a useful query. */
const MAX_QUERY_TERMS = 32;

/**
 * Inserts the message and updates the session's counters in one transaction, so the session list
 * (which reads only the sessions row) can never disagree with the messages.
 */
export function addMessage(
  db: Kysely<Database>,
  sqlite: SQLite.Database,
  input: { sessionId: string; runId?: string; role: MessageRole; content: string },
): MessageRecord {
  const timestamp = now();
  const row = rethrowForeignKey(`Unknown run ${input.runId ?? ''}`, () =>
    writeSync(sqlite, (tx) => {
      const touched = tx.run(
        db
          .updateTable('sessions')
          .set((eb) => ({
            updated_at: timestamp,
            message_count: eb('message_count', '+', 1),
            last_message_preview: preview(input.content),
          }))
          .where('id', '=', input.sessionId),
      );
      if (touched === 0) throw new Error(`Unknown session ${input.sessionId}`);
      return tx.get(
        db
          .insertInto('messages')
          .values({
            session_id: input.sessionId,
            run_id: input.runId ?? null,
            role: input.role,
            content: input.content,
            created_at: timestamp,
            uid: randomUUID(),
          })
          .returningAll(),
      );
    }),
  );
  if (!row) throw new Error(`Inserting a message into session ${input.sessionId} returned no row`);
  return toMessageRecord(row);
}

/**
 * Oldest first. `before` (a message id) keeps only older messages, and `limit` the newest `limit`
 * of those, still oldest first: the page that ends just before `before`. Ids only grow, so a page
 * stays put while new messages arrive.
 */
export async function listMessages(
  db: Kysely<Database>,
  sessionId: string,
  page: { limit?: number; before?: number } = {},
): Promise<MessageRecord[]> {
  let query = db
    .selectFrom('messages')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('id', page.limit === undefined ? 'asc' : 'desc');
  if (page.before !== undefined) query = query.where('id', '<', page.before);
  if (page.limit !== undefined) query = query.limit(page.limit);
  const rows = await query.execute();
  if (page.limit !== undefined) rows.reverse();
  return rows.map(toMessageRecord);
}

/** The newest `limit` messages, oldest first: a continued session's context without reading it all. */
export async function recentMessages(db: Kysely<Database>, sessionId: string, limit: number): Promise<MessageRecord[]> {
  const rows = await db
    .selectFrom('messages')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse().map(toMessageRecord);
}

/** Each run's final text (its assistant messages, joined), for a follow-up's summary of earlier turns. */
export async function answersOfRuns(db: Kysely<Database>, runIds: readonly string[]): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  if (runIds.length === 0) return answers;
  const rows = await db
    .selectFrom('messages')
    .select(['run_id', 'content'])
    .where('run_id', 'in', runIds)
    .where('role', '=', 'assistant')
    .orderBy('id')
    .execute();
  for (const row of rows) {
    const earlier = answers.get(row.run_id!);
    answers.set(row.run_id!, earlier === undefined ? row.content : `${earlier}\n\n${row.content}`);
  }
  return answers;
}

interface SearchRow {
  id: number;
  session_id: string;
  session_title: string;
  role: MessageRole;
  snippet: string;
  created_at: string;
  run_id: string | null;
}

/**
 * Full-text search, newest first. Ranking by bm25 costs ~1 s on a million messages for a common
 * term and blocks the event loop; rowid order stops after `limit` index hits.
 */
export async function searchMessages(
  db: Kysely<Database>,
  input: { query: string; limit?: number; workspaceUri?: string },
): Promise<SearchHit[]> {
  const match = toMatchExpression(input.query);
  if (match === undefined) return [];
  let scope = sql``;
  if (input.workspaceUri !== undefined) {
    const workspace = await findWorkspace(db, input.workspaceUri);
    if (!workspace) return [];
    scope = sql`AND s.workspace_id = ${workspace.id}`;
  }
  const limit = clampLimit(input.limit, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
  // CROSS JOIN pins the FTS table as the outer loop, so SQLite walks the index newest-first and
  // stops at the limit instead of materialising every match of a workspace and sorting.
  const { rows } = await sql<SearchRow>`
    SELECT m.id, m.session_id, s.title AS session_title, m.role, m.created_at, m.run_id,
      snippet(messages_fts, 0, ${SNIPPET_OPEN}, ${SNIPPET_CLOSE}, ${SNIPPET_ELLIPSIS}, ${SNIPPET_TOKENS})
        AS snippet
    FROM messages_fts
    CROSS JOIN messages AS m ON m.id = messages_fts.rowid
    CROSS JOIN sessions AS s ON s.id = m.session_id
    WHERE messages_fts MATCH ${match} ${scope}
    ORDER BY messages_fts.rowid DESC
    LIMIT ${limit}`.execute(db);
  return rows.map((row) => ({
    messageId: row.id,
    sessionId: row.session_id,
    sessionTitle: row.session_title,
    role: row.role,
    snippet: collapseWhitespace(row.snippet),
    createdAt: row.created_at,
    runId: row.run_id ?? undefined,
  }));
}

/**
 * Turns user text into an FTS5 expression that cannot be a syntax error: every whitespace-separated
 * term becomes a quoted string (inner quotes doubled), so `OR`, `NEAR`, `(`, `:` and `-` are plain
 * text, and terms are ANDed. A term ending in `*` after a letter or digit stays a prefix query
 * (`refact*`). Control characters go: FTS5 reads NUL as the end of the query.
 * Returns undefined when nothing searchable is left.
 */
export function toMatchExpression(query: string): string | undefined {
  const terms = query.replace(/[\u0000-\u001f\u007f]/g, ' ').split(/\s+/u).filter(Boolean);
  if (terms.length === 0) return undefined;
  return terms
    .slice(0, MAX_QUERY_TERMS)
    .map((term) => {
      const prefix = /^(.*[\p{L}\p{N}])\*+$/u.exec(term)?.[1];
      const text = prefix ?? term;
      return `"${text.replaceAll('"', '""')}"${prefix === undefined ? '' : '*'}`;
    })
    .join(' ');
}

/** A session list's preview of a message: whitespace collapsed, at most 160 code points. */
export function preview(content: string): string {
  // Slice before collapsing so a megabyte paste costs nothing; by code point so an emoji is not
  // cut in half (a lone surrogate would be stored as U+FFFD).
  const head = collapseWhitespace(content.slice(0, PREVIEW_CHARS * 4).replace(/[\uD800-\uDBFF]$/, ''));
  return Array.from(head).slice(0, PREVIEW_CHARS).join('');
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

function toMessageRecord(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    runId: row.run_id ?? undefined,
    role: row.role,
    content: row.content,
    createdAt: row.created_at,
  };
}
