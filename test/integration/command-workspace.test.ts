import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandWorkspace } from '../../server/src/agent/workspace/command-workspace.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

function write(root: string, path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** A repository with committed files, a committed .env, an ignored node_modules and work not yet committed. */
function makeRepository(): { root: string; shadows: string } {
  const base = mkdtempSync(join(tmpdir(), 'codebench-command-copy-'));
  const root = join(base, 'repo');
  mkdirSync(root);
  git(root, 'init', '--quiet');
  for (const name of ['a', 'b', 'c', 'e']) write(root, `src/${name}.ts`, `export const ${name} = 1;\n`);
  write(root, '.gitignore', 'node_modules/\ndist/\n');
  write(root, '.env', 'TOKEN=committed-by-mistake\n');
  git(root, 'add', '-A');
  git(root, 'commit', '--quiet', '-m', 'initial');
  write(root, 'node_modules/fake-dep/index.js', 'module.exports = 42;\n');
  // Staged with `git add` but not committed: the copy must have it too.
  write(root, 'src/c.ts', 'export const c = 2; // staged in the index\n');
  git(root, 'add', 'src/c.ts');
  write(root, 'src/untracked.ts', 'export const u = 1;\n');
  return { root, shadows: join(base, 'data', 'shadows') };
}

function setup(): { root: string; shadows: string; workspace: WorkspaceFiles; copies: CommandWorkspace } {
  const { root, shadows } = makeRepository();
  const workspace = new WorkspaceFiles([root], { get: () => undefined });
  const copies = new CommandWorkspace({ workspace, documents: { get: () => undefined }, shadowsDirectory: shadows });
  return { root, shadows, workspace, copies };
}

async function stage(workspace: WorkspaceFiles, path: string, text: string): Promise<void> {
  const absolutePath = join(workspace.roots[0]!, path);
  await workspace.read(absolutePath);
  workspace.overlay.stage(absolutePath, text);
}

const signal = new AbortController().signal;

describe('a run\'s private copy for commands', () => {
  it('holds HEAD, uncommitted (also git-added) work and the staged edits; protected files stay out; node_modules is the user\'s, linked', async () => {
    const { root, workspace, copies } = setup();
    await stage(workspace, 'src/a.ts', 'export const a = "staged";\n');
    const copy = await copies.prepare(signal);
    await copies.sync();
    try {
      expect(copy.path).not.toBe(root);
      expect(readFileSync(join(copy.path, 'src/a.ts'), 'utf8')).toBe('export const a = "staged";\n');
      expect(readFileSync(join(copy.path, 'src/c.ts'), 'utf8')).toBe('export const c = 2; // staged in the index\n');
      expect(readFileSync(join(copy.path, 'src/untracked.ts'), 'utf8')).toBe('export const u = 1;\n');
      expect(existsSync(join(copy.path, '.env'))).toBe(false);
      // ext4 has no copy-on-write clones: a link to the user's own directory.
      expect(copy.shared).toEqual([{ relativePath: 'node_modules', how: 'link' }]);
      expect(lstatSync(join(copy.path, 'node_modules')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(copy.path, 'node_modules'))).toBe(join(root, 'node_modules'));
      expect(readFileSync(join(copy.path, 'node_modules/fake-dep/index.js'), 'utf8')).toBe('module.exports = 42;\n');
      // The user's tree is as it was.
      expect(readFileSync(join(root, 'src/a.ts'), 'utf8')).toBe('export const a = 1;\n');
      // Nothing changed yet: the synced edit and the shared link are not the command's changes.
      expect(await copies.collectChanges()).toEqual({ staged: [], skipped: [] });
    } finally {
      await copies.dispose();
    }
    expect(existsSync(copy.directory)).toBe(false);
    expect(git(root, 'worktree', 'list', '--porcelain')).not.toContain(copy.directory);
  });

  it('syncs incrementally: only files whose staged text changed since the last sync are written', async () => {
    const { workspace, copies } = setup();
    await stage(workspace, 'src/a.ts', 'export const a = 2;\n');
    const copy = await copies.prepare(signal);
    await copies.sync();
    // Were a.ts written again, this mark would be gone.
    writeFileSync(join(copy.path, 'src/a.ts'), 'not rewritten\n');
    await stage(workspace, 'src/b.ts', 'export const b = 2;\n');
    await copies.sync();
    try {
      expect(readFileSync(join(copy.path, 'src/a.ts'), 'utf8')).toBe('not rewritten\n');
      expect(readFileSync(join(copy.path, 'src/b.ts'), 'utf8')).toBe('export const b = 2;\n');
      // An edit taken back to the base text is taken back in the copy too.
      await stage(workspace, 'src/b.ts', 'export const b = 1;\n');
      await copies.sync();
      expect(readFileSync(join(copy.path, 'src/b.ts'), 'utf8')).toBe('export const b = 1;\n');
    } finally {
      await copies.dispose();
    }
  });

  it('takes back what a command changed: tracked and new files become staged edits; ignored outputs, protected files and deletions do not', async () => {
    const { root, workspace, copies } = setup();
    await stage(workspace, 'src/a.ts', 'export const a = "staged";\n');
    const copy = await copies.prepare(signal);
    await copies.sync();
    try {
      // What a formatter, a generator and a build would do in the copy.
      writeFileSync(join(copy.path, 'src/b.ts'), 'export const b = 1; // formatted\n');
      writeFileSync(join(copy.path, 'src/generated.ts'), 'export const g = true;\n');
      write(copy.path, 'dist/out.js', 'built\n');
      writeFileSync(join(copy.path, '.env'), 'TOKEN=written-by-command\n');
      rmSync(join(copy.path, 'src/e.ts'));
      const changes = await copies.collectChanges();
      expect(changes.staged).toEqual(['src/b.ts', 'src/generated.ts']);
      expect(changes.skipped).toEqual([
        { relativePath: '.env', reason: expect.stringContaining('protected') },
        { relativePath: 'src/e.ts', reason: expect.stringContaining('deleted') },
      ]);
      expect(workspace.overlay.changes().map((change) => [change.relativePath, change.base?.text ?? null, change.text])).toEqual([
        ['src/a.ts', 'export const a = 1;\n', 'export const a = "staged";\n'],
        ['src/b.ts', 'export const b = 1;\n', 'export const b = 1; // formatted\n'],
        ['src/generated.ts', null, 'export const g = true;\n'],
      ]);
      // The next command's changes are new ones only; what was taken back is not reported again.
      writeFileSync(join(copy.path, 'src/a.ts'), 'export const a = 1;\n');
      const again = await copies.collectChanges();
      expect(again.staged).toEqual(['src/a.ts']);
      expect(workspace.overlay.changes().map((change) => change.relativePath)).toEqual(['src/b.ts', 'src/generated.ts']);
      expect(existsSync(join(root, 'src/generated.ts'))).toBe(false);
    } finally {
      await copies.dispose();
    }
  });

  it('never writes a staged edit through a shared directory into the user\'s own', async () => {
    const { root, workspace, copies } = setup();
    await stage(workspace, 'node_modules/fake-dep/index.js', 'module.exports = "edited";\n');
    await copies.prepare(signal);
    await copies.sync();
    await copies.dispose();
    expect(readFileSync(join(root, 'node_modules/fake-dep/index.js'), 'utf8')).toBe('module.exports = 42;\n');
  });

  it('shares configured directory names besides the defaults, and a plain folder\'s at its root', async () => {
    const base = mkdtempSync(join(tmpdir(), 'codebench-command-copy-plain-'));
    const root = join(base, 'folder');
    write(root, 'main.py', 'print(1)\n');
    write(root, '.venv/bin/python', '#!/bin/sh\n');
    write(root, 'cache-dir/x', 'x\n');
    const workspace = new WorkspaceFiles([root], { get: () => undefined });
    const copies = new CommandWorkspace({ workspace, documents: { get: () => undefined }, shadowsDirectory: join(base, 'shadows'), sharedDirectories: ['cache-dir'] });
    const copy = await copies.prepare(signal);
    try {
      expect(copy.shared.map((entry) => entry.relativePath).sort()).toEqual(['.venv', 'cache-dir']);
      expect(readFileSync(join(copy.path, 'main.py'), 'utf8')).toBe('print(1)\n');
    } finally {
      await copies.dispose();
    }
    expect(existsSync(copy.directory)).toBe(false);
  });
});
