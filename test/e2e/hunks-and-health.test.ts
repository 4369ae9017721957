import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

const ORIGINAL = ['# ünïcode header 🌍', 'alpha = 1', 'beta = 2', 'gamma = 3', 'delta = 4', 'epsilon = 5', 'zeta = 6', 'eta = 7', ''].join('\n');

describe('per-hunk review and health (rich clients)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  const uri = () => workspace.uri('values.py');

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'values.py': ORIGINAL });
    writeConfig(workspace, fake);
    // A rich client reviews inline: it dismisses the prompt and drives hunks itself.
    client = TestClient.start({ profile: 'neovim', workspace, runEvents: true, inlineReview: true });
    await client.initialize();
    await client.open(uri(), ORIGINAL, 'python');
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  async function proposeTwoHunks(): Promise<string> {
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'values.py', old_string: 'alpha = 1', new_string: 'alpha = 10' } }] },
      { toolCalls: [{ name: 'edit_file', args: { path: 'values.py', old_string: 'eta = 7', new_string: 'eta = 70' } }] },
      { text: 'Multiplied two values by ten.' },
    );
    const finished = await client.request(Requests.ask.method, { uri: uri(), instruction: 'times ten' });
    expect(finished.proposalId).toBeTruthy();
    return finished.proposalId;
  }

  it('lists hunks, accepts one of two (one undo step), then rejects the other', async () => {
    const proposalId = await proposeTwoHunks();
    const view = await client.request(Requests.proposal.method, { proposalId });
    expect(view.status).toBe('proposed');
    expect(view.files).toHaveLength(1);
    const hunks = view.files[0].hunks;
    expect(hunks.map((hunk: any) => [hunk.oldText, hunk.newText])).toEqual([['', '0'], ['', '0']]);
    expect(hunks.map((hunk: any) => hunk.range.start.line)).toEqual([1, 7]);

    const before = client.appliedEdits.length;
    expect(await client.command(Commands.applyProposal.command, { proposalId, hunks: [1] })).toEqual({ status: 'pending' });
    expect(client.appliedEdits.length).toBe(before + 1);
    expect(client.documents.get(uri())!.text).toBe(ORIGINAL.replace('eta = 7', 'eta = 70'));

    const remaining = await client.request(Requests.proposal.method, { proposalId });
    expect(remaining.files[0].hunks).toHaveLength(1);
    expect(remaining.files[0].hunks[0].range.start.line).toBe(1);
    expect(await client.command(Commands.discardProposal.command, { proposalId, hunks: [0] })).toEqual({ status: 'applied' });
    expect(client.documents.get(uri())!.text).toBe(ORIGINAL.replace('eta = 7', 'eta = 70'));

    const { sessions } = await client.request(Requests.sessions.method, {});
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: sessions[0].id });
    expect(proposals[0]).toMatchObject({ status: 'applied', detail: 'partially applied: 1 hunk accepted, the rest discarded' });
  });

  it('rejecting every hunk leaves the buffer untouched and records a discard', async () => {
    const document = client.documents.get(uri())!;
    document.text = ORIGINAL;
    document.version += 1;
    await client.connection.sendNotification('textDocument/didChange', { textDocument: { uri: uri(), version: document.version }, contentChanges: [{ text: ORIGINAL }] });
    const proposalId = await proposeTwoHunks();
    const edits = client.appliedEdits.length;
    expect(await client.command(Commands.discardProposal.command, { proposalId, hunks: [0, 1] })).toEqual({ status: 'discarded' });
    expect(client.appliedEdits.length).toBe(edits);
    expect(client.documents.get(uri())!.text).toBe(ORIGINAL);
    // An inline-review client is never prompted.
    expect(client.prompts).toEqual([]);
    const view = await client.request(Requests.proposal.method, { proposalId });
    expect(view).toMatchObject({ status: 'discarded', files: [] });
  });

  it('reports provider health without leaking keys', async () => {
    const health = await client.request(Requests.health.method, { timeoutMs: 2000 });
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(health.positionEncoding).toBe('utf-8');
    expect(health.defaultProvider).toBe('ollama');
    const byName = (name: string) => health.checks.filter((check: any) => check.name === `provider ${name}`);
    expect(byName('ollama').every((check: any) => check.status !== 'error')).toBe(true);
    expect(byName('openai').some((check: any) => check.message.includes('TEST_OPENAI_KEY'))).toBe(true);
    expect(JSON.stringify(health)).not.toContain('sk-test');
  });
});
