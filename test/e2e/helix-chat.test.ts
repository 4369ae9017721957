import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands } from '../../server/src/protocol/methods.js';

/** The Helix chat: a transcript file opened with showDocument, messages sent by code action. */
const SOURCE = 'export function greet(name: string): string {\n  return "hi " + name;\n}\n';

describe('chat transcript file as a Helix-like client', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let chatUri: string;
  let sessionId: string;

  const actionsAt = (uri: string, line = 0) =>
    client.request<any[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line, character: 0 }, end: { line, character: 0 } },
      context: { diagnostics: [] },
    });
  const endOf = (uri: string) => {
    const lines = client.documents.get(uri)!.text.split('\n');
    return { line: lines.length - 1, character: Buffer.byteLength(lines.at(-1)!, 'utf8') };
  };
  const typeAtEnd = (uri: string, text: string) => client.type(uri, { range: { start: endOf(uri), end: endOf(uri) }, newText: text });

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/greet.ts': SOURCE });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
    await client.open(workspace.uri('src/greet.ts'), SOURCE);
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it('offers "Agent: open chat" everywhere and opens a new chat file with showDocument', async () => {
    const titles = (await actionsAt(workspace.uri('src/greet.ts'))).map((action) => action.title);
    expect(titles).toContain('Agent: open chat');
    const action = (await actionsAt(workspace.uri('src/greet.ts'))).find((candidate) => candidate.title === 'Agent: open chat');
    const opened = await client.command(action.command.command, ...action.command.arguments);
    expect(opened.shown).toBe(true);
    chatUri = opened.uri;
    expect(client.shownDocuments).toContain(chatUri);
    const path = fileURLToPath(chatUri);
    // Each new chat has a file of its own.
    expect(path).toMatch(new RegExp(`^${join(workspace.dataDir, 'chats')}/new-[0-9a-z]+\.md$`));
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/\n## you\n\n<!-- .*Send to agent.* -->\n\n$/);
    await client.open(chatUri, text, 'markdown');
  });

  it('offers only chat actions in the chat file and sends the message written under "## you"', async () => {
    const titles = (await actionsAt(chatUri)).map((action) => action.title);
    expect(titles).toContain('Send to agent');
    expect(titles).not.toContain('Agent: explain this code');
    await typeAtEnd(chatUri, 'What does greet do?\n');

    fake.enqueue({ text: 'It greets someone by name.', chunkDelayMs: 20 });
    const send = (await actionsAt(chatUri)).find((action) => action.title === 'Send to agent');
    const started = await client.command(send.command.command, ...send.command.arguments);
    sessionId = started.sessionId;
    expect(sessionId).toMatch(/[0-9a-f-]{36}/);

    // Rewritten through workspace/applyEdit with the exact version (the Helix profile refuses others).
    const text = await client.waitFor(() => {
      const current = client.documents.get(chatUri)!.text;
      return current.includes('It greets someone by name.') && current;
    }, 20_000, 'the answer in the chat file');
    expect(client.refusedEdits).toHaveLength(0);
    expect(text).toContain(`- Session: \`${sessionId}\``);
    expect(text).toContain('What does greet do?');
    expect(text.indexOf('What does greet do?')).toBeLessThan(text.indexOf('It greets someone by name.'));
    expect(text).toMatch(/\n## you\n\n<!-- .* -->\n\n$/);
    // The model got the workspace, not the chat file, as its place to work.
    const request = JSON.stringify(fake.requests.at(-1));
    expect(request).toContain('What does greet do?');
  });

  it('continues the same session and keeps a message typed while the agent was working', async () => {
    await typeAtEnd(chatUri, 'And in French?\n');
    fake.enqueue({ text: 'Il salue quelqu’un par son nom.', chunkDelayMs: 150 });
    const started = await client.command(Commands.sendChat.command, { uri: chatUri });
    expect(started.sessionId).toBe(sessionId);
    await typeAtEnd(chatUri, 'Thanks!');
    const text = await client.waitFor(() => {
      const current = client.documents.get(chatUri)!.text;
      return current.includes('Il salue') && current;
    }, 20_000, 'the second answer');
    expect(text.endsWith('\n## you\n\n<!-- Write your message below this line, then run the code action "Send to agent" (space a in Helix). -->\n\nThanks!\n')).toBe(true);
    expect(text.match(/And in French\?/g)).toHaveLength(1);
  });

  it('writes the disk when the chat file is not open', async () => {
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: chatUri } });
    client.opened.delete(chatUri);
    const path = fileURLToPath(chatUri);
    writeFileSync(path, `${readFileSync(path, 'utf8').replace(/Thanks!\n?$/, '')}One more question?\n`);
    fake.enqueue({ text: 'Answered on disk.' });
    await client.command(Commands.sendChat.command, { uri: chatUri });
    await expect.poll(() => readFileSync(path, 'utf8'), { timeout: 20_000 }).toContain('Answered on disk.');
    expect(readFileSync(path, 'utf8')).toMatch(/\n## you\n\n<!-- .* -->\n\n$/);
  });

  it('opens a stored session by id and rejects bad arguments', async () => {
    const opened = await client.command(Commands.openChat.command, { sessionId });
    expect(fileURLToPath(opened.uri)).toBe(join(workspace.dataDir, 'chats', `${sessionId}.md`));
    expect(readFileSync(fileURLToPath(opened.uri), 'utf8')).toContain('Answered on disk.');
    await expect(client.command(Commands.openChat.command, { sessionId: 'nope' })).rejects.toThrow(/no session with id "nope"/);
    await expect(client.command(Commands.sendChat.command, { uri: workspace.uri('src/greet.ts') })).rejects.toThrow(/not a codebench chat file/);
    expect(existsSync(join(workspace.dataDir, 'chats', 'nope.md'))).toBe(false);
  });

  it('takes a bare instruction string (Helix 25.07 :lsp-workspace-command) for the last file used', async () => {
    fake.enqueue({ text: 'It concatenates.' });
    const started = await client.command(Commands.ask.command, 'explain greet');
    expect(started.runId).toMatch(/[0-9a-f-]{36}/);
    await client.waitFor(() => client.progress.some((record) => record.value.kind === 'end' && record.value.message?.includes('It concatenates')) || client.messages.some((message) => message.message.includes('It concatenates')), 20_000, 'the answer');
    expect(JSON.stringify(fake.requests.at(-1))).toContain('greet.ts');
    const titles = (await actionsAt(workspace.uri('src/greet.ts'))).map((action) => action.title);
    expect(titles).toContain('Agent: open chat (last run)');
  });
});
