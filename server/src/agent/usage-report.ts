import type { ProviderConfig } from '../config/schema.js';
import type { Store, UsageKeyKind, UsagePart } from '../store/store.js';

/**
 * `codebench usage` and `codebench/usage`: the recorded model calls, summed per key and priced.
 *
 * Token convention (as the providers report them, see providers/types.ts `Usage`): inputTokens
 * counts every prompt token, cached ones included (OpenAI's prompt_tokens already does; for
 * Anthropic the three input counts are summed); cachedInputTokens is the part of it read from the
 * prompt cache. So a cached token is priced once: (input − cached) × input price + cached ×
 * cachedInput price (the input price when no cachedInput is set) + output × output price, all per
 * million. Anthropic's cache writes are priced as plain input. Ollama costs nothing, a provider
 * with no price (or no longer configured) costs 0, and a CLI's own reported cost replaces the
 * price for its calls.
 */

export type UsageGroupingKind = UsageKeyKind;

export const USAGE_GROUPINGS: readonly UsageGroupingKind[] = ['provider', 'model', 'day', 'session'];

export const DEFAULT_USAGE_SINCE = '30d';

export interface UsageFiguresReport {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** USD, unrounded. */
  costUsd: number;
}

export interface UsageReport {
  /** Ordered by key (days oldest first); only keys with calls. */
  rows: Array<UsageFiguresReport & { key: string }>;
  totals: UsageFiguresReport;
}

export type SinceParse = { ok: true; since: string } | { ok: false; message: string };

const DURATION = /^(\d+)([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;
/** A date, or a date and time; a bare number is not a date here (Date.parse would take "7" as 2001). */
const ISO_START = /^\d{4}-\d{2}-\d{2}(?:$|[T ])/;

/** `7d`, `24h`, `90m` back from now, or an ISO-8601 date or time; the start as ISO UTC. */
export function parseSince(value: string | undefined, now: Date = new Date()): SinceParse {
  const text = (value ?? DEFAULT_USAGE_SINCE).trim();
  const duration = DURATION.exec(text);
  if (duration) {
    return { ok: true, since: new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]).toISOString() };
  }
  const parsed = ISO_START.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(parsed)) return { ok: false, message: `"${text}" is not a duration or date: use 7d, 24h, 90m or an ISO-8601 date such as 2026-01-31` };
  return { ok: true, since: new Date(parsed).toISOString() };
}

export function isUsageGrouping(value: string): value is UsageGroupingKind {
  return (USAGE_GROUPINGS as readonly string[]).includes(value);
}

/** The cost of one part: its reported cost if it has one, else its tokens at the provider's price. */
export function costOf(part: Omit<UsagePart, 'key' | 'calls'>, provider: ProviderConfig | undefined): number {
  if (part.reportedCostUsd !== undefined) return part.reportedCostUsd;
  if (!provider || provider.kind === 'ollama' || !provider.price) return 0;
  const { input, output, cachedInput = input } = provider.price;
  const cached = Math.min(part.cachedInputTokens, part.inputTokens);
  return ((part.inputTokens - cached) * input + cached * cachedInput + part.outputTokens * output) / 1_000_000;
}

/** Sums the store's parts per key, each part priced with its own provider's price. */
export function priceUsage(parts: readonly UsagePart[], providers: Record<string, ProviderConfig>): UsageReport {
  const byKey = new Map<string, UsageFiguresReport & { key: string }>();
  const totals: UsageFiguresReport = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 };
  for (const part of parts) {
    const row = byKey.get(part.key) ?? { key: part.key, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 };
    const cost = costOf(part, providers[part.provider]);
    for (const figures of [row, totals]) {
      figures.inputTokens += part.inputTokens;
      figures.outputTokens += part.outputTokens;
      figures.cachedInputTokens += part.cachedInputTokens;
      figures.costUsd += cost;
    }
    byKey.set(part.key, row);
  }
  // Code-unit order, not locale order: ISO days sort oldest first and every client agrees.
  const rows = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rows, totals };
}

export type UsageQuery = { ok: true; report: UsageReport } | { ok: false; field: 'since' | 'by'; message: string };

/** The whole query: parameters checked, the store read, the result priced. */
export async function usageReport(
  store: Pick<Store, 'usageSince'>,
  providers: Record<string, ProviderConfig>,
  params: { since?: string; by?: string },
  now: Date = new Date(),
): Promise<UsageQuery> {
  const by = params.by ?? 'day';
  if (!isUsageGrouping(by)) return { ok: false, field: 'by', message: `"${by}" is not a grouping: use ${USAGE_GROUPINGS.join(', ')}` };
  const since = parseSince(params.since, now);
  if (!since.ok) return { ok: false, field: 'since', message: since.message };
  return { ok: true, report: priceUsage(await store.usageSince({ since: since.since, by }), providers) };
}

export interface SessionUsage {
  /** The session's calls so far, priced as `usageReport` prices them. */
  totals: UsageFiguresReport;
  /** The newest call: its prompt plus reply is what the model's context holds after the turn. */
  lastCall?: { provider: string; model: string; contextTokens: number };
}

/** One session's usage (ACP's usage_update after each turn). `since`: the session's creation, bounding the read by the time index. */
export async function sessionUsage(
  store: Pick<Store, 'usageSince' | 'lastModelCall'>,
  providers: Record<string, ProviderConfig>,
  session: { id: string; createdAt: string },
): Promise<SessionUsage> {
  const [parts, last] = await Promise.all([store.usageSince({ since: session.createdAt, by: 'session', sessionId: session.id }), store.lastModelCall(session.id)]);
  return {
    totals: priceUsage(parts, providers).totals,
    ...(last ? { lastCall: { provider: last.provider, model: last.model, contextTokens: last.inputTokens + last.outputTokens } } : {}),
  };
}
