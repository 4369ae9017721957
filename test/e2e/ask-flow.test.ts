import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Profile, type Workspace } from './harness.js';
import { Commands } from '../../server/src/protocol/methods.js';

/** Non-ASCII before the edit on the same line: a position-encoding bug shifts the edit. */
const ORIGINAL = [
  '// ünïcödé 🌍 header',
  'export function greet(name: string): string {',
  '  const wave = "👋 héllo"; return wave + " hi " + name;',
  '}',
  '',
].join('\n');
const EXPECTED = ORIGINAL.replace('" hi "', '" there "');

const PROVIDERS = ['openai', 'compatible', 'anthropic', 'ollama'] as const;
const PROFILES: Profile[] = ['neovim', 'helix'];

describe.each(PROFILES)('ask flow as a %s-like client', (profile) => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/greet.ts': ORIGINAL, 'README.md': '# demo\n' });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile, workspace });
    await client.initialize();
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it('offers agent code actions without calling a model', async () => {
    const uri = workspace.uri('src/greet.ts');
    await client.open(uri, ORIGINAL);
    const before = fake.requests.length;
    const actions = await client.request<any[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 2, character: 0 }, end: { line: 2, character: 10 } },
      context: { diagnostics: [] },
    });
    const titles = actions.map((action) => action.title);
    expect(titles).toContain('Agent: explain this code');
    expect(titles).toContain('Agent: refactor this');
    expect(titles.includes('Ask agent…')).toBe(profile === 'neovim');
    expect(fake.requests.length).toBe(before);
  });

  it.each(PROVIDERS)('edits through the %s provider and lands exactly the right text', async (provider) => {
    const uri = workspace.uri('src/greet.ts');
    client.documents.set(uri, { text: ORIGINAL, version: client.documents.get(uri)!.version });
    // Reset the buffer to the original through a full-text change, as an editor's undo would.
    const document = client.documents.get(uri)!;
    document.version += 1;
    await client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: document.version },
      contentChanges: [{ text: ORIGINAL }],
    });
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'src/greet.ts', old_string: '" hi "', new_string: '" there "' } }] },
      { text: 'Changed the greeting to there.', chunkDelayMs: 30 },
    );
    const progressBefore = client.progress.length;
    const started = await client.command(Commands.ask.command, {
      uri,
      range: { start: { line: 2, character: 2 }, end: { line: 2, character: 20 } },
      instruction: `Say there instead of hi (${provider})`,
      provider,
    });
    expect(started.runId).toMatch(/[0-9a-f-]{36}/);
    expect(started.sessionId).toMatch(/[0-9a-f-]{36}/);

    const begin = await client.waitFor(() => client.progress.slice(progressBefore).find((record) => record.value.kind === 'begin'));
    expect(client.createdTokens).toContain(begin.token);
    expect(typeof begin.token).toBe('string');
    expect(begin.value.cancellable).toBe(true);
    const end = await client.waitFor(() => client.progressEnd(begin.token), 15_000, 'progress end');
    expect(end.value.message).toContain('src/greet.ts');

    if (profile === 'neovim') {
      await client.waitFor(() => client.documents.get(uri)!.text === EXPECTED || undefined, 10_000, 'edit applied');
      expect(client.prompts.at(-1)?.actions).toEqual(['Apply', 'Preview', 'Discard']);
    } else {
      const diagnostics = await client.waitFor(() => client.diagnostics.get(uri)?.length ? client.diagnostics.get(uri) : undefined);
      expect(diagnostics[0].severity).toBe(3);
      expect(diagnostics[0].source).toBe('codebench');
      const actions = await client.request<any[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        context: { diagnostics },
      });
      const apply = actions.find((action) => action.title.startsWith('Apply agent edit'));
      expect(apply).toBeDefined();
      expect(actions.some((action) => action.title.startsWith('Discard agent edit'))).toBe(true);
      const confirmed = await client.applyCodeAction(apply);
      expect(confirmed).toEqual({ status: 'applied' });
      await client.waitFor(() => (client.diagnostics.get(uri)?.length === 0 ? true : undefined), 5000, 'diagnostics cleared');
    }
    expect(client.documents.get(uri)!.text).toBe(EXPECTED);

    // The edit is minimal: one hunk that replaces just the word, not the whole line.
    if (profile === 'neovim') {
      const edit = client.appliedEdits.at(-1);
      expect(edit.documentChanges).toHaveLength(1);
      expect(edit.documentChanges[0].edits).toEqual([
        expect.objectContaining({ newText: expect.stringContaining('there') }),
      ]);
      expect(edit.documentChanges[0].edits[0].newText.length).toBeLessThan(10);
    }
    // Nothing was written to disk by the agent: the editor owns the buffer.
    expect(readFileSync(join(workspace.root, 'src/greet.ts'), 'utf8')).toBe(ORIGINAL);

    const wireRequest = fake.modelRequests.at(-2)!;
    expect(wireRequest.wire).toBe(provider === 'compatible' ? 'openai' : provider);
    expect(JSON.stringify(wireRequest.body)).toContain('Say there instead of hi');
  });

  it('creates new files as CreateFile + versionless edit', async () => {
    const uri = workspace.uri('src/greet.ts');
    fake.enqueue(
      { toolCalls: [{ name: 'write_file', args: { path: 'src/new-file.ts', content: 'export const made = "✓";\n' } }] },
      { text: 'Created src/new-file.ts.' },
    );
    await client.command(Commands.ask.command, { uri, instruction: 'Create a new file', provider: 'ollama' });
    const newUri = workspace.uri('src/new-file.ts');
    if (profile === 'neovim') {
      await client.waitFor(() => client.documents.get(newUri)?.text === 'export const made = "✓";\n' || undefined, 15_000, 'new file');
      const edit = client.appliedEdits.at(-1);
      expect(edit.documentChanges[0]).toMatchObject({ kind: 'create', uri: newUri });
      expect(edit.documentChanges[1].textDocument).toEqual({ uri: newUri, version: null });
    } else {
      await client.waitFor(() => client.messages.find((message) => message.message.includes('src/new-file.ts')), 15_000, 'proposal message');
      const actions = await client.request<any[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        context: { diagnostics: [] },
      });
      // The proposal only creates a file, so it is offered in the document the user asked from.
      const apply = actions.find((action) => action.title === 'Apply agent edit: src/new-file.ts (+1 −0)');
      expect(apply).toBeDefined();
      expect(await client.applyCodeAction(apply)).toEqual({ status: 'applied' });
      expect(client.documents.get(newUri)?.text).toBe('export const made = "✓";\n');
    }
  });
});
