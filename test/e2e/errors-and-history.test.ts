import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { isResponseError, makeWorkspace, TEST_KEYS, TestClient, writeConfig, type Workspace } from './harness.js';
import { closedPort } from '../fakes/ports.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

async function errorOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const failure = await promise.then(() => undefined, (error: unknown) => error);
  if (!isResponseError(failure)) throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(failure)}`);
  return { code: failure.code, message: failure.message };
}

describe('malformed requests, history across restarts, stdout purity', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'main.py': 'print("héllo")\n' });
    writeConfig(workspace, fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('answers bad params with InvalidParams naming the field, and keeps serving', async () => {
    const client = TestClient.start({ profile: 'neovim', workspace });
    const init = await client.initialize();
    expect(init.capabilities.executeCommandProvider.commands).toContain('codebench.ask');
    const uri = workspace.uri('main.py');
    await client.open(uri, 'print("héllo")\n', 'python');

    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => client.command(Commands.ask.command, { uri: 5, instruction: 'x' }), /arguments\[0\]\.uri/],
      [() => client.command(Commands.ask.command, { uri }), /arguments\[0\]\.instruction/],
      [() => client.command(Commands.ask.command, { uri, instruction: '   ' }), /instruction: must not be empty/],
      [() => client.command(Commands.ask.command, { uri, instruction: 'x', range: { start: { line: -1, character: 0 }, end: { line: 0, character: 0 } } }), /range\.start\.line/],
      [() => client.command(Commands.ask.command, { uri, instruction: 'x', provider: 'nope' }), /provider: unknown provider "nope"/],
      [() => client.command(Commands.ask.command, { uri, instruction: 'x', sessionId: 'missing' }), /sessionId: no session with id "missing"/],
      [() => client.command(Commands.ask.command, { uri: 'untitled:Untitled-1', instruction: 'x' }), /uri: only file: URIs/],
      [() => client.command(Commands.ask.command), /arguments\[0\]/],
      [() => client.command('codebench.nope', {}), /command: unknown command "codebench.nope"/],
      [() => client.command(Commands.applyProposal.command, { proposalId: 'nope' }), /proposalId: no pending proposal/],
      [() => client.request(Requests.messages.method, { sessionId: 'nope' }), /params\.sessionId: no session/],
      [() => client.request(Requests.messages.method, {}), /params\.sessionId/],
      [() => client.request(Requests.sessions.method, { limit: 'ten' }), /params\.limit/],
      [() => client.request(Requests.search.method, { query: 42 }), /params\.query/],
      [() => client.request(Requests.cancel.method, {}), /params\.runId/],
    ];
    for (const [send, pattern] of cases) {
      const error = await errorOf(send());
      expect(error.code).toBe(-32602);
      expect(error.message).toMatch(pattern);
    }
    const unknownMethod = await errorOf(client.request('codebench/doesNotExist', {}));
    expect(unknownMethod.code).toBe(-32601);

    // Still serving: a real ask works after all that.
    fake.enqueue({ text: 'It prints a greeting.' });
    const started = await client.command(Commands.ask.command, { uri, instruction: 'explain this' });
    await client.waitFor(() => client.progress.find((record) => record.value.kind === 'end'));
    // Rejected asks never started a progress: the only one is the real run's.
    expect(client.progress.filter((record) => record.value.kind === 'begin')).toHaveLength(1);
    const { messages } = await client.request(Requests.messages.method, { sessionId: started.sessionId });
    expect(messages.at(-1).content).toBe('It prints a greeting.');
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);
  });

  it('keeps history across a restart, continues a session, and never stores keys', async () => {
    const uri = workspace.uri('main.py');
    let client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
    await client.open(uri, 'print("héllo")\n', 'python');
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'main.py', old_string: 'héllo', new_string: 'héllo wörld' } }] }, { text: 'Greets the wörld now.' });
    const first = await client.command(Commands.ask.command, { uri, instruction: 'greet the world', provider: 'openai' });
    await client.waitFor(() => client.diagnostics.get(uri)?.length || undefined, 10_000, 'proposal diagnostics');
    const actions = await client.request<any[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [] },
    });
    const discard = actions.find((action) => action.title.startsWith('Discard agent edit'));
    await client.command(discard.command.command, ...discard.command.arguments);
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);

    client = TestClient.start({ profile: 'neovim', workspace, runEvents: true });
    await client.initialize();
    const { sessions } = await client.request(Requests.sessions.method, { workspaceUri: workspace.uri('').replace(/\/$/, '') });
    const session = sessions.find((candidate: any) => candidate.id === first.sessionId);
    expect(session).toMatchObject({ title: 'greet the world', provider: 'openai', messageCount: 2 });
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: first.sessionId });
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ status: 'discarded', summary: 'main.py (+1 −1)' });
    expect(proposals[0].diff).toContain('+print("héllo wörld")');

    const { hits } = await client.request(Requests.search.method, { query: 'wörld' });
    expect(hits.some((hit: any) => hit.sessionId === first.sessionId && hit.snippet.includes('⟦wörld⟧'))).toBe(true);

    // A follow-up continues the conversation: the model sees the earlier turn.
    await client.open(uri, 'print("héllo")\n', 'python');
    fake.enqueue({ text: 'Yes, as I said before.' });
    const second = await client.request(Requests.ask.method, { uri, instruction: 'are you sure?', sessionId: first.sessionId, provider: 'anthropic' });
    expect(second).toMatchObject({ sessionId: first.sessionId, status: 'completed', text: 'Yes, as I said before.' });
    const request = fake.modelRequests.at(-1)!;
    const sent = JSON.stringify(request.body.messages);
    expect(sent).toContain('greet the world');
    expect(sent).toContain('Greets the wörld now.');
    // runEvents carried the streamed text for this opted-in client, batched.
    const events = client.runEvents.filter((batch) => batch.runId === second.runId).flatMap((batch) => batch.events);
    expect(events.filter((event: any) => event.type === 'text').map((event: any) => event.text).join('')).toBe('Yes, as I said before.');
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'completed' });
    expect(await client.stop()).toBe(0);

    const database = join(workspace.dataDir, 'codebench.db');
    expect(statSync(database).mode & 0o777).toBe(0o600);
    const { readFileSync } = await import('node:fs');
    const bytes = Buffer.concat([readFileSync(database), readFileSync(`${database}-wal`, { flag: 'a+' })]).toString('latin1');
    for (const secret of Object.values(TEST_KEYS)) expect(bytes).not.toContain(secret);
    expect(fake.modelRequests.some((recorded) => recorded.headers.authorization === `Bearer ${TEST_KEYS.TEST_OPENAI_KEY}`)).toBe(true);
  });

  it('explains how to start Ollama when the default local model is unreachable', async () => {
    const empty = makeWorkspace({ 'a.txt': 'hello\n' });
    const port = await closedPort();
    // No config file at all: the built-in default is a local Ollama on 127.0.0.1:11434. Point
    // the default at a closed port instead through initializationOptions' override.
    const client = TestClient.start({
      profile: 'neovim',
      workspace: empty,
      // No CODEBENCH_CONFIG: naming a file that does not exist is an error of its own.
      env: { CODEBENCH_CONFIG: '' },
      initializationOptions: { providers: { local: { kind: 'ollama', model: 'qwen2.5-coder:7b', baseURL: `http://127.0.0.1:${port}` } } },
    });
    await client.initialize();
    const uri = empty.uri('a.txt');
    await client.open(uri, 'hello\n', 'text');
    await client.command(Commands.ask.command, { uri, instruction: 'hi' });
    const error = await client.waitFor(() => client.messages.find((message) => message.type === 1), 20_000, 'error message');
    expect(error.message).toContain('ollama serve');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(await client.stop()).toBe(0);
  });

  it('reports a broken config file by file and key, and keeps serving with defaults', async () => {
    const broken = makeWorkspace({ 'a.txt': 'hello\n' });
    writeFileSync(broken.configFile, JSON.stringify({ defaultProvider: 'x', providers: { x: { kind: 'ollama' } }, review: 'sometimes' }));
    chmodSync(broken.configFile, 0o600);
    const client = TestClient.start({ profile: 'neovim', workspace: broken });
    await client.initialize();
    // Reported as soon as the editor opens a file, not at the first ask.
    await client.open(broken.uri('a.txt'), 'hello\n', 'text');
    const error = await client.waitFor(() => client.messages.find((message) => message.type === 1), 10_000, 'config error');
    expect(error.message).toContain(broken.configFile);
    expect(error.message).toMatch(/providers\.x\.model/);
    expect(error.message).toMatch(/review/);
    const { sessions } = await client.request(Requests.sessions.method, {});
    expect(sessions).toEqual([]);
    expect(await client.stop()).toBe(0);
  });
});
