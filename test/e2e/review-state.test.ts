import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { eventually, makeWorkspace, TestClient, writeConfig, type ClientOptions, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

/**
 * The review state machine through the built server: `applied` only for text the server saw,
 * one apply at a time per proposal and per document, the prompt withdrawn when the proposal is
 * settled another way, `codebench/proposal` cached by version and mtime, and failures shown.
 */

const ORIGINAL = 'let first = 1;\n// one\n// two\n// three\nlet second = 1;\n';
const FIRST = ORIGINAL.replace('first = 1', 'first = 2');
const BOTH = FIRST.replace('second = 1', 'second = 2');

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

const WARNING = 2;
const ERROR = 1;

describe('review state machine', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient | undefined;

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

  async function start(options: Omit<ClientOptions, 'workspace'>, files: Record<string, string> = { 'index.js': ORIGINAL }, config: Record<string, unknown> = {}): Promise<TestClient> {
    workspace = makeWorkspace(files);
    writeConfig(workspace, fake, config);
    client = TestClient.start({ ...options, workspace });
    await client.initialize();
    return client;
  }

  function enqueueEdit(path: string, from: string, to: string): void {
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path, old_string: from, new_string: to } }] }, { text: 'Done.' });
  }

  async function proposalsOf(sessionId: string): Promise<any[]> {
    return (await client!.request(Requests.proposals.method, { sessionId })).proposals;
  }

  async function codeAction(uri: string, prefix: string): Promise<any> {
    const actions = await client!.request<any[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [] },
    });
    return actions.find((action) => action.title.startsWith(prefix));
  }

  describe('never `applied` without the text', () => {
    it('an editor that answers applied: true without applying → `unconfirmed` and a warning; the late text → `applied`', async () => {
      const editor = await start({ profile: 'neovim', pretendApplies: 1, choose: () => 'Apply' });
      const uri = workspace.uri('index.js');
      await editor.open(uri, ORIGINAL, 'javascript');
      enqueueEdit('index.js', 'first = 1', 'first = 2');
      const { sessionId } = await editor.command(Commands.ask.command, { uri, instruction: 'bump first' });
      const warning = await editor.waitFor(() => editor.messages.find((message) => message.type === WARNING), 15_000, 'unconfirmed warning');
      expect(warning.message).toContain('index.js');
      expect(warning.message).toContain('unconfirmed');
      expect(editor.pretendedEdits).toHaveLength(1);
      expect(editor.documents.get(uri)!.text).toBe(ORIGINAL);
      const [proposal] = await proposalsOf(sessionId);
      expect(proposal).toMatchObject({ status: 'unconfirmed', detail: expect.stringContaining('index.js') });

      // The editor gets round to it: the very text the edit should have produced arrives.
      const document = editor.documents.get(uri)!;
      document.text = FIRST;
      document.version += 1;
      await editor.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: document.version }, contentChanges: [{ text: FIRST }] });
      await eventually(async () => expect((await proposalsOf(sessionId))[0].status).toBe('applied'));
      await editor.waitFor(() => editor.messages.find((message) => message.message.includes('arrived after all')), 5000, 'applied after all');
    });

    it('codebench.confirmApplied before the code action edit arrived → `unconfirmed`', async () => {
      const editor = await start({ profile: 'helix' });
      const uri = workspace.uri('index.js');
      await editor.open(uri, ORIGINAL, 'javascript');
      enqueueEdit('index.js', 'first = 1', 'first = 2');
      const finished = await editor.request(Requests.ask.method, { uri, instruction: 'bump first' });
      const apply = await codeAction(uri, 'Apply agent edit');
      expect(apply).toBeDefined();
      // The editor runs the action's command but never applied its edit.
      const result = await editor.command(apply.command.command, ...apply.command.arguments);
      expect(result).toEqual({ status: 'unconfirmed' });
      expect((await proposalsOf(finished.sessionId))[0].status).toBe('unconfirmed');
      expect(editor.messages.some((message) => message.type === WARNING && message.message.includes('index.js'))).toBe(true);
    });
  });

  describe('one apply at a time', () => {
    it('a prompt answer and an apply command at once → one workspace/applyEdit, the same outcome', async () => {
      const answer = deferred<string | null>();
      const editor = await start({ profile: 'neovim', applyDelayMs: 300, choose: () => answer.promise });
      const uri = workspace.uri('index.js');
      await editor.open(uri, ORIGINAL, 'javascript');
      enqueueEdit('index.js', 'first = 1', 'first = 2');
      const { sessionId } = await editor.command(Commands.ask.command, { uri, instruction: 'bump first' });
      await editor.waitFor(() => editor.prompts.length > 0 || undefined, 10_000, 'prompt');
      const [pending] = await proposalsOf(sessionId);
      const commanded = editor.command(Commands.applyProposal.command, { proposalId: pending.id });
      answer.resolve('Apply');
      expect(await commanded).toEqual({ status: 'applied' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(editor.receivedEdits).toHaveLength(1);
      expect(editor.documents.get(uri)!.text).toBe(FIRST);
      expect(editor.messages.filter((message) => message.type <= WARNING)).toEqual([]);
      expect((await proposalsOf(sessionId))[0].status).toBe('applied');
    });

    it('two auto-reviewed runs on one file → the second edit is built on the version the first produced', async () => {
      const editor = await start({ profile: 'neovim', applyDelayMs: 1500 }, undefined, { review: 'auto' });
      const uri = workspace.uri('index.js');
      await editor.open(uri, ORIGINAL, 'javascript');
      enqueueEdit('index.js', 'first = 1', 'first = 2');
      await editor.command(Commands.ask.command, { uri, instruction: 'bump first' });
      // The first apply is on its way to the editor, not answered yet, when the second run ends.
      await editor.waitFor(() => editor.receivedEdits.length === 1 || undefined, 10_000, 'first applyEdit');
      enqueueEdit('index.js', 'second = 1', 'second = 2');
      await editor.request(Requests.ask.method, { uri, instruction: 'bump second' });
      await editor.waitFor(() => editor.documents.get(uri)!.text === BOTH || undefined, 10_000, 'both applied');
      const versions = editor.receivedEdits.map((edit) => edit.documentChanges[0].textDocument.version);
      expect(versions).toEqual([1, 2]);
    });

    it('two applies of one proposal to a file that is not open (version null) → one workspace/applyEdit', async () => {
      const editor = await start({ profile: 'neovim', inlineReview: true, applyDelayMs: 300 }, { 'index.js': ORIGINAL, 'closed.js': ORIGINAL });
      const uri = workspace.uri('index.js');
      await editor.open(uri, ORIGINAL, 'javascript');
      enqueueEdit('closed.js', 'first = 1', 'first = 2');
      const { proposalId } = await editor.request(Requests.ask.method, { uri, instruction: 'bump first in closed.js' });
      const results = await Promise.all([
        editor.command(Commands.applyProposal.command, { proposalId }),
        editor.command(Commands.applyProposal.command, { proposalId }),
      ]);
      expect(results).toEqual([{ status: 'applied' }, { status: 'applied' }]);
      expect(editor.receivedEdits).toHaveLength(1);
      expect(editor.receivedEdits[0].documentChanges[0].textDocument).toEqual({ uri: workspace.uri('closed.js'), version: null });
      // Settled and freed: a later apply answers the recorded fate and sends nothing.
      expect(await editor.command(Commands.applyProposal.command, { proposalId })).toEqual({ status: 'applied' });
      expect(editor.receivedEdits).toHaveLength(1);
    });
  });

  describe('the Apply / Preview / Discard prompt is withdrawn when the proposal is settled another way', () => {
    async function promptedProposal(answer: Promise<string | null>, edits: Array<[string, string]>): Promise<{ editor: TestClient; uri: string; proposalId: string }> {
      const editor = await start({ profile: 'neovim', choose: () => answer });
      const uri = workspace.uri('index.js');
      await editor.open(uri, ORIGINAL, 'javascript');
      fake.enqueue(...edits.map(([from, to]) => ({ toolCalls: [{ name: 'edit_file', args: { path: 'index.js', old_string: from, new_string: to } }] })), { text: 'Done.' });
      const { sessionId } = await editor.command(Commands.ask.command, { uri, instruction: 'bump' });
      await editor.waitFor(() => editor.prompts.length > 0 || undefined, 10_000, 'prompt');
      const [proposal] = await proposalsOf(sessionId);
      return { editor, uri, proposalId: proposal.id };
    }

    it('by the Apply code action; an answer that still arrives is ignored', async () => {
      const answer = deferred<string | null>();
      const { editor, uri } = await promptedProposal(answer.promise, [['first = 1', 'first = 2']]);
      const apply = await codeAction(uri, 'Apply agent edit');
      expect(await editor.applyCodeAction(apply)).toEqual({ status: 'applied' });
      await editor.waitFor(() => editor.withdrawnPrompts.length === 1 || undefined, 5000, '$/cancelRequest for the prompt');
      answer.resolve('Apply');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(editor.receivedEdits).toEqual([]);
      expect(editor.documents.get(uri)!.text).toBe(FIRST);
    });

    it('by per-hunk review', async () => {
      const { editor, proposalId } = await promptedProposal(new Promise(() => undefined), [['first = 1', 'first = 2'], ['second = 1', 'second = 2']]);
      expect(await editor.command(Commands.applyProposal.command, { proposalId, hunks: [0] })).toEqual({ status: 'pending' });
      await editor.waitFor(() => editor.withdrawnPrompts.length === 1 || undefined, 5000, '$/cancelRequest for the prompt');
    });

    it('by the Discard command', async () => {
      const { editor, proposalId } = await promptedProposal(new Promise(() => undefined), [['first = 1', 'first = 2']]);
      expect(await editor.command(Commands.discardProposal.command, { proposalId })).toEqual({ status: 'discarded' });
      await editor.waitFor(() => editor.withdrawnPrompts.length === 1 || undefined, 5000, '$/cancelRequest for the prompt');
      const view = await editor.request(Requests.proposal.method, { proposalId });
      expect(view).toMatchObject({ status: 'discarded', files: [] });
    });
  });

  describe('codebench/proposal and failures', () => {
    it('re-reads a closed file only when its mtime or size moved', async () => {
      const editor = await start({ profile: 'neovim', inlineReview: true }, { 'index.js': ORIGINAL, 'closed.js': ORIGINAL });
      const closed = join(workspace.root, 'closed.js');
      const stamp = new Date('2026-01-01T00:00:00Z');
      utimesSync(closed, stamp, stamp);
      await editor.open(workspace.uri('index.js'), ORIGINAL, 'javascript');
      enqueueEdit('closed.js', 'first = 1', 'first = 2');
      const { proposalId } = await editor.request(Requests.ask.method, { uri: workspace.uri('index.js'), instruction: 'bump first in closed.js' });
      const first = await editor.request(Requests.proposal.method, { proposalId });
      expect(first.files[0].hunks).toHaveLength(1);

      // Same size, same mtime: served from the cache, the file is not read again.
      writeFileSync(closed, ORIGINAL.replace('let first = 1;', 'let first = 9;'));
      utimesSync(closed, stamp, stamp);
      expect(await editor.request(Requests.proposal.method, { proposalId })).toEqual(first);

      // A new mtime: read and rebased again (now a conflict with the agent's edit of that line).
      const later = new Date('2026-01-01T00:00:10Z');
      utimesSync(closed, later, later);
      const second = await editor.request(Requests.proposal.method, { proposalId });
      expect(second).not.toEqual(first);
      expect(second.conflict ?? second.files[0].hunks[0].oldText).toBeTruthy();
    });

    it('a closed file that cannot be read is reported to the user, not called missing', async () => {
      const editor = await start({ profile: 'neovim', inlineReview: true }, { 'index.js': ORIGINAL, 'closed.js': ORIGINAL });
      await editor.open(workspace.uri('index.js'), ORIGINAL, 'javascript');
      enqueueEdit('closed.js', 'first = 1', 'first = 2');
      const { proposalId } = await editor.request(Requests.ask.method, { uri: workspace.uri('index.js'), instruction: 'bump first in closed.js' });
      // Running as root, permissions do not stop a read: a directory in the file's place does.
      const closed = join(workspace.root, 'closed.js');
      rmSync(closed);
      mkdirSync(closed);
      const view = await editor.request(Requests.proposal.method, { proposalId });
      expect(view.conflict).toContain('cannot read');
      expect(view.conflict).toContain('EISDIR');
      const error = await editor.waitFor(() => editor.messages.find((message) => message.type === ERROR), 5000, 'error message');
      expect(error.message).toContain('closed.js');
    });

    it('a failure while showing a finished proposal reaches the user', async () => {
      workspace = makeWorkspace({ 'index.js': ORIGINAL });
      // The preview folder cannot be created: a file is in its place.
      mkdirSync(workspace.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(join(workspace.dataDir, 'previews'), 'not a folder');
      writeConfig(workspace, fake);
      const editor = (client = TestClient.start({ profile: 'neovim', workspace, choose: () => 'Preview' }));
      await editor.initialize();
      const uri = workspace.uri('index.js');
      await editor.open(uri, ORIGINAL, 'javascript');
      enqueueEdit('index.js', 'first = 1', 'first = 2');
      await editor.command(Commands.ask.command, { uri, instruction: 'bump first' });
      const error = await editor.waitFor(() => editor.messages.find((message) => message.type === ERROR), 10_000, 'error message');
      expect(error.message).toContain('could not show the proposal index.js');
      expect(error.message).not.toContain('\n');
    });
  });
});
