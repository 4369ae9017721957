import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { client, ndJsonStream, type ClientConnection, type SessionNotification } from '@agentclientprotocol/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { BIN, makeWorkspace, TEST_KEYS, TestClient, writeConfig, type Workspace } from './harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

const SOURCE = 'export function area(r: number) {\n  return 3.14 * r * r; // π ≈ 3.14\n}\n';
const EDITED = SOURCE.replace('3.14 * r * r', 'Math.PI * r * r');

interface Editor {
  connection: ClientConnection;
  child: ChildProcess;
  updates: SessionNotification[];
  permissions: any[];
  writes: Array<{ path: string; content: string }>;
  reads: string[];
  stderr: () => string;
  close(): Promise<void>;
}

/** Zed's side of ACP: the SDK's client app over the real `codebench acp` process. */
function startEditor(workspace: Workspace, options: { fs: boolean; answer?: 'apply' | 'discard' | 'wait'; buffers?: Record<string, string> }): Editor {
  const child = spawn(process.execPath, [BIN, 'acp'], {
    cwd: workspace.root,
    env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...TEST_KEYS },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const editor: Partial<Editor> = { child, updates: [], permissions: [], writes: [], reads: [], stderr: () => stderr };
  const app = client({ name: 'test-editor' })
    .onNotification('session/update', ({ params }) => {
      editor.updates!.push(params);
    })
    .onRequest('session/request_permission', async ({ params, signal }) => {
      editor.permissions!.push(params);
      if (options.answer === 'wait') {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return { outcome: { outcome: 'cancelled' } };
      }
      return { outcome: { outcome: 'selected', optionId: options.answer ?? 'apply' } };
    });
  if (options.fs) {
    app
      .onRequest('fs/read_text_file', ({ params }) => {
        editor.reads!.push(params.path);
        const buffer = options.buffers?.[params.path];
        return { content: buffer ?? readFileSync(params.path, 'utf8') };
      })
      .onRequest('fs/write_text_file', ({ params }) => {
        editor.writes!.push({ path: params.path, content: params.content });
        return {};
      });
  }
  const stream = ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>);
  editor.connection = app.connect(stream);
  editor.close = async () => {
    editor.connection!.close();
    child.stdin!.end();
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
  };
  return editor as Editor;
}

async function initialize(editor: Editor, fs: boolean) {
  return editor.connection.agent.request('initialize', {
    protocolVersion: 1,
    clientCapabilities: { fs: { readTextFile: fs, writeTextFile: fs }, terminal: false },
  });
}

const textOf = (updates: SessionNotification[], kind: string) =>
  updates
    .filter((notification) => notification.update.sessionUpdate === kind)
    .map((notification) => ((notification.update as any).content?.text ?? ''))
    .join('');

describe('codebench acp (Agent Client Protocol, as Zed drives it)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  const file = () => join(workspace.root, 'src', 'area.ts');

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/area.ts': SOURCE });
    writeConfig(workspace, fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('streams a prompt as message chunks and ends with end_turn', async () => {
    const editor = startEditor(workspace, { fs: false });
    const init = await initialize(editor, false);
    expect(init.protocolVersion).toBe(1);
    expect(init.agentCapabilities?.loadSession).toBe(true);
    const { sessionId, modes } = await editor.connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
    expect(modes?.availableModes.map((mode) => mode.id)).toEqual(['ask', 'auto']);
    fake.enqueue({ text: 'The function computes the area of a circle.' });
    const response = await editor.connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'what does area do?' }] });
    expect(response.stopReason).toBe('end_turn');
    const chunks = editor.updates.filter((notification) => notification.update.sessionUpdate === 'agent_message_chunk');
    expect(chunks.length).toBeGreaterThan(1);
    expect(textOf(editor.updates, 'agent_message_chunk')).toBe('The function computes the area of a circle.');
    const { sessions } = await editor.connection.agent.request('session/list', { cwd: workspace.root });
    expect(sessions.find((session) => session.sessionId === sessionId)?.title).toBe('what does area do?');
    await editor.close();
  });

  it('turns an edit into a permission request with a diff, and writes through fs only after allow', async () => {
    const unsaved = SOURCE.replace('// π ≈ 3.14', '// π ≈ 3.14 (unsaved note)');
    const editor = startEditor(workspace, { fs: true, answer: 'apply', buffers: { [file()]: unsaved } });
    await initialize(editor, true);
    const { sessionId } = await editor.connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'src/area.ts', old_string: '3.14 * r * r', new_string: 'Math.PI * r * r' } }] },
      { text: 'Used Math.PI.' },
    );
    const response = await editor.connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'use Math.PI' }] });
    expect(response.stopReason).toBe('end_turn');
    // The agent read the unsaved buffer through the editor, not the disk.
    expect(editor.reads).toContain(file());
    const [permission] = editor.permissions;
    expect(permission.toolCall.kind).toBe('edit');
    expect(permission.toolCall.content[0]).toMatchObject({ type: 'diff', path: file(), oldText: unsaved, newText: unsaved.replace('3.14 * r * r', 'Math.PI * r * r') });
    expect(permission.options.map((option: any) => option.kind)).toEqual(['allow_once', 'reject_once']);
    expect(editor.writes).toEqual([{ path: file(), content: unsaved.replace('3.14 * r * r', 'Math.PI * r * r') }]);
    // Written through the editor: the disk itself was never touched by the agent.
    expect(readFileSync(file(), 'utf8')).toBe(SOURCE);
    const toolCalls = editor.updates.map((notification) => notification.update).filter((update) => update.sessionUpdate === 'tool_call');
    expect(toolCalls.some((call: any) => call.kind === 'edit' && call.title.startsWith('editing'))).toBe(true);
    const done = editor.updates.map((notification) => notification.update).filter((update: any) => update.sessionUpdate === 'tool_call_update' && update.toolCallId.startsWith('proposal-'));
    expect(done.at(-1)).toMatchObject({ status: 'completed' });
    await editor.close();
  });

  it('without fs capabilities: nothing is written before allow, discard writes nothing, allow writes the disk', async () => {
    const editor = startEditor(workspace, { fs: false, answer: 'discard' });
    await initialize(editor, false);
    const { sessionId } = await editor.connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'src/area.ts', old_string: '3.14 * r * r', new_string: 'Math.PI * r * r' } }] }, { text: 'Done.' });
    expect((await editor.connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'use Math.PI' }] })).stopReason).toBe('end_turn');
    expect(editor.permissions).toHaveLength(1);
    expect(readFileSync(file(), 'utf8')).toBe(SOURCE);
    await editor.close();

    const auto = startEditor(workspace, { fs: false });
    await initialize(auto, false);
    const session = await auto.connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
    await auto.connection.agent.request('session/set_mode', { sessionId: session.sessionId, modeId: 'auto' });
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'src/area.ts', old_string: '3.14 * r * r', new_string: 'Math.PI * r * r' } }] }, { text: 'Done.' });
    expect((await auto.connection.agent.request('session/prompt', { sessionId: session.sessionId, prompt: [{ type: 'text', text: 'use Math.PI' }] })).stopReason).toBe('end_turn');
    expect(auto.permissions).toHaveLength(0);
    expect(readFileSync(file(), 'utf8')).toBe(EDITED);
    await auto.close();
  });

  it('session/cancel ends a streaming turn with cancelled, and one waiting for permission too', async () => {
    const editor = startEditor(workspace, { fs: false, answer: 'wait' });
    await initialize(editor, false);
    const { sessionId } = await editor.connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
    fake.enqueue({ text: 'one two three four five six seven eight nine ten', chunkDelayMs: 300 });
    const pending = editor.connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'talk slowly' }] });
    await new Promise((resolve) => setTimeout(resolve, 900));
    const cancelledAt = Date.now();
    await editor.connection.agent.notify('session/cancel', { sessionId });
    expect((await pending).stopReason).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(1500);

    fake.enqueue({ toolCalls: [{ name: 'write_file', args: { path: 'src/new.ts', content: 'export {};\n' } }] }, { text: 'Created.' });
    const waiting = editor.connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'make a file' }] });
    while (editor.permissions.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    await editor.connection.agent.notify('session/cancel', { sessionId });
    expect((await waiting).stopReason).toBe('cancelled');
    expect(() => readFileSync(join(workspace.root, 'src', 'new.ts'))).toThrow();
    await editor.close();
  });

  it('session/load replays a session created through the language server (same store)', async () => {
    const lsp = TestClient.start({ profile: 'neovim', workspace, choose: () => 'Discard' });
    await lsp.initialize();
    const uri = workspace.uri('src/area.ts');
    await lsp.open(uri, readFileSync(file(), 'utf8'));
    fake.enqueue({ toolCalls: [{ name: 'read_file', args: { path: 'src/area.ts' } }] }, { text: 'It returns πr².' });
    const finished = await lsp.request(Requests.ask.method, { uri, instruction: 'explain area via lsp' });
    expect(await lsp.stop()).toBe(0);

    const editor = startEditor(workspace, { fs: false });
    await initialize(editor, false);
    await editor.connection.agent.request('session/load', { sessionId: finished.sessionId, cwd: workspace.root, mcpServers: [] });
    expect(textOf(editor.updates, 'user_message_chunk')).toBe('explain area via lsp');
    expect(textOf(editor.updates, 'agent_message_chunk')).toBe('It returns πr².');
    expect(editor.updates.some((notification) => notification.update.sessionUpdate === 'tool_call' && (notification.update as any).title === 'read_file')).toBe(true);
    // And the conversation continues with the earlier turn as context.
    fake.enqueue({ text: 'Yes.' });
    await editor.connection.agent.request('session/prompt', { sessionId: finished.sessionId, prompt: [{ type: 'text', text: 'sure?' }] });
    expect(JSON.stringify(fake.modelRequests.at(-1)!.body)).toContain('explain area via lsp');
    await expect(editor.connection.agent.request('session/load', { sessionId: 'nope', cwd: workspace.root, mcpServers: [] })).rejects.toThrow(/no stored session/);
    await editor.close();
  });
});
