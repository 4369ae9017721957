import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Limits, Requests } from '../../server/src/protocol/methods.js';
import { runCodebench } from '../cli/terminal.js';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from '../fakes/model-server.js';
import { isResponseError, makeWorkspace, REPO, TestClient, writeConfig, type Workspace } from './harness.js';

/**
 * The project memory through the built server and the real CLI on one data directory, asserted on
 * what the fake model received: a fact the model remembers in one session is in the next session's
 * first request; one the user forgets from the terminal is gone from the running server's next
 * request; secrets never reach the store; the LSP requests refuse bad params by name.
 */

// Fake keys in real formats, made at run time so no file holds one.
const API_KEY = `sk-proj-${randomBytes(30).toString('hex')}`;
const GITHUB_TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const FACT = 'Tests run with `npm test`; never edit the generated files under gen/.';

async function errorOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const failure = await promise.then(() => undefined, (error: unknown) => error);
  if (!isResponseError(failure)) throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(failure)}`);
  return { code: failure.code, message: failure.message };
}

describe('project memory', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    if (!existsSync(join(REPO, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/app.ts': 'export const app = 1;\n' });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });
  beforeEach(() => fake.reset());

  /** The terminal client on the server's data directory, in the workspace folder. */
  const cli = (args: string[]) =>
    runCodebench(args, {
      cwd: workspace.root,
      env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir },
    });
  const userTexts = (request: RecordedRequest): string => request.body.messages.filter((message: any) => message.role === 'user').map((message: any) => message.content).join('\n');
  const toolTexts = (request: RecordedRequest): string => request.body.messages.filter((message: any) => message.role === 'tool').map((message: any) => message.content).join('\n');

  async function ask(instruction: string, sessionId?: string): Promise<{ runId: string; sessionId: string }> {
    const result = await client.request<any>(Requests.ask.method, { uri: workspace.uri('src/app.ts'), instruction, sessionId });
    expect(result.status, result.error).toBe('completed');
    return result;
  }

  async function facts(): Promise<Array<{ id: string; text: string; createdAt: string; runId?: string }>> {
    return (await client.request<any>(Requests.memoryList.method, {})).facts;
  }

  it('a fact remembered in one session is in the next session’s first request; history shows who remembered it', async () => {
    fake.enqueue({ toolCalls: [{ name: 'remember', args: { fact: FACT } }] }, { text: 'Noted.' });
    const first = await ask('how do I run the tests?');
    expect(fake.modelRequests[0]!.body.tools.map((tool: any) => tool.function.name)).toContain('remember');
    expect(toolTexts(fake.modelRequests[1]!)).toMatch(/^Remembered as fact [0-9a-f]{8}: Tests run with `npm test`/);

    const [stored] = await facts();
    expect(stored).toMatchObject({ text: FACT, runId: first.runId });
    fake.reset();

    fake.enqueue({ text: 'Use npm test.' });
    await ask('add a test for app');
    expect(userTexts(fake.modelRequests[0]!)).toContain(`- [${stored!.id}] ${FACT}`);

    const shown = await cli(['history', 'show', first.sessionId.slice(0, 8)]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`\\*\\*Remembered\\*\\* \`${stored!.id.slice(0, 8)}\` · [0-9-]+ [0-9:]+: Tests run with`));
    await client.request(Requests.memoryRemove.method, { id: stored!.id });
  });

  it('`codebench memory rm` from the terminal: the running server’s next request no longer has the fact', async () => {
    const { fact } = await client.request<any>(Requests.memoryAdd.method, { text: 'Deploys go through the staging branch.' });
    const listed = await cli(['memory', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: fact.id, text: 'Deploys go through the staging branch.' })]);

    fake.enqueue({ text: 'ok' });
    await ask('where do deploys go?');
    expect(userTexts(fake.modelRequests[0]!)).toContain('Deploys go through the staging branch.');
    fake.reset();

    const removed = await cli(['memory', 'rm', fact.id.slice(0, 6)]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`forgot ${fact.id.slice(0, 8)}: Deploys go through the staging branch.\n`);

    fake.enqueue({ text: 'ok' });
    await ask('where do deploys go now?');
    expect(JSON.stringify(fake.modelRequests[0]!.body)).not.toContain('staging branch');
    expect(await facts()).toEqual([]);
  });

  it('stores secrets redacted, from the tool and from a client, and refuses a fact that is only a secret', async () => {
    fake.enqueue({ toolCalls: [{ name: 'remember', args: { fact: `The CI token is ${GITHUB_TOKEN}, rotate it monthly.` } }] }, { text: 'ok' });
    await ask('remember the CI token');
    const { fact } = await client.request<any>(Requests.memoryAdd.method, { text: `OpenAI key for the demo: ${API_KEY}` });
    expect(fact.text).toBe('OpenAI key for the demo: [redacted:api key]');

    const texts = (await facts()).map((stored) => stored.text);
    expect(texts).toEqual(['The CI token is [redacted:github token], rotate it monthly.', 'OpenAI key for the demo: [redacted:api key]']);
    // Not in the database at all, write-ahead log included: the client's key was never written.
    const files = ['codebench.db', 'codebench.db-wal'].map((name) => join(workspace.dataDir, name)).filter((file) => existsSync(file));
    expect(files.map((file) => readFileSync(file).toString('latin1')).join('')).not.toContain(API_KEY);
    // Nor the token the model wrote into its `remember` call: the tool-call record is scrubbed too.
    expect(files.map((file) => readFileSync(file).toString('latin1')).join('')).not.toContain(GITHUB_TOKEN);

    const onlySecret = await errorOf(client.request(Requests.memoryAdd.method, { text: `  ${API_KEY}  ` }));
    expect(onlySecret.code).toBe(-32602);
    expect(onlySecret.message).toBe('Invalid params: params.text: the fact is nothing but a secret, and secrets are never stored in the project memory');
    for (const stored of await facts()) await client.request(Requests.memoryRemove.method, { id: stored.id });
  });

  it('answers bad memory params with InvalidParams naming the field', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      [Requests.memoryAdd.method, {}, /^Invalid params: params\.text: /],
      [Requests.memoryAdd.method, { text: '   ' }, /^Invalid params: params\.text: must not be empty$/],
      [Requests.memoryAdd.method, { text: 'x'.repeat(Limits.memoryFact.maxChars + 1) }, /^Invalid params: params\.text: must be at most 500 characters$/],
      [Requests.memoryAdd.method, { text: 'fine', workspaceUri: 7 }, /^Invalid params: params\.workspaceUri: /],
      [Requests.memoryList.method, { workspaceUri: '' }, /^Invalid params: params\.workspaceUri: /],
      [Requests.memoryRemove.method, {}, /^Invalid params: params\.id: /],
      [Requests.memoryRemove.method, { id: 'ab' }, /^Invalid params: params\.id: give a full fact id or a unique prefix of at least 4 characters$/],
    ];
    for (const [method, params, pattern] of cases) {
      const error = await errorOf(client.request(method, params));
      expect(error.code, JSON.stringify(params)).toBe(-32602);
      expect(error.message).toMatch(pattern);
    }
    expect(await client.request(Requests.memoryRemove.method, { id: '00000000-0000-4000-8000-000000000000' })).toEqual({ removed: false });
  });

  it('lists another workspace only when named, and the first folder when not', async () => {
    const elsewhere = 'file:///somewhere/else';
    const { fact } = await client.request<any>(Requests.memoryAdd.method, { text: 'Elsewhere fact.', workspaceUri: elsewhere });
    expect(await facts()).toEqual([]);
    expect((await client.request<any>(Requests.memoryList.method, { workspaceUri: elsewhere })).facts).toEqual([
      { id: fact.id, text: 'Elsewhere fact.', createdAt: fact.createdAt },
    ]);
    expect(await client.request(Requests.memoryRemove.method, { id: fact.id })).toEqual({ removed: true });
  });
});
