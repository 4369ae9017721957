import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanStaleShadows, ShadowWorkspace } from '../../server/src/agent/workspace/shadow-workspace.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (directory: string, prefix: string) => {
    for (const name of readdirSync(directory)) {
      if (name === '.git') continue;
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else out[`${prefix}${name}`] = readFileSync(path, 'utf8');
    }
  };
  walk(root, '');
  return out;
}

function makeRepository(): { base: string; root: string; shadows: string } {
  const base = mkdtempSync(join(tmpdir(), 'codebench-shadow-'));
  const root = join(base, 'repo');
  mkdirSync(join(root, 'src'), { recursive: true });
  git(base, 'init', '--quiet', root);
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'src', 'gone.ts'), 'bye\n');
  writeFileSync(join(root, 'kept.txt'), 'committed\n');
  writeFileSync(join(root, '.gitignore'), 'secret.env\n');
  git(root, 'add', '-A');
  git(root, 'commit', '--quiet', '-m', 'initial');
  // Uncommitted work the shadow must carry: a modification, a new file, a deletion, an ignored file.
  writeFileSync(join(root, 'kept.txt'), 'committed\nand modified\n');
  writeFileSync(join(root, 'src', 'new.ts'), 'export const fresh = true;\n');
  rmSync(join(root, 'src', 'gone.ts'));
  writeFileSync(join(root, 'secret.env'), 'TOKEN=do-not-copy\n');
  return { base, root, shadows: join(base, 'data', 'shadows') };
}

describe('shadow workspaces for CLI agents', () => {
  it('mirrors HEAD plus uncommitted and unsaved changes, reports what the agent changed, never touches the user tree', async () => {
    const { root, shadows } = makeRepository();
    const before = snapshotTree(root);
    const unsaved = { path: join(root, 'src', 'a.ts'), text: 'export const a = 2; // unsaved ✓\n', version: 7 };
    const shadow = await ShadowWorkspace.create({
      root,
      shadowsDirectory: shadows,
      documents: { get: (path) => (path === unsaved.path ? { text: unsaved.text, version: unsaved.version } : undefined), paths: () => [unsaved.path] },
    });
    expect(readFileSync(join(shadow.path, 'kept.txt'), 'utf8')).toBe('committed\nand modified\n');
    expect(readFileSync(join(shadow.path, 'src', 'new.ts'), 'utf8')).toBe('export const fresh = true;\n');
    expect(existsSync(join(shadow.path, 'src', 'gone.ts'))).toBe(false);
    expect(existsSync(join(shadow.path, 'secret.env'))).toBe(false);
    expect(readFileSync(join(shadow.path, 'src', 'a.ts'), 'utf8')).toBe(unsaved.text);
    expect((await shadow.changes()).changes).toEqual([]);

    // The external agent edits, creates and deletes in the shadow.
    writeFileSync(join(shadow.path, 'src', 'a.ts'), 'export const a = 3;\n');
    writeFileSync(join(shadow.path, 'src', 'b.ts'), 'export const b = "β";\n');
    rmSync(join(shadow.path, 'kept.txt'));
    const { changes, skipped } = await shadow.changes();
    expect(changes).toEqual([
      { absolutePath: unsaved.path, relativePath: 'src/a.ts', base: { text: unsaved.text, version: 7 }, text: 'export const a = 3;\n', root, realPath: unsaved.path },
      { absolutePath: join(root, 'src', 'b.ts'), relativePath: 'src/b.ts', base: null, text: 'export const b = "β";\n', root, realPath: join(root, 'src', 'b.ts') },
    ]);
    expect(skipped).toEqual([{ relativePath: 'kept.txt', reason: expect.stringContaining('deleted') }]);
    expect(snapshotTree(root)).toEqual(before);

    await shadow.dispose();
    expect(existsSync(shadow.path)).toBe(false);
    expect(git(root, 'worktree', 'list')).not.toContain('shadows');
    expect(snapshotTree(root)).toEqual(before);
    expect(git(root, 'status', '--porcelain')).toContain('kept.txt');
  });

  it('copies a non-git folder (respecting .gitignore) and diffs it the same way', async () => {
    const base = mkdtempSync(join(tmpdir(), 'codebench-shadow-plain-'));
    const root = join(base, 'plain');
    mkdirSync(join(root, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(root, 'main.py'), 'print(1)\n');
    writeFileSync(join(root, '.gitignore'), 'build/\n');
    mkdirSync(join(root, 'build'));
    writeFileSync(join(root, 'build', 'out.txt'), 'artifact\n');
    writeFileSync(join(root, 'node_modules', 'x', 'index.js'), 'module.exports = 1;\n');
    const shadow = await ShadowWorkspace.create({ root, shadowsDirectory: join(base, 'shadows'), documents: { get: () => undefined } });
    expect(existsSync(join(shadow.path, 'main.py'))).toBe(true);
    expect(existsSync(join(shadow.path, 'build', 'out.txt'))).toBe(false);
    expect(existsSync(join(shadow.path, 'node_modules'))).toBe(false);
    writeFileSync(join(shadow.path, 'main.py'), 'print(2)\n');
    const { changes } = await shadow.changes();
    expect(changes).toEqual([{ absolutePath: join(root, 'main.py'), relativePath: 'main.py', base: { text: 'print(1)\n', version: null }, text: 'print(2)\n', root, realPath: join(root, 'main.py') }]);
    await shadow.dispose();
    expect(existsSync(join(base, 'plain', '.git'))).toBe(false);
  });

  it('cleans shadows left by a dead process and prunes their worktrees', async () => {
    const { root, shadows } = makeRepository();
    const shadow = await ShadowWorkspace.create({ root, shadowsDirectory: shadows, documents: { get: () => undefined } });
    const directory = join(shadow.path);
    // Pretend the process that made it died: rename to a pid that cannot exist.
    const orphan = join(shadows, '999999999-deadbeef');
    renameSync(directory, orphan);
    git(root, 'worktree', 'repair', orphan);
    expect(git(root, 'worktree', 'list')).toContain('999999999-deadbeef');
    expect(await cleanStaleShadows(shadows)).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    expect(git(root, 'worktree', 'list')).not.toContain('999999999-deadbeef');
    expect(await cleanStaleShadows(join(shadows, 'missing'))).toBe(0);
  });
});
