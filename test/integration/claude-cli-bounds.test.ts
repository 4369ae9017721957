import { rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../e2e/harness.js';
import { startFakeModelServer, type FakeModelServer, type FakeTurn } from '../fakes/model-server.js';
import { expectUserTreeUntouched, makeCliWorkspace, type CliWorkspace } from './cli-workspace.js';
import { CLAUDE, HAVE_CLAUDE } from './claude-tool.js';
import { Requests } from '../../server/src/protocol/methods.js';

/**
 * The real claude CLI, through the built language server, against a fake Anthropic API that
 * answers every turn with the same failing Edit call (seen in the wild: hundreds of re-sends a
 * minute, no end). The run ends all the same: at maxSteps turns (claude's --max-turns), or at
 * maxRunSeconds when the turns are slow.
 */

const failingEdit = (index: number, extra: Partial<FakeTurn> = {}): FakeTurn => ({
  toolCalls: [{ id: `toolu_loop_${index}`, name: 'Edit', args: { file_path: 'src/greet.ts', old_string: 'no such text', new_string: 'x' } }],
  ...extra,
});

describe.skipIf(!HAVE_CLAUDE)('a claude CLI run that keeps calling a failing tool is bounded', { timeout: 90_000 }, () => {
  let fake: FakeModelServer;
  let tree: CliWorkspace | undefined;
  let client: TestClient | undefined;

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterEach(async () => {
    await client?.stop();
    if (tree) rmSync(dirname(tree.workspace.root), { recursive: true, force: true });
    client = undefined;
    tree = undefined;
    fake.reset();
  });
  afterAll(async () => {
    await fake?.close();
  });

  async function start(limits: Record<string, number>): Promise<TestClient> {
    const provider = { kind: 'claude-cli', command: CLAUDE, baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', model: 'claude-test', timeoutSeconds: 60 };
    tree = makeCliWorkspace('claude', provider);
    writeFileSync(tree.workspace.configFile, JSON.stringify({ defaultProvider: 'claude', providers: { claude: provider }, ...limits }));
    client = TestClient.start({ profile: 'helix', workspace: tree.workspace });
    await client.initialize();
    return client;
  }

  it('stops at maxSteps turns (claude --max-turns)', async () => {
    const lsp = await start({ maxSteps: 3 });
    fake.enqueue(...Array.from({ length: 40 }, (_, index) => failingEdit(index)));
    const finished = await lsp.request<any>(Requests.ask.method, { uri: tree!.workspace.uri('src/greet.ts'), instruction: 'Greet with hello there', provider: 'claude' });
    expect(finished.status).toBe('failed');
    expect(finished.summary).toContain('claude CLI (claude) stopped after 3 turns (maxSteps) without finishing');
    // Three turns of the model, not forty.
    expect(fake.modelRequests.length).toBeGreaterThanOrEqual(2);
    expect(fake.modelRequests.length).toBeLessThanOrEqual(4);
    expectUserTreeUntouched(tree!);
  });

  it('stops at maxRunSeconds when the turns are slow', async () => {
    const lsp = await start({ maxSteps: 200, maxRunSeconds: 5 });
    fake.enqueue(...Array.from({ length: 200 }, (_, index) => failingEdit(index, { headersDelayMs: 300 })));
    const started = Date.now();
    const finished = await lsp.request<any>(Requests.ask.method, { uri: tree!.workspace.uri('src/greet.ts'), instruction: 'Greet with hello there', provider: 'claude' });
    const elapsed = Date.now() - started;
    expect(finished.status).toBe('failed');
    expect(finished.summary).toBe('stopped after 5 s (maxRunSeconds); raise "maxRunSeconds" in the config for longer runs');
    expect(elapsed).toBeLessThan(20_000);
    expect(fake.pending()).toBeGreaterThan(100);
    // The CLI is gone: no request arrives after the run ended.
    const seen = fake.modelRequests.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(fake.modelRequests.length).toBe(seen);
  });
});
