import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { now } from './clock.js';
import { processAlive } from './process-alive.js';
import { rethrowForeignKey } from './database.js';
import type { RunEnding, RunRecord } from './records.js';
import type { Database, RunRow } from './schema.js';

export const INTERRUPTED_ERROR = 'The server stopped before the run finished.';

export async function createRun(
  db: Kysely<Database>,
  input: { sessionId: string; provider: string; model: string; instruction: string },
): Promise<RunRecord> {
  const row = await rethrowForeignKey(`Unknown session ${input.sessionId}`, () =>
    db
      .insertInto('runs')
      .values({
        id: randomUUID(),
        session_id: input.sessionId,
        provider: input.provider,
        model: input.model,
        instruction: input.instruction,
        status: 'running',
        started_at: now(),
        owner_pid: process.pid,
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toRunRecord(row);
}

/**
 * Records the outcome. Deliberately not limited to 'running' rows: if another window's start-up
 * wrongly took this run for interrupted, the real outcome wins.
 */
export async function finishRun(
  db: Kysely<Database>,
  id: string,
  input: RunEnding,
): Promise<void> {
  const result = await db
    .updateTable('runs')
    .set({
      status: input.status,
      error: input.error ?? null,
      input_tokens: input.inputTokens ?? null,
      output_tokens: input.outputTokens ?? null,
      finished_at: now(),
      ...(input.provider === undefined ? {} : { provider: input.provider }),
      ...(input.model === undefined ? {} : { model: input.model }),
      ...(input.firstTokenAt === undefined ? {} : { first_token_at: input.firstTokenAt }),
      ...(input.externalSessionId === undefined ? {} : { external_session_id: input.externalSessionId }),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new Error(`Unknown run ${id}`);
}

/**
 * Start-up recovery: runs left 'running' by a server that crashed or was killed become
 * 'interrupted'. Several editor windows can share one database, so a run whose owning process is
 * still alive is left alone. A row carrying this process's own pid can only come from an earlier
 * process that had the same pid, because nothing has started yet when this runs.
 */
export async function markInterruptedRuns(db: Kysely<Database>): Promise<number> {
  const owners = await db
    .selectFrom('runs')
    .select('owner_pid')
    .distinct()
    .where('status', '=', 'running')
    .execute();
  const deadPids = owners
    .map((row) => row.owner_pid)
    .filter((pid): pid is number => pid !== null && !isProcessAlive(pid));
  const withoutOwner = owners.some((row) => row.owner_pid === null);
  if (deadPids.length === 0 && !withoutOwner) return 0;
  const result = await db
    .updateTable('runs')
    .set({ status: 'interrupted', error: INTERRUPTED_ERROR, finished_at: now() })
    .where('status', '=', 'running')
    .where((eb) =>
      eb.or([
        eb('owner_pid', 'is', null),
        ...(deadPids.length > 0 ? [eb('owner_pid', 'in', deadPids)] : []),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * At process exit (the editor closed stdin or died, and vscode-languageserver calls
 * `process.exit`), this process's own runs become 'interrupted' at once instead of waiting for the
 * next start-up. Synchronous on purpose: it runs inside an 'exit' handler.
 */
export function interruptOwnRunsSync(sqlite: SQLite.Database): number {
  return sqlite
    .prepare("UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE status = 'running' AND owner_pid = ?")
    .run(INTERRUPTED_ERROR, now(), process.pid).changes;
}

function isProcessAlive(pid: number): boolean {
  return pid !== process.pid && processAlive(pid);
}

export async function getRun(db: Kysely<Database>, id: string): Promise<RunRecord | undefined> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRunRecord(row);
}

/** Oldest first. */
export async function listRuns(db: Kysely<Database>, sessionId: string): Promise<RunRecord[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('started_at', 'asc')
    .orderBy(sql`rowid`, 'asc')
    .execute();
  return rows.map(toRunRecord);
}

/** The newest `limit` runs of a session, oldest first, and how many it has in all. */
export async function recentRuns(db: Kysely<Database>, sessionId: string, limit: number): Promise<{ runs: RunRecord[]; total: number }> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('started_at', 'desc')
    .orderBy(sql`rowid`, 'desc')
    .limit(limit)
    .execute();
  let total = rows.length;
  if (rows.length === limit) {
    const counted = await db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('count')).where('session_id', '=', sessionId).executeTakeFirstOrThrow();
    total = Number(counted.count);
  }
  return { runs: rows.reverse().map(toRunRecord), total };
}

function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    provider: row.provider,
    model: row.model,
    instruction: row.instruction,
    status: row.status,
    error: row.error ?? undefined,
    inputTokens: row.input_tokens ?? undefined,
    outputTokens: row.output_tokens ?? undefined,
    startedAt: row.started_at,
    firstTokenAt: row.first_token_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    externalSessionId: row.external_session_id ?? undefined,
  };
}

/** The newest CLI session id a provider left in this session, to resume its conversation. */
export async function lastExternalSessionId(db: Kysely<Database>, sessionId: string, provider: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('runs')
    .select('external_session_id')
    .where('session_id', '=', sessionId)
    .where('provider', '=', provider)
    .where('external_session_id', 'is not', null)
    .orderBy('started_at', 'desc')
    .orderBy(sql`rowid`, 'desc')
    .executeTakeFirst();
  return row?.external_session_id ?? undefined;
}
