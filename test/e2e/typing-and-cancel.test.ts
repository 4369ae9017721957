import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { isResponseError, makeWorkspace, TestClient, writeConfig, type Profile, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

const ORIGINAL = ['const título = "ñ";', 'export function add(a: number, b: number) {', '  return a + b;', '}', ''].join('\n');

describe.each<Profile>(['neovim', 'helix'])('user typing and cancelling during a run (%s-like)', (profile) => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let uri: string;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/math.ts': ORIGINAL });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile, workspace });
    await client.initialize();
    uri = workspace.uri('src/math.ts');
    await client.open(uri, ORIGINAL);
  });

  afterAll(async () => {
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  async function resetDocument(): Promise<void> {
    const document = client.documents.get(uri)!;
    document.text = ORIGINAL;
    document.version += 1;
    await client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: document.version },
      contentChanges: [{ text: ORIGINAL }],
    });
  }

  async function applyPending(): Promise<void> {
    if (profile === 'helix') {
      const diagnostics = await client.waitFor(() => (client.diagnostics.get(uri)?.length ? client.diagnostics.get(uri) : undefined));
      const actions = await client.request<any[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        context: { diagnostics },
      });
      const apply = actions.find((action) => action.title.startsWith('Apply agent edit'));
      expect(await client.applyCodeAction(apply)).toEqual({ status: 'applied' });
    }
  }

  it('rebases the edit over lines the user typed above it while the model was talking', async () => {
    await resetDocument();
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'src/math.ts', old_string: 'return a + b;', new_string: 'return a + b + 0;' } }] },
      { text: 'Done: added zero for symmetry, which changes nothing at all.', chunkDelayMs: 150 },
    );
    const modelRequests = fake.modelRequests.length;
    await client.command(Commands.ask.command, { uri, instruction: 'add zero', provider: 'openai' });
    // Type once the agent has staged its edit and the second (slow) model turn is streaming.
    await client.waitFor(() => fake.modelRequests.length >= modelRequests + 2 || undefined, 10_000, 'second model turn');
    await client.type(uri, { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '// typed by the user: ✍️ ok\n' });
    await applyPending();
    const expected = `// typed by the user: ✍️ ok\n${ORIGINAL.replace('return a + b;', 'return a + b + 0;')}`;
    await client.waitFor(() => client.documents.get(uri)!.text === expected || undefined, 10_000, 'rebased edit');
    expect(client.documents.get(uri)!.text).toBe(expected);
  });

  it('refuses a real conflict and leaves the user\'s text untouched', async () => {
    await resetDocument();
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'src/math.ts', old_string: 'return a + b;', new_string: 'return b + a;' } }] },
      { text: 'Swapped the operands for no reason at all, really.', chunkDelayMs: 150 },
    );
    const modelRequests = fake.modelRequests.length;
    const messages = client.messages.length;
    await client.command(Commands.ask.command, { uri, instruction: 'swap', provider: 'anthropic' });
    await client.waitFor(() => fake.modelRequests.length >= modelRequests + 2 || undefined, 10_000, 'second model turn');
    await client.type(uri, { range: { start: { line: 2, character: 9 }, end: { line: 2, character: 14 } }, newText: 'a * b;' });
    const typed = client.documents.get(uri)!.text;
    if (profile === 'helix') {
      // The code action is not even offered: the server checks before offering.
      await client.waitFor(() => client.messages.slice(messages).find((message) => message.message.includes('proposes')), 10_000, 'proposal notice');
      const actions = await client.request<any[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        context: { diagnostics: [] },
      });
      expect(actions.some((action) => action.title.startsWith('Apply agent edit'))).toBe(false);
      const discard = actions.find((action) => action.title.startsWith('Discard agent edit'));
      expect(await client.command(discard.command.command, ...discard.command.arguments)).toEqual({ status: 'discarded' });
    } else {
      const warning = await client.waitFor(() => client.messages.slice(messages).find((message) => message.type === 2), 10_000, 'conflict warning');
      expect(warning.message).toContain('src/math.ts changed near line 3');
    }
    expect(client.documents.get(uri)!.text).toBe(typed);
  });

  it('cancels from the progress UI, stores the partial text, and keeps serving', async () => {
    await resetDocument();
    fake.enqueue({ text: 'one two three four five six seven eight nine ten eleven twelve', chunkDelayMs: 300 });
    const started = await client.command(Commands.ask.command, { uri, instruction: 'talk slowly', provider: 'ollama' });
    const begin = await client.waitFor(() => client.progress.find((record) => record.value.kind === 'begin' && !client.progressEnd(record.token) && record));
    await client.waitFor(() => fake.modelRequests.at(-1)?.body?.messages || undefined);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const cancelledAt = Date.now();
    await client.connection.sendNotification('window/workDoneProgress/cancel', { token: begin.token });
    const end = await client.waitFor(() => client.progressEnd(begin.token), 5000, 'end after cancel');
    expect(end.value.message).toBe('cancelled');
    expect(end.at - cancelledAt).toBeLessThan(1000);
    const { messages } = await client.request(Requests.messages.method, { sessionId: started.sessionId });
    expect(messages.map((message: any) => message.role)).toEqual(['user', 'assistant']);
    expect(messages[1].content).toMatch(/^one two/);
    expect(messages[1].content).not.toContain('twelve');
  });

  it('cancels a codebench/ask request with $/cancelRequest (RequestCancelled)', async () => {
    fake.enqueue({ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 300 });
    const source = new (await import('vscode-jsonrpc')).CancellationTokenSource();
    const pending = client.connection.sendRequest(Requests.ask.method, { uri, instruction: 'slow again', provider: 'compatible' }, source.token);
    await client.waitFor(() => fake.modelRequests.at(-1)?.rawBody.includes('slow again') || undefined);
    source.cancel();
    const error = await pending.then(() => undefined, (failure: unknown) => failure);
    expect(isResponseError(error)).toBe(true);
    expect((error as any).code).toBe(-32800);
    // Still serving.
    const { sessions } = await client.request(Requests.sessions.method, {});
    expect(sessions.length).toBeGreaterThan(0);
  });

  it('cancels by run id with codebench/cancel', async () => {
    fake.enqueue({ text: 'x y z x y z x y z x y z', chunkDelayMs: 300 });
    const pending = client.request(Requests.ask.method, { uri, instruction: 'slow the third', provider: 'ollama' });
    const begin = await client.waitFor(() => client.progress.find((record) => record.value.kind === 'begin' && record.value.message?.includes('slow the third') && record));
    await client.waitFor(() => fake.modelRequests.at(-1)?.rawBody.includes('slow the third') || undefined);
    // A client that does not know the run id yet (the request has not answered) cancels them all.
    const { cancelled } = await client.command(Commands.cancel.command, {});
    expect(cancelled).toHaveLength(1);
    const finished = await pending;
    expect(finished.status).toBe('cancelled');
    await client.waitFor(() => client.progressEnd(begin.token));
  });
});
