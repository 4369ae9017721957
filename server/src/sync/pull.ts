import { sql, type Kysely } from 'kysely';
import type { SyncTables, TeamRecords } from '../store/store.js';
import { SERVER_TABLES, type ServerDatabase, type ServerTable } from './server-tables.js';

/**
 * Pulls what changed on the server since the last pull, table by table, into the local `team_*`
 * tables. The cursor is (change_xid, id): the server stamps each write with its transaction id,
 * and a page only reaches up to the oldest transaction still running
 * (`pg_snapshot_xmin(pg_current_snapshot())`), so a transaction that commits late can never land
 * behind a cursor that already moved past it. Each page is saved with its cursor in one local
 * transaction.
 */

export const PULL_PAGE = 1000;
const START = '0:00000000-0000-0000-0000-000000000000';

type Row = Record<string, any>;

const iso = (value: Date | string | null | undefined): string | undefined =>
  value === null || value === undefined ? undefined : value instanceof Date ? value.toISOString() : new Date(value).toISOString();
const optional = <T>(value: T | null): T | undefined => value ?? undefined;

function toRecords(table: ServerTable, rows: Row[]): Partial<TeamRecords> {
  switch (table) {
    case 'sessions':
      return { sessions: rows.map((r) => ({
        id: r.id, workspace: r.workspace, author: r.author, title: r.title, provider: r.provider,
        continuesSessionId: optional(r.continues_session_id), messageCount: r.message_count,
        createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!, deletedAt: iso(r.deleted_at),
      })) };
    case 'runs':
      return { runs: rows.map((r) => ({
        id: r.id, sessionId: r.session_id, workspace: r.workspace, author: r.author, provider: r.provider, model: r.model,
        instruction: r.instruction, status: r.status, error: optional(r.error), inputTokens: optional(r.input_tokens),
        outputTokens: optional(r.output_tokens), startedAt: iso(r.started_at)!, firstTokenAt: iso(r.first_token_at), finishedAt: iso(r.finished_at),
      })) };
    case 'messages':
      return { messages: rows.map((r) => ({
        id: r.id, sessionId: r.session_id, runId: optional(r.run_id), workspace: r.workspace, author: r.author, role: r.role,
        content: r.content, createdAt: iso(r.created_at)!,
      })) };
    case 'proposals':
      return { proposals: rows.map((r) => ({
        id: r.id, runId: r.run_id, sessionId: r.session_id, workspace: r.workspace, author: r.author, status: r.status,
        summary: r.summary, files: r.files, diff: r.diff, detail: optional(r.detail), evidence: optional(r.evidence),
        createdAt: iso(r.created_at)!, decidedAt: iso(r.decided_at),
      })) };
  }
}

function parseCursor(value: string | undefined): { xid: string; id: string } {
  const [xid, id] = (value ?? START).split(':') as [string, string];
  return { xid, id };
}

/**
 * Pulls every table to the present. `keep` decides which workspaces' records are stored (the
 * share globs); the cursor moves past the others too. Returns how many records were stored.
 */
export async function pullChanges(server: Kysely<ServerDatabase>, tables: SyncTables, keep: (workspace: string) => boolean): Promise<number> {
  let stored = 0;
  for (const table of SERVER_TABLES) {
    for (;;) {
      const key = `pull.${table}`;
      const cursor = parseCursor(tables.state()[key]);
      const page = await sql<Row & { cursor_xid: string }>`
        SELECT t.*, t.change_xid::text AS cursor_xid FROM ${sql.table(`codebench.${table}`)} t
        WHERE (t.change_xid, t.id) > (${cursor.xid}::xid8, ${cursor.id}::uuid)
          AND t.change_xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY t.change_xid, t.id
        LIMIT ${PULL_PAGE}`.execute(server);
      const rows = page.rows;
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]!;
      const kept = rows.filter((row) => keep(row.workspace));
      stored += tables.saveTeamRecords(toRecords(table, kept), { [key]: `${last.cursor_xid}:${last.id}` });
      if (rows.length < PULL_PAGE) break;
    }
  }
  return stored;
}
