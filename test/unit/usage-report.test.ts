import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../server/src/config/schema.js';
import { costOf, parseSince, priceUsage, usageReport } from '../../server/src/agent/usage-report.js';
import { modelCallRecorder } from '../../server/src/agent/usage-recorder.js';
import type { Store } from '../../server/src/store/store.js';
import type { UsagePart } from '../../server/src/store/store.js';

/** Pricing the recorded calls, and the `since` and `by` parameters. */

const PROVIDERS: Record<string, ProviderConfig> = {
  hosted: { kind: 'anthropic', model: 'claude-x', price: { input: 3, output: 15, cachedInput: 0.3 } },
  openai: { kind: 'openai', model: 'gpt-x', price: { input: 2, output: 8 } },
  local: { kind: 'ollama', model: 'qwen', price: { input: 100, output: 100 } },
  unpriced: { kind: 'openai-compatible', model: 'm' },
  claude: { kind: 'claude-cli', model: 'default', price: { input: 3, output: 15 } },
};

const part = (values: Partial<UsagePart>): UsagePart => ({ key: 'k', provider: 'hosted', model: 'claude-x', calls: 1, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, ...values });

describe('costOf', () => {
  it('prices cached tokens once, at the cached price, and the rest of the input at the input price', () => {
    // 1,000,000 input of which 800,000 cached: 200,000 × $3 + 800,000 × $0.3 + 100,000 × $15, per million.
    expect(costOf(part({ inputTokens: 1_000_000, cachedInputTokens: 800_000, outputTokens: 100_000 }), PROVIDERS.hosted)).toBeCloseTo(0.6 + 0.24 + 1.5, 12);
  });

  it('prices cached tokens at the input price when no cachedInput price is set', () => {
    expect(costOf(part({ provider: 'openai', inputTokens: 1_000_000, cachedInputTokens: 500_000, outputTokens: 0 }), PROVIDERS.openai)).toBeCloseTo(2, 12);
  });

  it('charges nothing for ollama (even with a price), unpriced or unknown providers', () => {
    expect(costOf(part({ inputTokens: 5_000, outputTokens: 5_000 }), PROVIDERS.local)).toBe(0);
    expect(costOf(part({ inputTokens: 5_000, outputTokens: 5_000 }), PROVIDERS.unpriced)).toBe(0);
    expect(costOf(part({ inputTokens: 5_000, outputTokens: 5_000 }), undefined)).toBe(0);
  });

  it('takes a CLI’s reported cost over the configured price', () => {
    expect(costOf(part({ inputTokens: 1_000_000, outputTokens: 0, reportedCostUsd: 0.0123 }), PROVIDERS.claude)).toBe(0.0123);
  });
});

describe('priceUsage', () => {
  it('sums a key’s parts, each at its own provider’s price, ordered by key, with totals', () => {
    const report = priceUsage(
      [
        part({ key: '2026-03-02', provider: 'openai', inputTokens: 1_000_000, outputTokens: 0 }),
        part({ key: '2026-03-01', provider: 'claude', inputTokens: 10, outputTokens: 5, reportedCostUsd: 0.5 }),
        part({ key: '2026-03-01', provider: 'claude', inputTokens: 1_000_000, outputTokens: 0 }),
        part({ key: '2026-03-01', provider: 'local', inputTokens: 7, outputTokens: 3 }),
      ],
      PROVIDERS,
    );
    expect(report.rows.map((row) => row.key)).toEqual(['2026-03-01', '2026-03-02']);
    expect(report.rows[0]).toEqual({ key: '2026-03-01', inputTokens: 1_000_017, outputTokens: 8, cachedInputTokens: 0, costUsd: 3.5 });
    expect(report.totals).toEqual({ inputTokens: 2_000_017, outputTokens: 8, cachedInputTokens: 0, costUsd: 5.5 });
  });
});

describe('parseSince', () => {
  const now = new Date('2026-03-10T12:00:00.000Z');
  it('reads durations back from now, dates and times, and defaults to 30 days', () => {
    expect(parseSince('7d', now)).toEqual({ ok: true, since: '2026-03-03T12:00:00.000Z' });
    expect(parseSince('24h', now)).toEqual({ ok: true, since: '2026-03-09T12:00:00.000Z' });
    expect(parseSince('90m', now)).toEqual({ ok: true, since: '2026-03-10T10:30:00.000Z' });
    expect(parseSince(undefined, now)).toEqual({ ok: true, since: '2026-02-08T12:00:00.000Z' });
    expect(parseSince('2026-03-01', now)).toEqual({ ok: true, since: '2026-03-01T00:00:00.000Z' });
    expect(parseSince('2026-03-01T08:15:00Z', now)).toEqual({ ok: true, since: '2026-03-01T08:15:00.000Z' });
  });

  it('refuses anything else, a bare number included', () => {
    for (const bad of ['7', '7w', 'yesterday', '', '2026-13-45', 'd7']) expect(parseSince(bad, now).ok, bad).toBe(false);
  });
});

describe('usageReport', () => {
  it('names the field of a bad parameter and reads nothing then', async () => {
    const store = { usageSince: () => Promise.reject(new Error('must not be read')) };
    expect(await usageReport(store, PROVIDERS, { by: 'week' })).toMatchObject({ ok: false, field: 'by' });
    expect(await usageReport(store, PROVIDERS, { since: 'soon' })).toMatchObject({ ok: false, field: 'since' });
  });

  it('asks the store by day since 30 days back by default', async () => {
    const asked: unknown[] = [];
    const store = { usageSince: async (input: unknown) => (asked.push(input), []) };
    const answer = await usageReport(store, PROVIDERS, {}, new Date('2026-03-31T00:00:00.000Z'));
    expect(answer).toEqual({ ok: true, report: { rows: [], totals: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 } } });
    expect(asked).toEqual([{ since: '2026-03-01T00:00:00.000Z', by: 'day' }]);
  });
});

describe('modelCallRecorder', () => {
  const ids = { runId: 'r', sessionId: 's', workspaceUri: 'file:///w' };
  it('writes one row per call with the answering provider, and the CLI cost when there is one', async () => {
    const written: unknown[] = [];
    const store = { recordModelCall: async (call: unknown) => void written.push(call) } as unknown as Store;
    const record = modelCallRecorder(store, ids, () => undefined);
    record({ provider: 'openai', model: 'gpt', usage: { inputTokens: 10, outputTokens: 2, cachedInputTokens: 8 } });
    record({ provider: 'claude', model: 'default', usage: { inputTokens: 5, outputTokens: 1 }, costUsd: 0.01 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual([
      { ...ids, provider: 'openai', model: 'gpt', inputTokens: 10, outputTokens: 2, cachedInputTokens: 8 },
      { ...ids, provider: 'claude', model: 'default', inputTokens: 5, outputTokens: 1, cachedInputTokens: 0, reportedCostUsd: 0.01 },
    ]);
  });

  it('logs a failed write, whether it throws or rejects, and never throws into the run', async () => {
    const logged: string[] = [];
    const throwing = { recordModelCall: () => { throw new Error('disk I/O error'); } } as unknown as Store;
    const rejecting = { recordModelCall: () => Promise.reject(new Error('database is locked')) } as unknown as Store;
    const call = { provider: 'openai', model: 'gpt', usage: { inputTokens: 1, outputTokens: 1 } };
    expect(() => modelCallRecorder(throwing, ids, (message) => logged.push(message))(call)).not.toThrow();
    expect(() => modelCallRecorder(rejecting, ids, (message) => logged.push(message))(call)).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged).toEqual(['could not record model call usage: disk I/O error', 'could not record model call usage: database is locked']);
  });
});
