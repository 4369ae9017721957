import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { closedPort } from '../fakes/ports.js';
import { runCodebench } from '../cli/terminal.js';
import { makeWorkspace, TEST_KEYS, TestClient, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

const ORIGINAL = 'export function greet(name: string): string {\n  return "hello " + name;\n}\n';
const EDITED = ORIGINAL.replace('"hello "', '"hi "');

/**
 * providers.<name>.fallback over stdio: the configured provider fails before its first token, the
 * next one takes the turn; progress and history say so; cooldown, auth and mid-stream rules hold.
 */
describe('fallback chain over stdio', () => {
  let refusedPort: number;
  let hosted: FakeModelServer;
  let primary: FakeModelServer;
  let revived: FakeModelServer | undefined;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    refusedPort = await closedPort();
    hosted = await startFakeModelServer();
    primary = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/greet.ts': ORIGINAL });
    const config = {
      defaultProvider: 'local',
      providers: {
        // Nothing listens there: connection refused, as when Ollama is not running.
        local: { kind: 'ollama', model: 'qwen-test', baseURL: `http://127.0.0.1:${refusedPort}`, timeoutSeconds: 10, fallback: ['hosted'] },
        // A cycle back to local must end.
        hosted: { kind: 'openai-compatible', model: 'hosted-test', baseURL: `${hosted.url}/v1`, timeoutSeconds: 10, fallback: ['local'] },
        keyed: { kind: 'openai', model: 'gpt-test', baseURL: `${primary.url}/v1`, apiKeyEnv: 'TEST_OPENAI_KEY', timeoutSeconds: 10, fallback: ['hosted'] },
        flaky: { kind: 'ollama', model: 'flaky-test', baseURL: primary.url, timeoutSeconds: 10, fallback: ['hosted'] },
      },
    };
    writeFileSync(workspace.configFile, JSON.stringify(config, null, 2));
    client = TestClient.start({ profile: 'neovim', workspace, runEvents: true });
    await client.initialize();
    await client.open(workspace.uri('src/greet.ts'), ORIGINAL);
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await Promise.all([hosted.close(), primary.close(), revived?.close()]);
  });

  async function ask(instruction: string, provider?: string): Promise<{ runId: string; sessionId: string; events: any[] }> {
    const started = await client.command(Commands.ask.command, { uri: workspace.uri('src/greet.ts'), instruction, ...(provider ? { provider } : {}) });
    const events = () => client.runEvents.filter((batch) => batch.runId === started.runId).flatMap((batch) => batch.events);
    await client.waitFor(() => events().find((event) => event.type === 'finished'), 15_000, `run "${instruction}" to finish`);
    return { ...started, events: events() };
  }

  it('answers with the fallback when the primary refuses connections, and history says who and why', async () => {
    hosted.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'src/greet.ts', old_string: '"hello "', new_string: '"hi "' } }] },
      { text: 'Greets with hi now.' },
    );
    const run = await ask('say hi instead of hello');
    expect(run.events.filter((event) => event.type === 'notice').map((event) => event.message)).toContain(
      'local is not reachable (connection refused); answering with hosted',
    );
    expect(run.events.at(-1)).toMatchObject({ type: 'finished', status: 'completed' });
    await client.waitFor(() => client.documents.get(workspace.uri('src/greet.ts'))!.text === EDITED || undefined, 10_000, 'edit applied');
    expect(hosted.modelRequests).toHaveLength(2);

    const { messages } = await client.request<any>(Requests.messages.method, { sessionId: run.sessionId });
    expect(messages.find((message: any) => message.role === 'system')?.content).toBe(
      'Answered by hosted (hosted-test) instead of local: local is not reachable (connection refused).',
    );
    const show = await runCodebench(['history', 'show', run.sessionId], {
      cwd: workspace.root,
      env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir },
    });
    expect(show.stderr).toBe('');
    expect(show.stdout).toContain('## Run 1 · hosted hosted-test · completed');
    expect(show.stdout).toContain('instead of local: local is not reachable (connection refused)');
  });

  it('skips the primary during its cooldown without trying to connect', async () => {
    // Something listens on the primary's port now: any attempt to reach it would show up here.
    revived = await startFakeModelServer({ port: refusedPort });
    hosted.reset();
    hosted.enqueue({ text: 'Still here.' });
    const run = await ask('what does greet return?');
    expect(run.events.at(-1)).toMatchObject({ type: 'finished', status: 'completed' });
    expect(revived.requests).toEqual([]);
    expect(hosted.modelRequests).toHaveLength(1);
    const notice = run.events.find((event) => event.type === 'notice')?.message;
    expect(notice).toMatch(/^local is not reachable \(connection refused\) \d+ s ago; not retried for \d+ s; answering with hosted$/);
  });

  it('does not fall back on an authentication error, and says why', async () => {
    hosted.reset();
    primary.reset();
    primary.enqueue({ status: 401 });
    const run = await ask('explain', 'keyed');
    const finished = run.events.at(-1);
    expect(finished).toMatchObject({ type: 'finished', status: 'failed' });
    expect(finished.error).toContain('Not falling back to hosted: a key or configuration problem is reported, not hidden behind another provider.');
    expect(primary.modelRequests).toHaveLength(1);
    expect(hosted.requests).toEqual([]);
  });

  it('never switches after tokens have streamed', async () => {
    hosted.reset();
    primary.reset();
    primary.enqueue({ text: 'The function greet returns a greeting for the name it is given.', cutAfterChunks: 3 });
    const run = await ask('explain greet', 'flaky');
    const finished = run.events.at(-1);
    expect(finished).toMatchObject({ type: 'finished', status: 'failed' });
    expect(run.events.filter((event) => event.type === 'text').map((event) => event.text).join('')).toContain('The function');
    expect(run.events.some((event) => event.type === 'notice' && /answering with/.test(event.message))).toBe(false);
    expect(hosted.requests).toEqual([]);
  });
});
