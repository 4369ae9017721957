import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

/**
 * Every run ends: a model that re-sends the same failing call is stopped after three tries, one
 * that never stops calling tools is bounded by maxSteps, and a stream that trickles a word a
 * second (too alive for the stall watchdog) is ended by maxRunSeconds. Through the built server.
 */

const SOURCE = 'export const answer = 1;\n';

describe('budgets that end every run', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/a.ts': SOURCE });
    writeConfig(workspace, fake, { maxSteps: 6 });
    client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('stops a run whose model re-sends the same failing call, within 4 model requests', async () => {
    const failing = { name: 'edit_file', args: { path: 'src/a.ts', old_string: 'answer = 7', new_string: 'answer = 8' } };
    // Key order differs between tries: the same call all the same.
    const reordered = { name: 'edit_file', args: { new_string: 'answer = 8', old_string: 'answer = 7', path: 'src/a.ts' } };
    fake.enqueue(...Array.from({ length: 8 }, (_, index) => ({ toolCalls: [index % 2 === 0 ? failing : reordered] })));
    const finished = await client.request<any>(Requests.ask.method, { uri: workspace.uri('src/a.ts'), instruction: 'make it 8', provider: 'openai' });
    expect(finished.status).toBe('failed');
    expect(finished.summary).toBe('stopped: the model sent the same failing edit_file call 3 times in a row');
    expect(fake.modelRequests.length).toBeLessThanOrEqual(4);
    expect(fake.modelRequests).toHaveLength(3);
    // The model was told why each try failed before the run gave up.
    expect(JSON.stringify(fake.modelRequests.at(-1)!.body.messages)).toContain('old_string was not found in src/a.ts');
  });

  it('bounds a model that never stops calling tools by maxSteps', async () => {
    // Different calls that all succeed: the repeat guard has nothing to say, only the step limit.
    fake.enqueue(...Array.from({ length: 20 }, (_, index) => ({ toolCalls: [{ name: 'read_file', args: { path: 'src/a.ts', limit: index + 1 } }] })));
    const finished = await client.request<any>(Requests.ask.method, { uri: workspace.uri('src/a.ts'), instruction: 'look around', provider: 'openai' });
    expect(finished.status).toBe('completed');
    expect(finished.summary).toContain('(stopped after 6 steps)');
    expect(fake.modelRequests).toHaveLength(6);
  });
});

describe('maxRunSeconds', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/a.ts': SOURCE });
    writeConfig(workspace, fake, { maxRunSeconds: 2 });
    client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it.each(['openai', 'anthropic', 'ollama'])('ends a %s stream that trickles a word a second', async (provider) => {
    // 60 words at one a second: never silent long enough for the 10 s stall watchdog.
    fake.enqueue({ text: 'slow '.repeat(60), chunkDelayMs: 1000 });
    const started = Date.now();
    const finished = await client.request<any>(Requests.ask.method, { uri: workspace.uri('src/a.ts'), instruction: `explain (${provider})`, provider });
    const elapsed = Date.now() - started;
    expect(finished.status).toBe('failed');
    expect(finished.summary).toBe('stopped after 2 s (maxRunSeconds); raise "maxRunSeconds" in the config for longer runs');
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(8000);
  });
});
