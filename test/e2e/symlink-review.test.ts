import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, Requests } from '../../server/src/protocol/methods.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';

/**
 * The editor follows symlinks when it applies a WorkspaceEdit, so the LSP review path must judge
 * every file again at accept time, as the terminal and ACP do: a directory or file swapped for a
 * link after the agent staged its change (out of the workspace, into .git, onto a protected file)
 * makes the apply a conflict, and no edit reaches the editor.
 */
describe('LSP review re-checks paths through symlinks at apply time', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  const outside = mkdtempSync(join(tmpdir(), 'codebench-outside-'));

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'main.txt': 'entry\n', '.git/HEAD': 'ref: refs/heads/main\n' });
    writeConfig(workspace, fake);
    // Dismiss the prompt: the proposal stays pending until codebench.applyProposal below.
    client = TestClient.start({ profile: 'neovim', workspace, choose: () => null });
    await client.initialize();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
    rmSync(outside, { recursive: true, force: true });
  });

  type Swap = (root: string) => { victim: string };
  const swaps: Array<[string, Swap]> = [
    ['the directory → an outside directory (absolute link)', (root) => {
      renameSync(join(root, 'dir'), join(root, 'dir-moved'));
      mkdirSync(join(outside, 'abs'), { recursive: true });
      writeFileSync(join(outside, 'abs', 'a.txt'), 'one\n');
      symlinkSync(join(outside, 'abs'), join(root, 'dir'));
      return { victim: join(outside, 'abs', 'a.txt') };
    }],
    ['the directory → an outside directory (relative link)', (root) => {
      renameSync(join(root, 'dir'), join(root, 'dir-moved'));
      mkdirSync(join(outside, 'rel'), { recursive: true });
      writeFileSync(join(outside, 'rel', 'a.txt'), 'one\n');
      // A link in <root> resolves relative to <root>.
      symlinkSync(relative(root, join(outside, 'rel')), join(root, 'dir'));
      return { victim: join(outside, 'rel', 'a.txt') };
    }],
    ['the directory → .git', (root) => {
      renameSync(join(root, 'dir'), join(root, 'dir-moved'));
      writeFileSync(join(root, '.git', 'a.txt'), 'one\n');
      symlinkSync('.git', join(root, 'dir'));
      return { victim: join(root, '.git', 'a.txt') };
    }],
    ['the file → a protected .env', (root) => {
      writeFileSync(join(root, '.env'), 'one\n');
      rmSync(join(root, 'dir', 'a.txt'));
      symlinkSync(join('..', '.env'), join(root, 'dir', 'a.txt'));
      return { victim: join(root, '.env') };
    }],
    ['the file → an outside file', (root) => {
      writeFileSync(join(outside, 'b.txt'), 'one\n');
      rmSync(join(root, 'dir', 'a.txt'));
      symlinkSync(join(outside, 'b.txt'), join(root, 'dir', 'a.txt'));
      return { victim: join(outside, 'b.txt') };
    }],
  ];

  it.each(swaps)('%s', async (_name, swap) => {
    const root = workspace.root;
    rmSync(join(root, 'dir'), { recursive: true, force: true });
    rmSync(join(root, 'dir-moved'), { recursive: true, force: true });
    mkdirSync(join(root, 'dir'));
    writeFileSync(join(root, 'dir', 'a.txt'), 'one\n');
    const uri = workspace.uri('main.txt');
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'dir/a.txt', old_string: 'one', new_string: 'planted' } }] },
      { text: 'Changed a.txt.' },
    );
    const finished = await client.request(Requests.ask.method, { uri, instruction: 'change dir/a.txt' });
    expect(finished.proposalId).toBeTruthy();

    const { victim } = swap(root);
    const editsBefore = client.appliedEdits.length;
    const result = await client.command(Commands.applyProposal.command, { proposalId: finished.proposalId });
    expect(result).toEqual({ status: 'conflict' });
    expect(client.appliedEdits.length).toBe(editsBefore);
    expect(readFileSync(victim, 'utf8')).toBe('one\n');
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: finished.sessionId });
    expect(proposals[0]).toMatchObject({ status: 'conflict', detail: expect.stringContaining('refused dir/a.txt') });
    rmSync(join(root, 'dir'), { recursive: true, force: true });
    if (existsSync(join(root, '.env'))) rmSync(join(root, '.env'));
  });

  it('a control: the same proposal without a swap applies', async () => {
    const root = workspace.root;
    rmSync(join(root, 'dir'), { recursive: true, force: true });
    mkdirSync(join(root, 'dir'));
    writeFileSync(join(root, 'dir', 'a.txt'), 'one\n');
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'dir/a.txt', old_string: 'one', new_string: 'two' } }] },
      { text: 'Changed a.txt.' },
    );
    const finished = await client.request(Requests.ask.method, { uri: workspace.uri('main.txt'), instruction: 'change dir/a.txt' });
    expect(await client.command(Commands.applyProposal.command, { proposalId: finished.proposalId })).toEqual({ status: 'applied' });
  });
});

