import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { closedPort } from '../fakes/ports.js';
import { CLAUDE, HAVE_CLAUDE } from '../integration/claude-tool.js';
import { isResponseError, makeWorkspace, TestClient, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

/**
 * Usage and cost over stdio: asks through OpenAI (cached prompt tokens), Anthropic (cache reads),
 * Ollama, a provider that falls back to OpenAI, and the real claude CLI against the same fake API;
 * `codebench/usage` then sums exactly the tokens the fake servers reported, priced by hand here.
 */

const SOURCE = 'export const answer = 42;\n';

describe('codebench/usage over stdio', { timeout: 90_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  /** What the claude CLI printed (through a tee wrapper), to read its own total_cost_usd. */
  let claudeLog: string;
  const sessions: Record<string, string> = {};

  beforeAll(async () => {
    fake = await startFakeModelServer();
    const refused = await closedPort();
    workspace = makeWorkspace({ 'src/answer.ts': SOURCE });
    const base = dirname(workspace.root);
    claudeLog = join(base, 'claude-output.jsonl');
    const wrapper = join(base, 'claude-tee.sh');
    // The real CLI; its stdout reaches codebench unchanged and a copy lands in the log.
    writeFileSync(wrapper, `#!/bin/sh\n'${CLAUDE}' "$@" | tee -a '${claudeLog}'\n`);
    chmodSync(wrapper, 0o755);
    const config = {
      defaultProvider: 'ollama',
      providers: {
        openai: { kind: 'openai', model: 'gpt-test', baseURL: `${fake.url}/v1`, apiKeyEnv: 'TEST_OPENAI_KEY', timeoutSeconds: 10, price: { input: 2.5, output: 10, cachedInput: 1.25 } },
        anthropic: { kind: 'anthropic', model: 'claude-test', baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', timeoutSeconds: 10, price: { input: 3, output: 15, cachedInput: 0.3 } },
        // A price on a local provider is ignored: Ollama costs nothing.
        ollama: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url, timeoutSeconds: 10, price: { input: 1000, output: 1000 } },
        // Nothing listens: every turn is answered by openai, and is openai's to pay.
        down: { kind: 'openai-compatible', model: 'down-test', baseURL: `http://127.0.0.1:${refused}/v1`, timeoutSeconds: 10, fallback: ['openai'], price: { input: 1000, output: 1000 } },
        claude: { kind: 'claude-cli', command: wrapper, baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', model: 'claude-test', timeoutSeconds: 60, price: { input: 1000, output: 1000 } },
      },
    };
    writeFileSync(workspace.configFile, JSON.stringify(config, null, 2));
    client = TestClient.start({ profile: 'neovim', workspace, runEvents: true });
    await client.initialize();
    await client.open(workspace.uri('src/answer.ts'), SOURCE);
  });

  afterAll(async () => {
    expect(await client?.stop()).toBe(0);
    await fake?.close();
    if (workspace) rmSync(dirname(workspace.root), { recursive: true, force: true });
  });

  async function ask(provider: string, instruction: string): Promise<void> {
    const started = await client.command(Commands.ask.command, { uri: workspace.uri('src/answer.ts'), instruction, provider });
    const events = () => client.runEvents.filter((batch) => batch.runId === started.runId).flatMap((batch) => batch.events);
    const finished = await client.waitFor(() => events().find((event: any) => event.type === 'finished'), 60_000, `${provider} run to finish`);
    expect(finished.status, JSON.stringify(finished)).toBe('completed');
    sessions[provider] = started.sessionId;
  }

  it('records every model call and sums them by provider, priced from config; a CLI’s own cost wins', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'read_file', args: { path: 'src/answer.ts' } }], usage: { inputTokens: 1200, outputTokens: 30, cachedInputTokens: 1024 } },
      { text: 'It exports 42.', usage: { inputTokens: 1500, outputTokens: 45, cachedInputTokens: 1280 } },
    );
    await ask('openai', 'what does it export?');
    fake.enqueue(
      { toolCalls: [{ name: 'read_file', args: { path: 'src/answer.ts' } }], usage: { inputTokens: 2000, outputTokens: 80, cachedInputTokens: 1500 } },
      { text: 'The answer is 42.', usage: { inputTokens: 2300, outputTokens: 120, cachedInputTokens: 1800 } },
    );
    await ask('anthropic', 'what is the answer?');
    fake.enqueue({ text: 'Forty-two.', usage: { inputTokens: 800, outputTokens: 60 } });
    await ask('ollama', 'say it in words');
    fake.enqueue({ text: 'From the fallback.', usage: { inputTokens: 500, outputTokens: 25 } });
    await ask('down', 'answer through the fallback');
    if (HAVE_CLAUDE) {
      fake.enqueue({ text: 'Claude says 42.', usage: { inputTokens: 300, outputTokens: 20, cachedInputTokens: 200 } });
      await ask('claude', 'what does claude say?');
    }

    const { rows, totals } = await client.request(Requests.usage.method, { by: 'provider', since: '1h' });
    // Prompt tokens count cached ones too (OpenAI's prompt_tokens; Anthropic's input_tokens plus
    // cache_read_input_tokens); cached tokens are priced once, at the cached price, per million.
    const openai = { key: 'openai', inputTokens: 1200 + 1500 + 500, outputTokens: 30 + 45 + 25, cachedInputTokens: 1024 + 1280 };
    const openaiCost = ((3200 - 2304) * 2.5 + 2304 * 1.25 + 100 * 10) / 1e6;
    const anthropic = { key: 'anthropic', inputTokens: 2000 + 2300, outputTokens: 80 + 120, cachedInputTokens: 1500 + 1800 };
    const anthropicCost = ((4300 - 3300) * 3 + 3300 * 0.3 + 200 * 15) / 1e6;
    const ollama = { key: 'ollama', inputTokens: 800, outputTokens: 60, cachedInputTokens: 0, costUsd: 0 };
    const expected: any[] = [
      { ...anthropic, costUsd: expect.closeTo(anthropicCost, 12) },
      ...(HAVE_CLAUDE ? [{ key: 'claude', inputTokens: 300, outputTokens: 20, cachedInputTokens: 200, costUsd: claudeReportedCost() }] : []),
      ollama,
      { ...openai, costUsd: expect.closeTo(openaiCost, 12) },
    ];
    expect(rows).toEqual(expected);
    // No row for `down`: its turn was answered, and paid, by openai.
    const claudeTokens = HAVE_CLAUDE ? { input: 300, output: 20, cached: 200, cost: claudeReportedCost() } : { input: 0, output: 0, cached: 0, cost: 0 };
    expect(totals).toEqual({
      inputTokens: 3200 + 4300 + 800 + claudeTokens.input,
      outputTokens: 100 + 200 + 60 + claudeTokens.output,
      cachedInputTokens: 2304 + 3300 + claudeTokens.cached,
      costUsd: expect.closeTo(openaiCost + anthropicCost + claudeTokens.cost, 12),
    });
    if (HAVE_CLAUDE) {
      // The CLI's figure, not 1000 USD per million tokens.
      expect(claudeReportedCost()).toBeGreaterThan(0);
      expect(claudeReportedCost()).toBeLessThan(0.01);
    }
  });

  it('groups by model, session and UTC day, each adding up to the same totals', async () => {
    const byProvider = await client.request(Requests.usage.method, { by: 'provider' });
    const byModel = await client.request(Requests.usage.method, { by: 'model' });
    expect(byModel.rows.map((row: any) => row.key)).toEqual(['anthropic/claude-test', ...(HAVE_CLAUDE ? ['claude/claude-test'] : []), 'ollama/qwen-test', 'openai/gpt-test']);
    expect(byModel.totals).toEqual(byProvider.totals);

    const bySession = await client.request(Requests.usage.method, { by: 'session' });
    expect(bySession.rows.map((row: any) => row.key)).toEqual(Object.values(sessions).sort());
    const fallbackSession = bySession.rows.find((row: any) => row.key === sessions.down);
    expect(fallbackSession).toMatchObject({ inputTokens: 500, outputTokens: 25, cachedInputTokens: 0 });
    expect(fallbackSession.costUsd).toBeCloseTo((500 * 2.5 + 25 * 10) / 1e6, 12);

    // Default grouping: UTC days (all of these calls were made within the last minutes).
    const byDay = await client.request(Requests.usage.method, {});
    expect(byDay.rows.length).toBeGreaterThanOrEqual(1);
    for (const row of byDay.rows) expect(row.key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(byDay.rows.at(-1).key).toBe(new Date().toISOString().slice(0, 10));
    expect(byDay.totals).toEqual(byProvider.totals);

    // Nothing since a moment in the future.
    const later = await client.request(Requests.usage.method, { since: new Date(Date.now() + 60_000).toISOString() });
    expect(later).toEqual({ rows: [], totals: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 } });
  });

  it('refuses a bad since or by with InvalidParams naming the field', async () => {
    for (const [params, field] of [
      [{ since: 'soon' }, 'since'],
      [{ since: '7' }, 'since'],
      [{ by: 'week' }, 'by'],
    ] as const) {
      const error = await client.request(Requests.usage.method, params).catch((caught: unknown) => caught);
      expect(isResponseError(error), String(error)).toBe(true);
      expect((error as any).code).toBe(-32602);
      expect((error as any).message).toContain(field);
    }
  });

  function claudeReportedCost(): number {
    const result = readFileSync(claudeLog, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line))
      .filter((line) => line.type === 'result');
    expect(result).toHaveLength(1);
    return result[0].total_cost_usd;
  }
});
