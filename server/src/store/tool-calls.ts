import type { Kysely } from 'kysely';
import { rethrowForeignKey } from './database.js';
import type { NewToolCall, ToolCallRecord } from './records.js';
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
