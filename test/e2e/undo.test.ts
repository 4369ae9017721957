import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { applyTextEdits, eventually, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

/**
 * Undo through the built server, on real files: a two-file proposal applied, both documents
 * saved and closed, the server restarted, and `codebench.undo` puts both files back byte for byte
 * from the diff in the store; a user edit on an agent line is a conflict that changes nothing; a
 * user edit elsewhere is kept; history says `reverted`; `codebench.applyProposal` applies it
 * again; "Undo agent edit" is offered on the agent's lines only.
 */

const lines = (name: string, count: number) => Array.from({ length: count }, (_, index) => `export const ${name}${index + 1} = ${index + 1};\n`).join('');
const A = lines('a', 20);
const B = `// b.ts — café ☕\r\n${lines('b', 12).replace(/\n/g, '\r\n')}`;
const A_AGENT = A.replace('a10 = 10', 'a10 = 100');
const B_AGENT = B.replace('b5 = 5', 'b5 = 50');
/** 0-based lines the agent wrote. */
const A_LINE = 9;

/**
 * An editor that applies workspace edits to its open buffers (sending didChange) and, for files it
 * has not open, to the files on disk, and deletes files: what Neovim does, plus saving.
 */
function editLikeAnEditor(client: TestClient, received: any[]): void {
  client.connection.onRequest('workspace/applyEdit', (params: { edit: any }): { applied: boolean; failureReason?: string } => {
    received.push(params.edit);
    for (const change of params.edit.documentChanges ?? []) {
      if (change.kind === 'delete') {
        unlinkSync(fileURLToPath(change.uri));
        continue;
      }
      if (change.kind === 'create') {
        if (!existsSync(fileURLToPath(change.uri))) writeFileSync(fileURLToPath(change.uri), '');
        continue;
      }
      const uri = change.textDocument.uri;
      const open = client.opened.has(uri) ? client.documents.get(uri) : undefined;
      if (!open) {
        const path = fileURLToPath(uri);
        writeFileSync(path, applyTextEdits(readFileSync(path, 'utf8'), change.edits, client.encoding));
        continue;
      }
      if (change.textDocument.version !== null && change.textDocument.version !== open.version) return { applied: false, failureReason: 'document has changed' };
      open.text = applyTextEdits(open.text, change.edits, client.encoding);
      open.version += 1;
      void client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: open.version }, contentChanges: [{ text: open.text }] });
    }
    return { applied: true };
  });
}

describe('codebench.undo', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient | undefined;
  const received: any[] = [];
  const disk = (path: string) => readFileSync(join(workspace.root, path), 'utf8');

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterEach(async () => {
    if (client) {
      expect(client.frameViolations()).toEqual([]);
      expect(await client.stop()).toBe(0);
    }
    client = undefined;
    fake.reset();
  });
  afterAll(async () => {
    await fake.close();
  });

  async function start(): Promise<TestClient> {
    client = TestClient.start({ profile: 'neovim', workspace, choose: () => 'Apply' });
    editLikeAnEditor(client, received);
    await client.initialize();
    return client;
  }

  async function restart(): Promise<TestClient> {
    if (client) expect(await client.stop()).toBe(0);
    received.length = 0;
    return start();
  }

  /** Both files opened, the agent edits both, the user applies; saved and closed. The proposal's id. */
  async function applyTwoFileProposal(): Promise<{ proposalId: string; sessionId: string }> {
    workspace = makeWorkspace({ 'src/a.ts': A, 'src/b.ts': B });
    writeConfig(workspace, fake);
    const editor = await start();
    const [a, b] = [workspace.uri('src/a.ts'), workspace.uri('src/b.ts')];
    await editor.open(a, A);
    await editor.open(b, B);
    fake.enqueue(
      {
        toolCalls: [
          { name: 'edit_file', args: { path: 'src/a.ts', old_string: 'a10 = 10', new_string: 'a10 = 100' } },
          { name: 'edit_file', args: { path: 'src/b.ts', old_string: 'b5 = 5', new_string: 'b5 = 50' } },
        ],
      },
      { text: 'Changed both.' },
    );
    const { sessionId } = await editor.command(Commands.ask.command, { uri: a, instruction: 'bump a10 and b5' });
    const proposal = await eventually(async () => {
      const [found] = (await editor.request(Requests.proposals.method, { sessionId })).proposals;
      expect(found?.status).toBe('applied');
      return found;
    }, 15_000);
    for (const uri of [a, b]) {
      writeFileSync(fileURLToPath(uri), editor.documents.get(uri)!.text);
      await editor.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
      editor.opened.delete(uri);
    }
    expect([disk('src/a.ts'), disk('src/b.ts')]).toEqual([A_AGENT, B_AGENT]);
    return { proposalId: proposal.id, sessionId };
  }

  async function codeActionTitles(editor: TestClient, uri: string, line: number): Promise<string[]> {
    const actions = await editor.request<any[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line, character: 0 }, end: { line, character: 0 } },
      context: { diagnostics: [] },
    });
    return actions.map((action) => action.title);
  }

  it('after closing both documents and restarting the server: both files exactly as before, history says reverted, and it applies again', async () => {
    const { proposalId, sessionId } = await applyTwoFileProposal();
    const editor = await restart();
    const result = await editor.command(Commands.undo.command, {});
    expect(result).toEqual({ status: 'reverted', proposalId, files: ['src/a.ts', 'src/b.ts'], message: 'reverted "2 files (+2 −2)" in src/a.ts, src/b.ts' });
    expect(disk('src/a.ts')).toBe(A);
    expect(disk('src/b.ts')).toBe(B);
    // One edit for both files, each against the disk (version null).
    expect(received).toHaveLength(1);
    expect(received[0].documentChanges.map((change: any) => [change.textDocument.uri, change.textDocument.version])).toEqual([
      [workspace.uri('src/a.ts'), null],
      [workspace.uri('src/b.ts'), null],
    ]);
    const [recorded] = (await editor.request(Requests.proposals.method, { sessionId })).proposals;
    expect(recorded.status).toBe('reverted');
    // Nothing is left to undo in this workspace now.
    expect(await editor.command(Commands.undo.command, {})).toMatchObject({ status: 'nothing' });

    expect(await editor.command(Commands.applyProposal.command, { proposalId })).toEqual({ status: 'applied' });
    expect([disk('src/a.ts'), disk('src/b.ts')]).toEqual([A_AGENT, B_AGENT]);
    expect((await editor.request(Requests.proposals.method, { sessionId })).proposals[0].status).toBe('applied');
  });

  it('a user edit on the line the agent wrote: conflict naming file and lines, nothing applied', async () => {
    const { sessionId } = await applyTwoFileProposal();
    const mine = A_AGENT.replace('a10 = 100', 'a10 = 1000');
    writeFileSync(join(workspace.root, 'src/a.ts'), mine);
    const editor = await restart();
    const result = await editor.command(Commands.undo.command, {});
    expect(result.status).toBe('conflict');
    expect(result.files).toEqual(['src/a.ts']);
    expect(result.message).toBe(`not reverted: you changed src/a.ts line ${A_LINE + 1} since the agent wrote them; nothing was changed`);
    expect(received).toHaveLength(0);
    expect([disk('src/a.ts'), disk('src/b.ts')]).toEqual([mine, B_AGENT]);
    expect((await editor.request(Requests.proposals.method, { sessionId })).proposals[0].status).toBe('applied');
    expect(editor.messages.some((message) => message.message.includes('src/a.ts line 10'))).toBe(true);
  });

  it('a user edit elsewhere, unsaved in an open buffer: kept; the rest reverted in the buffer (versioned) and on disk', async () => {
    await applyTwoFileProposal();
    const editor = await restart();
    const uri = workspace.uri('src/a.ts');
    await editor.open(uri, A_AGENT);
    // Line 20 is far from the agent's line 10 and its three lines of context.
    await editor.type(uri, { range: { start: { line: 19, character: 0 }, end: { line: 19, character: 0 } }, newText: '// mine\n' });
    const result = await editor.command(Commands.undo.command, {});
    expect(result.status).toBe('reverted');
    expect(received[0].documentChanges[0].textDocument).toEqual({ uri, version: 2 });
    expect(editor.documents.get(uri)!.text).toBe(A.replace('export const a20', '// mine\nexport const a20'));
    expect(disk('src/b.ts')).toBe(B);
  });

  it('"Undo agent edit" is offered on the agent\'s line after a restart, not elsewhere, and undoes it', async () => {
    const { proposalId } = await applyTwoFileProposal();
    const editor = await restart();
    const uri = workspace.uri('src/a.ts');
    await editor.open(uri, A_AGENT);
    const title = 'Undo agent edit: 2 files (+2 −2)';
    await eventually(async () => expect(await codeActionTitles(editor, uri, A_LINE)).toContain(title));
    expect(await codeActionTitles(editor, uri, 0)).not.toContain(title);
    expect(await codeActionTitles(editor, uri, A_LINE + 1)).not.toContain(title);
    const actions = await editor.request<any[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: A_LINE, character: 3 }, end: { line: A_LINE, character: 3 } },
      context: { diagnostics: [] },
    });
    const undo = actions.find((action) => action.title === title);
    expect(undo.command).toEqual({ title: 'Undo agent edit', command: Commands.undo.command, arguments: [{ proposalId }] });
    expect(await editor.command(undo.command.command, ...undo.command.arguments)).toMatchObject({ status: 'reverted' });
    await editor.waitFor(() => editor.documents.get(uri)!.text === A, 5000, 'the buffer reverted');
    expect(await codeActionTitles(editor, uri, A_LINE)).not.toContain(title);
  });

  it('a file the agent created is deleted by the undo, only while it is exactly what the agent wrote', async () => {
    workspace = makeWorkspace({ 'src/a.ts': A });
    writeConfig(workspace, fake);
    const editor = await start();
    const a = workspace.uri('src/a.ts');
    await editor.open(a, A);
    fake.enqueue({ toolCalls: [{ name: 'write_file', args: { path: 'src/new.ts', content: 'export const fresh = 1;\n' } }] }, { text: 'Created.' });
    const { sessionId } = await editor.command(Commands.ask.command, { uri: a, instruction: 'add a file' });
    const proposal = await eventually(async () => {
      const [found] = (await editor.request(Requests.proposals.method, { sessionId })).proposals;
      expect(found?.status).toBe('applied');
      return found;
    }, 15_000);
    const created = join(workspace.root, 'src/new.ts');
    expect(readFileSync(created, 'utf8')).toBe('export const fresh = 1;\n');
    writeFileSync(created, 'export const fresh = 2;\n');
    expect(await editor.command(Commands.undo.command, { proposalId: proposal.id })).toMatchObject({ status: 'conflict', message: 'not reverted: you changed src/new.ts since the agent created it; nothing was changed' });
    expect(existsSync(created)).toBe(true);
    writeFileSync(created, 'export const fresh = 1;\n');
    expect(await editor.command(Commands.undo.command, { proposalId: proposal.id })).toMatchObject({ status: 'reverted', files: ['src/new.ts'] });
    expect(existsSync(created)).toBe(false);
    expect(received.at(-1).documentChanges).toEqual([{ kind: 'delete', uri: workspace.uri('src/new.ts'), options: { ignoreIfNotExists: true } }]);
  });

  it('an unknown proposal id is InvalidParams naming the field', async () => {
    workspace = makeWorkspace({ 'src/a.ts': A });
    writeConfig(workspace, fake);
    const editor = await start();
    await expect(editor.command(Commands.undo.command, { proposalId: 'nope' })).rejects.toThrow(/codebench\.undo arguments\[0\]\.proposalId: no proposal "nope"/);
    expect(await editor.command(Commands.undo.command, {})).toMatchObject({ status: 'nothing' });
  });
});
