import { sql, type Kysely } from 'kysely';
import { rethrowForeignKey } from './database.js';
import type { NewToolCall, ToolCallBrief, ToolCallRecord } from './records.js';
import type { Database, ToolCallRow } from './schema.js';

export async function recordToolCall(
  db: Kysely<Database>,
  input: NewToolCall,
): Promise<void> {
  await rethrowForeignKey(`Unknown run ${input.runId}`, () =>
    db
      .insertInto('tool_calls')
      .values({
        run_id: input.runId,
        call_id: input.callId,
        name: input.name,
        // `?? null` because JSON.stringify(undefined) is undefined, not a JSON text.
        arguments: JSON.stringify(input.args ?? null),
        result: input.result,
        is_error: input.isError ? 1 : 0,
        started_at: input.startedAt,
        finished_at: input.finishedAt,
      })
      .execute(),
  );
}

/** In the order they were recorded. */
export async function listToolCalls(
  db: Kysely<Database>,
  runId: string,
): Promise<ToolCallRecord[]> {
  const rows = await db
    .selectFrom('tool_calls')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('id', 'asc')
    .execute();
  return rows.map(toToolCallRecord);
}

/** How much of each result a brief carries: enough for a command's status line and its last lines. */
const RESULT_HEAD_CHARS = 1500;
const RESULT_TAIL_CHARS = 500;

/**
 * The tool calls of these runs, each run's oldest first, with only the ends of their results cut
 * in SQL, so a session of long file reads costs a follow-up little to load.
 */
export async function toolCallBriefs(db: Kysely<Database>, runIds: readonly string[]): Promise<Map<string, ToolCallBrief[]>> {
  const byRun = new Map<string, ToolCallBrief[]>();
  if (runIds.length === 0) return byRun;
  const rows = await db
    .selectFrom('tool_calls')
    .select([
      'run_id',
      'name',
      'arguments',
      'is_error',
      sql<string>`substr(result, 1, ${RESULT_HEAD_CHARS})`.as('result_head'),
      sql<string>`CASE WHEN length(result) > ${RESULT_HEAD_CHARS} THEN substr(result, -${RESULT_TAIL_CHARS}) ELSE '' END`.as('result_tail'),
      sql<number>`length(result)`.as('result_length'),
      sql<number>`CASE WHEN result = '' THEN 0 ELSE length(result) - length(replace(result, char(10), '')) + 1 END`.as('result_lines'),
    ])
    .where('run_id', 'in', runIds)
    .orderBy('run_id')
    .orderBy('id')
    .execute();
  for (const row of rows) {
    const briefs = byRun.get(row.run_id) ?? [];
    briefs.push({
      name: row.name,
      args: JSON.parse(row.arguments) as unknown,
      isError: row.is_error === 1,
      resultHead: row.result_head,
      resultTail: row.result_tail,
      resultLength: row.result_length,
      resultLines: row.result_lines,
    });
    byRun.set(row.run_id, briefs);
  }
  return byRun;
}

function toToolCallRecord(row: ToolCallRow): ToolCallRecord {
  return {
    id: row.id,
    runId: row.run_id,
    callId: row.call_id,
    name: row.name,
    args: JSON.parse(row.arguments) as unknown,
    result: row.result,
    isError: row.is_error === 1,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
