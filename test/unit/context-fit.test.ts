import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../server/src/config/load.js';
import { fallbackChain, ProviderCooldowns } from '../../server/src/providers/fallback.js';
import {
  DEFAULT_OUTPUT_BUDGET,
  MIN_CONTEXT_TOKENS,
  ModelInfoCache,
  capabilitiesOf,
  parseShowResponse,
  planContext,
} from '../../server/src/providers/model-info.js';
import { estimateRequestTokens, estimateTokens } from '../../server/src/providers/token-estimate.js';

describe('token estimate', () => {
  it('counts 3.5 characters a token, rounding up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abc')).toBe(1);
    expect(estimateTokens('x'.repeat(3500))).toBe(1000);
  });

  it('counts the system prompt, messages, tool calls and tool schemas', () => {
    const bare = estimateRequestTokens({ system: 's'.repeat(350), messages: [], tools: [] });
    const withFile = estimateRequestTokens({ system: 's'.repeat(350), messages: [{ role: 'user', content: 'u'.repeat(7000) }], tools: [] });
    expect(withFile - bare).toBeGreaterThanOrEqual(2000);
    const tools = [{ name: 'read_file', description: 'd'.repeat(700), parameters: { type: 'object' } }];
    expect(estimateRequestTokens({ system: '', messages: [], tools })).toBeGreaterThan(200);
    const call = { role: 'assistant' as const, content: '', toolCalls: [{ id: '1', name: 'edit_file', args: { new_string: 'n'.repeat(3500) } }] };
    expect(estimateRequestTokens({ system: '', messages: [call], tools: [] })).toBeGreaterThan(1000);
  });
});

describe('planContext', () => {
  it('never asks for less than 8192, and grows in powers of two so num_ctx rarely changes', () => {
    expect(planContext({ promptTokens: 100 })).toEqual({ fits: true, contextTokens: MIN_CONTEXT_TOKENS });
    expect(planContext({ promptTokens: 5000 })).toEqual({ fits: true, contextTokens: 16384 });
    expect(planContext({ promptTokens: 5100 })).toEqual({ fits: true, contextTokens: 16384 });
    expect(planContext({ promptTokens: 20_000, outputTokens: 1000 })).toEqual({ fits: true, contextTokens: 32768 });
  });

  it("caps at the model's length and at contextWindow, whichever is smaller", () => {
    expect(planContext({ promptTokens: 5000, modelContextLength: 12_000 })).toEqual({ fits: true, contextTokens: 12_000, limit: 12_000 });
    expect(planContext({ promptTokens: 5000, modelContextLength: 131_072, contextWindow: 10_000 })).toEqual({ fits: true, contextTokens: 10_000, limit: 10_000 });
    // A window below 8192 wins over the minimum: never above what the model or user allows.
    expect(planContext({ promptTokens: 1000, contextWindow: 4096 })).toEqual({ fits: true, contextTokens: 4096, limit: 4096 });
  });

  it('shrinks only the default answer budget, down to 1024 tokens', () => {
    // 7000 + 4096 > 8192, but 7000 + 1024 fits: the whole context goes.
    expect(planContext({ promptTokens: 7000, modelContextLength: 8192 })).toEqual({ fits: true, contextTokens: 8192, limit: 8192 });
    // An explicit maxOutputTokens is kept.
    const explicit = planContext({ promptTokens: 7000, outputTokens: 2000, modelContextLength: 8192 });
    expect(explicit.fits).toBe(false);
  });

  it('says what does not fit, and against which limit', () => {
    const plan = planContext({ promptTokens: 9000, modelContextLength: 4096, contextWindow: 100_000 });
    expect(plan).toEqual({ fits: false, error: expect.stringContaining("model's context length is 4,096 tokens") });
    const window = planContext({ promptTokens: 9000, modelContextLength: 32_768, contextWindow: 8192 });
    expect(window).toEqual({ fits: false, error: expect.stringContaining('contextWindow is 8,192 tokens') });
    expect(DEFAULT_OUTPUT_BUDGET).toBe(4096);
  });
});

describe('/api/show', () => {
  it("reads the architecture's context length and the capabilities", () => {
    const info = parseShowResponse({
      model_info: { 'general.architecture': 'llama', 'llama.context_length': 131_072, 'llama.embedding_length': 4096 },
      capabilities: ['completion', 'tools'],
    });
    expect(info).toEqual({ contextLength: 131_072, capabilities: ['completion', 'tools'] });
    expect(capabilitiesOf(info, 16_384)).toEqual({ tools: true, contextLength: 16_384 });
    expect(capabilitiesOf({ capabilities: ['completion'] }, undefined)).toEqual({ tools: false });
    // An old server without capabilities: tool support unknown, not "no".
    expect(capabilitiesOf(parseShowResponse({ model_info: { 'gemma.context_length': 8192 } }), undefined)).toEqual({ contextLength: 8192 });
  });

  it('caches one load per provider, server and model, and forgets a failed one', async () => {
    const cache = new ModelInfoCache();
    let loads = 0;
    const load = async () => ({ contextLength: ++loads });
    const key = { providerName: 'local', baseURL: 'http://127.0.0.1:11434', model: 'qwen' };
    expect(await cache.get(key, load)).toEqual({ contextLength: 1 });
    expect(await cache.get(key, load)).toEqual({ contextLength: 1 });
    expect(await cache.get({ ...key, model: 'llama' }, load)).toEqual({ contextLength: 2 });
    expect(await cache.get({ ...key, providerName: 'other' }, load)).toEqual({ contextLength: 3 });

    const failing = { ...key, model: 'down' };
    await expect(cache.get(failing, async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(await cache.get(failing, load)).toEqual({ contextLength: 4 });
  });
});

describe('fallback chain and cooldowns', () => {
  const http = (fallback?: string[]) => ({ kind: 'ollama' as const, model: 'm', ...(fallback ? { fallback } : {}) });

  it('follows fallbacks depth first and ends on cycles', () => {
    const providers = { a: http(['b', 'c']), b: http(['a', 'd']), c: http(['a']), d: http(['b']) };
    expect(fallbackChain('a', providers)).toEqual(['b', 'd', 'c']);
    expect(fallbackChain('a', { a: http(['a']) })).toEqual([]);
  });

  it('skips a failed provider for the cooldown only', () => {
    let now = 1_000_000;
    const cooldowns = new ProviderCooldowns(60_000, () => now);
    cooldowns.mark('local', 'local is not reachable (connection refused)');
    now += 12_000;
    expect(cooldowns.skipping('local')).toBe('local is not reachable (connection refused) 12 s ago; not retried for 48 s');
    expect(cooldowns.skipping('hosted')).toBeUndefined();
    now += 48_000;
    expect(cooldowns.skipping('local')).toBeUndefined();
  });

  it('refuses unknown fallback names and CLI datasources, naming the key and the file', () => {
    const errorOf = (providers: Record<string, unknown>): ConfigError => {
      try {
        resolveConfig([{ source: '/home/me/.config/codebench/config.json', config: { providers } as never }]);
      } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
      }
      throw new Error('expected a ConfigError');
    };
    const unknown = errorOf({ local: http(['hosted']) });
    expect(unknown.message).toBe(
      'Invalid codebench config in /home/me/.config/codebench/config.json: providers.local.fallback: "hosted" is not one of the configured providers (local)',
    );
    expect(unknown.keys).toEqual(['providers.local.fallback']);
    expect(errorOf({ local: http(['claude']), claude: { kind: 'claude-cli' } }).message).toContain(
      'providers.local.fallback: "claude" is a claude-cli datasource, which cannot take over a turn',
    );
    expect(errorOf({ codex: { kind: 'codex-cli', fallback: ['local'] }, local: http() }).message).toContain('providers.codex.fallback: "codex" is a codex-cli datasource');
    // A cycle is not an error: the chain visits each provider once.
    expect(resolveConfig([{ source: 'x', config: { providers: { a: http(['b']), b: http(['a']) } } }]).providers.a?.fallback).toEqual(['b']);
  });
});
