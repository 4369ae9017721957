import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

/**
 * The code-action menu as Helix 25.01 shows it (sorted by kind, then preferred, otherwise in the
 * server's order), the hunk text in the proposal diagnostics, the advertised commands and what a
 * command run bare from `:lsp-workspace-command` does; and the Neovim plugin's profile, which
 * reviews inline and so gets neither proposal diagnostics nor the chat-file action.
 */
const ORIGINAL = ['// @agent say hello instead of hi', 'export function greet(name: string): string {', '  return "hi " + name;', '}', ''].join('\n');
const EDITS = {
  toolCalls: [
    { name: 'edit_file', args: { path: 'src/greet.ts', old_string: '// @agent say hello instead of hi\n', new_string: '' } },
    { name: 'edit_file', args: { path: 'src/greet.ts', old_string: '"hi "', new_string: '"hello "' } },
  ],
};
const SLOW_ANSWER = { text: 'I replaced the greeting with hello and removed the directive line, nothing else changed in the file at all.', chunkDelayMs: 60 };

/** helix-term's code action sort: category (quickfix 0, refactor.rewrite 3, other 7), then preferred; stable. */
function helixOrder(actions: any[]): string[] {
  const category = (kind: string | undefined) => {
    if (kind === undefined) return 7;
    const [head, sub] = kind.split('.');
    if (head === 'quickfix') return 0;
    if (head === 'refactor') return ({ extract: 1, inline: 2, rewrite: 3, move: 4, surround: 5 } as Record<string, number>)[sub ?? ''] ?? 7;
    return head === 'source' ? 6 : 7;
  };
  return actions
    .map((action, index) => ({ action, index }))
    .sort((a, b) => category(a.action.kind) - category(b.action.kind) || Number(b.action.isPreferred === true) - Number(a.action.isPreferred === true) || a.index - b.index)
    .map(({ action }) => action.title);
}

describe('Helix: the menu, the hunk text and the commands', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let init: any;
  let uri: string;
  const actionsAt = (target: string, line = 0) =>
    client.request<any[]>('textDocument/codeAction', { textDocument: { uri: target }, range: { start: { line, character: 0 }, end: { line, character: 0 } }, context: { diagnostics: [] } });

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/greet.ts': ORIGINAL });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'helix', workspace, clientName: 'helix' });
    init = await client.initialize();
    uri = workspace.uri('src/greet.ts');
    await client.open(uri, ORIGINAL);
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it('lists only the commands a person can run from :lsp-workspace-command', () => {
    const commands: string[] = init.capabilities.executeCommandProvider.commands;
    for (const shown of [Commands.ask, Commands.cancel, Commands.openChat, Commands.undo, Commands.applyProposal]) expect(commands).toContain(shown.command);
    for (const hidden of [Commands.confirmApplied, Commands.approveCommand, Commands.denyCommand, Commands.sendChat, Commands.askPrompt]) expect(commands).not.toContain(hidden.command);
  });

  it('answers a listed command run without arguments on screen, not only in the log', async () => {
    const before = client.shownDocuments.length;
    const opened = await client.command(Commands.ask.command);
    expect(fileURLToPath(opened.uri)).toMatch(/chats\/new-[0-9a-z]+\.md$/);
    expect(client.shownDocuments.length).toBe(before + 1);
    expect(client.messages.at(-1)?.message).toMatch(/codebench\.ask: write your request under "## you"/);
    expect(await client.command(Commands.applyProposal.command)).toBeNull();
    expect(client.messages.at(-1)?.message).toBe('codebench.applyProposal: there is no pending agent proposal.');
  });

  it('puts "Cancel agent run" first while the directive runs, and no longer offers the directive', async () => {
    const directive = (await actionsAt(uri)).find((action) => action.title === 'Agent: say hello instead of hi');
    expect(directive).toBeDefined();
    fake.enqueue(EDITS, SLOW_ANSWER);
    await client.command(directive.command.command, ...directive.command.arguments);
    const during = helixOrder(await actionsAt(uri));
    expect(during[0]).toBe('Cancel agent run: say hello instead of hi');
    expect(during).not.toContain('Agent: say hello instead of hi');
    expect(client.createdTokens.at(-1)).toMatch(/^codebench-\d+$/);
  });

  it('shows each hunk\'s new text in its diagnostic, and puts Apply / Preview / Discard first', async () => {
    const diagnostics = await client.waitFor(() => (client.diagnostics.get(uri)?.length ?? 0) >= 2 && client.diagnostics.get(uri)!, 20_000, 'the proposal diagnostics');
    const messages = diagnostics.map((diagnostic) => diagnostic.message as string);
    const changed = messages.find((message) => message.includes('hello'))!;
    expect(changed.split('\n')[0]).toBe('Agent proposal becomes: return "hello " + name;');
    expect(changed.split('\n')[1]).toBe('    return "hello " + name;');
    expect(messages.some((message) => message.startsWith('Agent proposal: delete this line'))).toBe(true);

    const menu = helixOrder(await actionsAt(uri));
    expect(menu.slice(0, 3)).toEqual(['Apply agent edit: src/greet.ts (+1 −2)', 'Preview agent edit: src/greet.ts (+1 −2)', 'Discard agent edit: src/greet.ts (+1 −2)']);
    expect(menu).not.toContain('Agent: say hello instead of hi');
    expect(menu.some((title) => title.startsWith('Cancel agent run'))).toBe(false);
  });

  it('titles the session with the request, not the note about the directive', async () => {
    const { sessions } = await client.request<any>(Requests.sessions.method, {});
    expect(sessions[0].title).toBe('say hello instead of hi');
  });

  it('runs a bare review command on the only pending proposal', async () => {
    expect(await client.command(Commands.discardProposal.command)).toEqual({ status: 'discarded' });
    expect(readFileSync(fileURLToPath(uri), 'utf8')).toBe(ORIGINAL);
    // The proposal gone, the directive is offered again.
    expect((await actionsAt(uri)).map((action) => action.title)).toContain('Agent: say hello instead of hi');
  });

  it('does not offer "Send to agent" while the chat\'s run is going, and gives each new chat its own file', async () => {
    const first = await client.command(Commands.openChat.command, {});
    const text = readFileSync(fileURLToPath(first.uri), 'utf8');
    await client.open(first.uri, `${text}What is greet?\n`, 'markdown');
    fake.enqueue({ text: 'It greets someone by name, slowly and with some care for the words chosen.', chunkDelayMs: 60 });
    await client.command(Commands.sendChat.command, { uri: first.uri });
    const during = helixOrder(await actionsAt(first.uri));
    expect(during[0]).toMatch(/^Cancel agent run: What is greet\?/);
    expect(during).not.toContain('Send to agent');
    await client.waitFor(() => client.documents.get(first.uri)!.text.includes('slowly and with some care'), 20_000, 'the reply in the chat');
    expect(helixOrder(await actionsAt(first.uri))[0]).toBe('Send to agent');
    // The reply is scrolled to: showDocument with the newest run's heading selected.
    const second = await client.command(Commands.openChat.command, {});
    expect(second.uri).not.toBe(first.uri);
  });
});

describe('Neovim plugin profile (inline review)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let init: any;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/greet.ts': ORIGINAL });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'neovim', workspace, inlineReview: true, runEvents: true, clientName: 'Neovim' });
    init = await client.initialize();
    await client.open(workspace.uri('src/greet.ts'), ORIGINAL);
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it('publishes no "Agent proposal" diagnostics and offers no "Agent: open chat"', async () => {
    const uri = workspace.uri('src/greet.ts');
    fake.enqueue(EDITS, { text: 'Done.' });
    const finished = await client.request<any>(Requests.ask.method, { uri, instruction: 'say hello instead of hi' });
    expect(finished.proposalId).toBeDefined();
    // Give a (wrong) debounced publish time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(client.diagnostics.get(uri) ?? []).toEqual([]);
    const titles = (await client.request<any[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, context: { diagnostics: [] } })).map((action) => action.title);
    expect(titles).toContain('Apply agent edit: src/greet.ts (+1 −2)');
    expect(titles.some((title) => title.startsWith('Agent: open chat'))).toBe(false);
    // Neovim runs a code action's command only when advertised: the internal ones stay listed.
    expect(init.capabilities.executeCommandProvider.commands).toContain(Commands.confirmApplied.command);
    expect(init.capabilities.executeCommandProvider.commands).toContain(Commands.approveCommand.command);
  });
});
