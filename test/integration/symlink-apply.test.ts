import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../server/src/agent/agent.js';
import { writeFilesInside } from '../../server/src/agent/proposals/apply-guard.js';
import { applyProposal, diskAccess, type FileAccess } from '../../server/src/agent/proposals/apply-without-editor.js';
import { proposalFilesFromChanges, type Proposal } from '../../server/src/agent/proposals/proposal.js';
import { PendingProposals } from '../../server/src/agent/proposals/pending-proposals.js';
import { builtInTools, runTool } from '../../server/src/agent/tools/index.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

// Paths are checked when the agent stages them; these attacks change the tree between staging and
// `ask --yes` / ACP apply. Each must apply nothing, name the file, and leave every target untouched.

const tools = builtInTools();
let base: string;
let root: string;
let outside: string;
// The proposal is not registered in this book, so settling records nothing: the fate is not under test.
const agent = { proposals: new PendingProposals(async () => { throw new Error('no store in this test'); }) } as unknown as Agent;

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Every file under a directory with its text (links shown as links), to prove nothing changed. */
function tree(directory: string): Record<string, string> {
  const out: Record<string, string> = {};
  const listing = execFileSync('find', [directory, '-mindepth', '1'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  for (const path of listing) {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) out[path] = `-> ${readlinkSync(path)}`;
    else if (info.isFile()) out[path] = readFileSync(path, 'utf8');
  }
  return out;
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'codebench-apply-'));
  root = join(base, 'ws');
  outside = join(base, 'outside');
  // Same text inside and outside, so only the boundary (not a rebase conflict) can stop the write.
  for (const at of [root, outside, join(root, 'other'), join(root, '.git')]) {
    write(join(at, 'dir', 'a.txt'), 'one\n');
    write(join(at, 'b.txt'), 'bee\n');
  }
  write(join(root, '.git', 'config'), 'bee\n');
  write(join(root, '.env'), 'bee\n');
  mkdirSync(join(root, '.git', 'hooks'), { recursive: true });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** The agent stages through the real tools: two edits, a new file in a new directory, a new file. */
async function stage(): Promise<Proposal> {
  const workspace = new WorkspaceFiles([root], { get: () => undefined });
  const context = { workspace, signal: new AbortController().signal };
  for (const [name, args] of [
    ['edit_file', { path: 'dir/a.txt', old_string: 'one', new_string: 'two' }],
    ['edit_file', { path: 'b.txt', old_string: 'bee', new_string: 'wasp' }],
    ['write_file', { path: 'fresh/deep/x.txt', content: 'new\n' }],
    ['write_file', { path: 'dir/new.txt', content: 'new\n' }],
  ] as const) {
    const result = await runTool(tools, name, args, context);
    expect(result.isError, result.output).toBe(false);
  }
  const files = proposalFilesFromChanges(workspace.overlay.changes());
  return { id: 'p1', runId: 'r1', sessionId: 's1', summary: '', diff: '', files, status: 'proposed' };
}

function swap(path: string, target: string): void {
  rmSync(join(root, path), { recursive: true, force: true });
  symlinkSync(target, join(root, path));
}

/** Swaps done after staging, each with the staged file the refusal must name. */
const attacks: Array<{ name: string; names: string; attack: () => void }> = [
  { name: 'dir -> outside (absolute)', names: 'dir/', attack: () => swap('dir', join(outside, 'dir')) },
  { name: 'dir -> outside (relative)', names: 'dir/', attack: () => swap('dir', '../outside/dir') },
  { name: 'dir -> link -> outside', names: 'dir/', attack: () => (symlinkSync(join(outside, 'dir'), join(root, 'hop')), swap('dir', 'hop')) },
  { name: 'dir -> .git/dir', names: 'dir/', attack: () => swap('dir', '.git/dir') },
  { name: 'dir -> other/dir (inside, but not what was staged)', names: 'dir/', attack: () => swap('dir', 'other/dir') },
  { name: 'dir/a.txt -> outside file', names: 'dir/a.txt', attack: () => swap('dir/a.txt', join(outside, 'dir', 'a.txt')) },
  { name: 'dir/a.txt -> dangling outside', names: 'dir/a.txt', attack: () => swap('dir/a.txt', join(outside, 'nothing.txt')) },
  { name: 'b.txt -> .git/config', names: 'b.txt', attack: () => swap('b.txt', '.git/config') },
  { name: 'b.txt -> .env', names: 'b.txt', attack: () => swap('b.txt', join(root, '.env')) },
  { name: 'b.txt hard-linked to an outside file', names: 'b.txt', attack: () => (rmSync(join(root, 'b.txt')), linkSync(join(outside, 'b.txt'), join(root, 'b.txt'))) },
  { name: 'b.txt replaced by a directory', names: 'b.txt', attack: () => (rmSync(join(root, 'b.txt')), mkdirSync(join(root, 'b.txt'))) },
  { name: 'new directory fresh -> outside', names: 'fresh/deep/x.txt', attack: () => symlinkSync(outside, join(root, 'fresh')) },
  { name: 'new directory fresh -> .git/hooks', names: 'fresh/deep/x.txt', attack: () => symlinkSync(join(root, '.git', 'hooks'), join(root, 'fresh')) },
  { name: 'new file dir/new.txt -> dangling .git/hooks/post-checkout', names: 'dir/new.txt', attack: () => symlinkSync('../.git/hooks/post-checkout', join(root, 'dir', 'new.txt')) },
  { name: 'new file dir/new.txt -> outside', names: 'dir/new.txt', attack: () => symlinkSync(join(outside, 'b.txt'), join(root, 'dir', 'new.txt')) },
];

describe('applying after a symbolic link was swapped in', () => {
  it('applies a clean proposal (the control)', async () => {
    const outcome = await applyProposal(agent, await stage());
    expect(outcome).toEqual({ ok: true, files: ['b.txt', 'dir/a.txt', 'dir/new.txt', 'fresh/deep/x.txt'] });
    expect(readFileSync(join(root, 'dir', 'a.txt'), 'utf8')).toBe('two\n');
    expect(readFileSync(join(root, 'fresh', 'deep', 'x.txt'), 'utf8')).toBe('new\n');
  });

  it.each(attacks)('$name: nothing is applied and the refusal names $names', async ({ names, attack }) => {
    const proposal = await stage();
    attack();
    const before = tree(base);
    const outcome = await applyProposal(agent, proposal);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toContain(`refused ${names}`);
    expect(tree(base)).toEqual(before);
  });

  it('keeps an inside link the user had: the edit lands in its target, the link stays a link', async () => {
    symlinkSync('dir/a.txt', join(root, 'alias.txt'));
    const workspace = new WorkspaceFiles([root], { get: () => undefined });
    await runTool(tools, 'edit_file', { path: 'alias.txt', old_string: 'one', new_string: 'two' }, { workspace, signal: new AbortController().signal });
    const files = proposalFilesFromChanges(workspace.overlay.changes());
    const outcome = await applyProposal(agent, { id: 'p2', runId: 'r', sessionId: 's', summary: '', diff: '', files, status: 'proposed' });
    expect(outcome).toEqual({ ok: true, files: ['alias.txt'] });
    expect(readlinkSync(join(root, 'alias.txt'))).toBe('dir/a.txt');
    expect(readFileSync(join(root, 'dir', 'a.txt'), 'utf8')).toBe('two\n');
  });

  it('refuses two names of one file in one proposal', async () => {
    symlinkSync('b.txt', join(root, 'alias.txt'));
    const workspace = new WorkspaceFiles([root], { get: () => undefined });
    const context = { workspace, signal: new AbortController().signal };
    await runTool(tools, 'edit_file', { path: 'alias.txt', old_string: 'bee', new_string: 'one' }, context);
    await runTool(tools, 'edit_file', { path: 'b.txt', old_string: 'bee', new_string: 'two' }, context);
    const files = proposalFilesFromChanges(workspace.overlay.changes());
    const outcome = await applyProposal(agent, { id: 'p3', runId: 'r', sessionId: 's', summary: '', diff: '', files, status: 'proposed' });
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringContaining('names the same file as') });
    expect(readFileSync(join(root, 'b.txt'), 'utf8')).toBe('bee\n');
  });
});

describe('a swap while the apply is under way', () => {
  it('between reading and writing (an ACP round trip): refused by the second check', async () => {
    const proposal = await stage();
    let swapped = false;
    const access: FileAccess = {
      read: async (path) => {
        const text = await diskAccess.read(path);
        if (!swapped) (swapped = true, renameSync(join(root, 'dir'), join(root, 'moved')), symlinkSync(join(outside, 'dir'), join(root, 'dir')));
        return text;
      },
      write: diskAccess.write,
    };
    const outcome = await applyProposal(agent, proposal, access);
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringContaining('refused dir/') });
    expect(readFileSync(join(outside, 'dir', 'a.txt'), 'utf8')).toBe('one\n');
  });

  it('inside the write itself: the directories are checked with lstat again before the rename', async () => {
    const proposal = await stage();
    const access: FileAccess = {
      read: diskAccess.read,
      write: async (files) => {
        // After every check, before the disk write: the write alone must refuse.
        renameSync(join(root, 'dir'), join(root, 'moved'));
        symlinkSync(join(outside, 'dir'), join(root, 'dir'));
        await diskAccess.write(files);
      },
    };
    const outcome = await applyProposal(agent, proposal, access);
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringContaining('symbolic link') });
    expect(readFileSync(join(outside, 'dir', 'a.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(root, 'b.txt'), 'utf8')).toBe('bee\n');
    expect(tree(outside)).not.toHaveProperty(join(outside, 'dir', 'new.txt'));
  });

  it('rename(2) replaces a final symlink instead of following it, and writeFilesInside refuses one anyway', () => {
    symlinkSync(join(outside, 'b.txt'), join(root, 'link.txt'));
    writeFileSync(join(root, 'tmp.txt'), 'replaced\n');
    renameSync(join(root, 'tmp.txt'), join(root, 'link.txt'));
    expect(lstatSync(join(root, 'link.txt')).isFile()).toBe(true);
    expect(readFileSync(join(outside, 'b.txt'), 'utf8')).toBe('bee\n');

    symlinkSync(join(outside, 'b.txt'), join(root, 'link2.txt'));
    expect(() => writeFilesInside([{ absolutePath: join(root, 'link2.txt'), root, text: 'x', create: false }])).toThrow('symbolic link');
    expect(() => writeFilesInside([{ absolutePath: join(outside, 'z.txt'), root, text: 'x', create: true }])).toThrow('outside');
    expect(readFileSync(join(outside, 'b.txt'), 'utf8')).toBe('bee\n');
  });
});
