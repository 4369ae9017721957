import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, type NewModelCall } from '../../server/src/store/store.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, REPO, TEST_KEYS, type Workspace } from '../e2e/harness.js';
import { HAVE_SCRIPT, plain, runCodebench, TerminalSession } from './terminal.js';

/** `codebench usage` through the built CLI: JSON, the table and chart as exact text, colours, bad flags. */

describe('codebench usage', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  /** A second user whose history is seeded with calls on fixed days, for exact text. */
  let seededData: string;

  const env = (dataDir = workspace.dataDir): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: workspace.dataDir,
    CODEBENCH_CONFIG: workspace.configFile,
    CODEBENCH_DATA_DIR: dataDir,
    NO_COLOR: '1',
    ...TEST_KEYS,
  });
  const usage = (args: string[], dataDir?: string) => runCodebench(['usage', ...args], { cwd: workspace.root, env: env(dataDir) });

  beforeAll(async () => {
    if (!existsSync(join(REPO, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/answer.ts': 'export const answer = 42;\n' });
    const config = {
      defaultProvider: 'openai',
      providers: {
        openai: { kind: 'openai', model: 'gpt-test', baseURL: `${fake.url}/v1`, apiKeyEnv: 'TEST_OPENAI_KEY', timeoutSeconds: 10, price: { input: 2.5, output: 10, cachedInput: 1.25 } },
        anthropic: { kind: 'anthropic', model: 'claude-test', baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', timeoutSeconds: 10, price: { input: 3, output: 15 } },
        ollama: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url, timeoutSeconds: 10 },
        claude: { kind: 'claude-cli', model: 'sonnet', price: { input: 1000, output: 1000 } },
      },
    };
    writeFileSync(workspace.configFile, JSON.stringify(config, null, 2));

    seededData = join(dirname(workspace.root), 'seeded-data');
    mkdirSync(seededData, { recursive: true });
    const store = await Store.open(join(seededData, 'codebench.db'));
    const call = (at: string, values: Partial<NewModelCall>): NewModelCall => ({ runId: 'run', sessionId: 'session-1', workspaceUri: 'file:///w', provider: 'openai', model: 'gpt-test', inputTokens: 0, outputTokens: 0, at, ...values });
    try {
      for (const seeded of [
        // Before --since: left out.
        call('2025-02-28T23:59:59.999Z', { inputTokens: 999_999, outputTokens: 999_999 }),
        call('2025-03-01T09:00:00.000Z', { inputTokens: 1_000_000, cachedInputTokens: 400_000, outputTokens: 20_000 }),
        call('2025-03-02T10:00:00.000Z', { provider: 'ollama', model: 'qwen-test', inputTokens: 50_000, outputTokens: 5_000 }),
        call('2025-03-03T11:00:00.000Z', { provider: 'claude', model: 'sonnet', inputTokens: 3_000, cachedInputTokens: 2_000, outputTokens: 400, reportedCostUsd: 0.55 }),
        call('2025-03-03T23:59:59.999Z', { inputTokens: 100_000, outputTokens: 10_000 }),
        call('2025-03-05T00:00:00.000Z', { provider: 'anthropic', model: 'claude-test', inputTokens: 200_000, outputTokens: 1_000 }),
      ]) {
        await store.recordModelCall(seeded);
      }
    } finally {
      await store.close();
    }
  });

  afterAll(async () => {
    await fake?.close();
    if (workspace) rmSync(dirname(workspace.root), { recursive: true, force: true });
  });

  it('says so when nothing was recorded', async () => {
    const result = await usage([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^No model calls recorded since \d{4}-\d\d-\d\d \d\d:\d\d\.\n$/);
  });

  it('--json sums exactly the tokens the fake servers reported for asks made in the terminal, priced from config', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'read_file', args: { path: 'src/answer.ts' } }], usage: { inputTokens: 1200, outputTokens: 30, cachedInputTokens: 1024 } },
      { text: 'It exports 42.', usage: { inputTokens: 1500, outputTokens: 45, cachedInputTokens: 1280 } },
    );
    const asked = await runCodebench(['ask', '--provider', 'openai', 'what does src/answer.ts export?'], { cwd: workspace.root, env: env() });
    expect(asked.code, asked.stderr).toBe(0);
    fake.enqueue({ text: 'Forty-two.', usage: { inputTokens: 2000, outputTokens: 80, cachedInputTokens: 1500 } });
    expect((await runCodebench(['ask', '--provider', 'anthropic', 'say it'], { cwd: workspace.root, env: env() })).code).toBe(0);
    fake.enqueue({ text: 'Free.', usage: { inputTokens: 700, outputTokens: 7 } });
    expect((await runCodebench(['ask', '--provider', 'ollama', 'and locally?'], { cwd: workspace.root, env: env() })).code).toBe(0);

    const result = await usage(['--by', 'provider', '--since', '1h', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const openaiCost = ((2700 - 2304) * 2.5 + 2304 * 1.25 + 75 * 10) / 1e6;
    // No cachedInput price for anthropic: cached tokens at the input price, still once.
    const anthropicCost = (2000 * 3 + 80 * 15) / 1e6;
    expect(JSON.parse(result.stdout)).toEqual({
      rows: [
        { key: 'anthropic', inputTokens: 2000, outputTokens: 80, cachedInputTokens: 1500, costUsd: anthropicCost },
        { key: 'ollama', inputTokens: 700, outputTokens: 7, cachedInputTokens: 0, costUsd: 0 },
        { key: 'openai', inputTokens: 2700, outputTokens: 75, cachedInputTokens: 2304, costUsd: openaiCost },
      ],
      totals: { inputTokens: 5400, outputTokens: 162, cachedInputTokens: 3804, costUsd: anthropicCost + 0 + openaiCost },
    });
  });

  it('prints the table with totals and the cost chart per UTC day, days without calls left out', async () => {
    const result = await usage(['--since', '2025-03-01'], seededData);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    // 03-01: 600,000 × 2.5 + 400,000 × 1.25 + 20,000 × 10 per million = 2.2; 03-03: claude's own
    // 0.55 (not its configured price) + 0.35; 03-05: 0.6 + 0.015. Bars scale to 2.2 over 40 cells:
    // 0.9 → 130.9 eighths → 16 cells and ▍; 0.615 → 89.5 → 11 cells and ▏.
    expect(result.stdout).toBe(
      [
        'day             input   cached  output     cost',
        '2025-03-01  1,000,000  400,000  20,000  $2.2000',
        '2025-03-02     50,000        0   5,000  $0.0000',
        '2025-03-03    103,000    2,000  10,400  $0.9000',
        '2025-03-05    200,000        0   1,000  $0.6150',
        'total       1,353,000  402,000  36,400  $3.7150',
        '',
        'cost (USD) by day',
        `2025-03-01  ${'█'.repeat(40)} $2.2000`,
        `2025-03-02  ${' '.repeat(41)}$0.0000`,
        `2025-03-03  ${'█'.repeat(16)}▍${' '.repeat(24)}$0.9000`,
        `2025-03-05  ${'█'.repeat(11)}▏${' '.repeat(29)}$0.6150`,
        '',
      ].join('\n'),
    );
  });

  it('groups by provider, model and session, with the same totals in JSON', async () => {
    const byProvider = JSON.parse((await usage(['--since', '2025-03-01', '--by', 'provider', '--json'], seededData)).stdout);
    expect(byProvider.rows.map((row: any) => [row.key, row.costUsd])).toEqual([
      ['anthropic', expect.closeTo(0.615, 12)],
      ['claude', 0.55],
      ['ollama', 0],
      ['openai', expect.closeTo(2.55, 12)],
    ]);
    const byModel = JSON.parse((await usage(['--since', '2025-03-01', '--by', 'model', '--json'], seededData)).stdout);
    expect(byModel.rows.map((row: any) => row.key)).toEqual(['anthropic/claude-test', 'claude/sonnet', 'ollama/qwen-test', 'openai/gpt-test']);
    const bySession = await usage(['--since', '2025-03-01', '--by', 'session'], seededData);
    expect(bySession.stdout.split('\n')[1]).toBe('session-  1,353,000  402,000  36,400  $3.7150');
    expect(byModel.totals).toEqual(byProvider.totals);
    expect(byProvider.totals).toMatchObject({ inputTokens: 1_353_000, outputTokens: 36_400, cachedInputTokens: 402_000, costUsd: expect.closeTo(3.715, 12) });
  });

  it('refuses a bad --since or --by with one line and status 2', async () => {
    for (const args of [['--since', '7x'], ['--since', '7'], ['--by', 'week']]) {
      const result = await usage(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n'), result.stderr).toHaveLength(1);
    }
    expect((await usage(['--since', '7x'])).stderr).toContain('7d, 24h, 90m or an ISO-8601 date');
    expect((await usage(['--by', 'week'])).stderr).toContain('provider, model, day, session');
  });

  it.skipIf(!HAVE_SCRIPT)('colours the chart on a terminal, and not with NO_COLOR', async () => {
    const { NO_COLOR: _unset, ...coloured } = env(seededData);
    const terminal = TerminalSession.start(['usage', '--since', '2025-03-01'], { cwd: workspace.root, env: coloured });
    expect(await terminal.exited).toBe(0);
    expect(terminal.output).toContain('\x1b[36m█');
    expect(plain(terminal.output)).toContain(`2025-03-01  ${'█'.repeat(40)} $2.2000`);

    const plainTerminal = TerminalSession.start(['usage', '--since', '2025-03-01'], { cwd: workspace.root, env: env(seededData) });
    expect(await plainTerminal.exited).toBe(0);
    expect(plainTerminal.output).not.toContain('\x1b[');
  });
});
