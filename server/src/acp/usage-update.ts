import type { SessionUpdate } from '@agentclientprotocol/sdk';
import type { AgentRuntime } from '../agent/runtime.js';
import { sessionUsage } from '../agent/usage-report.js';

/**
 * ACP's `usage_update` after a turn (SDK schema `UsageUpdate`: `used` tokens in context, `size`
 * of the context window, cumulative `cost`). `used` is the newest model call's prompt plus reply;
 * `size` the model's context length when known (`contextWindow`, or Ollama's /api/show), else 0
 * for unknown; `cost` the session's total in USD as `codebench usage` prices it. The session's
 * token sums ride along in `_meta.codebench`. Undefined before the session's first model call.
 */
export async function usageUpdate(runtime: AgentRuntime, sessionId: string): Promise<SessionUpdate | undefined> {
  const store = await runtime.store();
  const session = await store.getSession(sessionId);
  if (!session) return undefined;
  const providers = runtime.config().providers;
  const usage = await sessionUsage(store, providers, session);
  if (!usage.lastCall) return undefined;
  return {
    sessionUpdate: 'usage_update',
    used: usage.lastCall.contextTokens,
    size: await contextSize(runtime, usage.lastCall.provider),
    cost: { amount: usage.totals.costUsd, currency: 'USD' },
    _meta: { codebench: { ...usage.totals } },
  };
}

/** After every turn, however it ended; a failed read or send never fails the turn. */
export async function sendUsageUpdate(runtime: AgentRuntime, sessionId: string, send: (update: SessionUpdate) => Promise<void>): Promise<void> {
  const update = await usageUpdate(runtime, sessionId).catch(() => undefined);
  if (update) await send(update).catch(() => undefined);
}

async function contextSize(runtime: AgentRuntime, providerName: string): Promise<number> {
  const providers = runtime.config().providers;
  const config = providers[providerName];
  if (!config) return 0;
  // Only Ollama can say its model's length (cached per process); other APIs do not tell.
  if (config.kind !== 'ollama') return config.contextWindow ?? 0;
  const capabilities = await runtime.providers.createModel(providerName, config, providers).capabilities?.().catch(() => undefined);
  return capabilities?.contextLength ?? config.contextWindow ?? 0;
}
