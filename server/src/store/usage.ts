import { sql, type Kysely } from 'kysely';
import { now } from './clock.js';
import type { Database } from './schema.js';

/** One model call as the agent reports it. */
export interface NewModelCall {
  runId: string;
  sessionId: string;
  workspaceUri: string;
  /** The provider that answered (with a fallback chain, not necessarily the configured one). */
  provider: string;
  model: string;
  /** Every prompt token, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, those read from the prompt cache. */
  cachedInputTokens?: number;
  /** A CLI's own cost figure, which wins over configured prices. */
  reportedCostUsd?: number;
  /** Default: now. */
  at?: string;
}

export type UsageKeyKind = 'provider' | 'model' | 'day' | 'session';

/**
 * Token sums of one key, for one provider and model, kept apart by whether the calls came with a
 * reported cost: the caller prices the rest, so a key spanning providers (a day, a session) is
 * handed back in as many parts as it has priced differently.
 */
export interface UsagePart {
  key: string;
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Sum of the reported costs; undefined for calls that reported none. */
  reportedCostUsd?: number;
}

export async function recordModelCall(db: Kysely<Database>, input: NewModelCall): Promise<void> {
  await db
    .insertInto('model_calls')
    .values({
      run_id: input.runId,
      session_id: input.sessionId,
      workspace_uri: input.workspaceUri,
      provider: input.provider,
      model: input.model,
      input_tokens: input.inputTokens,
      output_tokens: input.outputTokens,
      cached_input_tokens: input.cachedInputTokens ?? 0,
      reported_cost_usd: input.reportedCostUsd ?? null,
      at: input.at ?? now(),
    })
    .execute();
}

/** The key each grouping sums under; days are UTC, read off the ISO timestamp. */
function keyExpression(by: UsageKeyKind) {
  switch (by) {
    case 'provider':
      return sql<string>`provider`;
    case 'model':
      return sql<string>`provider || '/' || model`;
    case 'day':
      return sql<string>`substr(at, 1, 10)`;
    case 'session':
      return sql<string>`session_id`;
  }
}

/**
 * Calls at or after `since` (ISO-8601 UTC), of one session when `sessionId` is given, summed per
 * key, provider, model and reported-or-not; ordered by key.
 */
export async function usageSince(db: Kysely<Database>, input: { since: string; by: UsageKeyKind; sessionId?: string }): Promise<UsagePart[]> {
  const key = keyExpression(input.by);
  const reported = sql<number>`reported_cost_usd is not null`;
  const rows = await db
    .selectFrom('model_calls')
    .select([
      key.as('key'),
      'provider',
      'model',
      reported.as('reported'),
      sql<number>`count(*)`.as('calls'),
      sql<number>`sum(input_tokens)`.as('input_tokens'),
      sql<number>`sum(output_tokens)`.as('output_tokens'),
      sql<number>`sum(cached_input_tokens)`.as('cached_input_tokens'),
      sql<number | null>`sum(reported_cost_usd)`.as('reported_cost_usd'),
    ])
    .where('at', '>=', input.since)
    .$if(input.sessionId !== undefined, (query) => query.where('session_id', '=', input.sessionId!))
    .groupBy([key, 'provider', 'model', reported])
    .orderBy(key)
    .orderBy('provider')
    .orderBy('model')
    .execute();
  return rows.map((row) => ({
    key: row.key,
    provider: row.provider,
    model: row.model,
    calls: row.calls,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedInputTokens: row.cached_input_tokens,
    ...(row.reported ? { reportedCostUsd: row.reported_cost_usd ?? 0 } : {}),
  }));
}

/** The newest call of a session: its prompt and reply are what the model's context holds now. */
export async function lastModelCall(
  db: Kysely<Database>,
  sessionId: string,
): Promise<{ provider: string; model: string; inputTokens: number; outputTokens: number; cachedInputTokens: number } | undefined> {
  const row = await db
    .selectFrom('model_calls')
    .select(['provider', 'model', 'input_tokens', 'output_tokens', 'cached_input_tokens'])
    .where('session_id', '=', sessionId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && { provider: row.provider, model: row.model, inputTokens: row.input_tokens, outputTokens: row.output_tokens, cachedInputTokens: row.cached_input_tokens };
}
