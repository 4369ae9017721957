import { describe, expect, it } from 'vitest';
import { ClaudeStreamParser } from '../../server/src/providers/claude-events.js';
import { CodexEventParser } from '../../server/src/providers/codex-events.js';

/**
 * Cached prompt tokens in the CLIs' JSON events, in the shapes their recorded fixtures have
 * (test/fixtures/claude, test/fixtures/codex) with non-zero cache counts. Both keep cached
 * tokens inside inputTokens, as the HTTP providers do.
 */

describe('cached input tokens of the CLI datasources', () => {
  it('claude: cache reads are cached tokens; cache writes and plain input make up the rest of the input', () => {
    const parser = new ClaudeStreamParser('/tmp/project');
    parser.push({
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: 'done',
      session_id: '965461e9-eb30-4299-afd1-d4bd6729018b',
      total_cost_usd: 0.0123,
      usage: { input_tokens: 40, cache_creation_input_tokens: 500, cache_read_input_tokens: 3000, output_tokens: 9 },
    });
    expect(parser.usage).toEqual({ inputTokens: 3540, outputTokens: 9, cachedInputTokens: 3000 });
    expect(parser.costUsd).toBe(0.0123);
  });

  it('codex: cached_input_tokens summed over the turns, inside input_tokens', () => {
    const parser = new CodexEventParser(['/tmp/project'], () => undefined);
    parser.push({ type: 'thread.started', thread_id: 't1' });
    for (const [input, cached, output] of [
      [1000, 800, 20],
      [1500, 1200, 30],
    ]) {
      parser.push({ type: 'turn.completed', usage: { input_tokens: input, cached_input_tokens: cached, cache_write_input_tokens: 0, output_tokens: output, reasoning_output_tokens: 0 } });
    }
    expect(parser.summary.usage).toEqual({ inputTokens: 2500, outputTokens: 50, cachedInputTokens: 2000 });
  });

  it('leaves cachedInputTokens out when the CLI read nothing from the cache (as recorded)', () => {
    const parser = new CodexEventParser(['/tmp/project'], () => undefined);
    parser.push({ type: 'turn.completed', usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 3 } });
    expect(parser.summary.usage).toEqual({ inputTokens: 10, outputTokens: 3 });
  });
});
