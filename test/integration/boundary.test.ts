import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShadowWorkspace } from '../../server/src/agent/workspace/shadow-workspace.js';
import { builtInTools, runTool } from '../../server/src/agent/tools/index.js';
import { expansionIn, WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

let base: string;
let root: string;
let workspace: WorkspaceFiles;
const tools = builtInTools();

function run(name: string, args: unknown) {
  return runTool(tools, name, args, { workspace, signal: new AbortController().signal });
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'codebench-boundary-'));
  root = join(base, 'ws');
  mkdirSync(join(root, '.git'), { recursive: true });
  writeFileSync(join(root, '.git', 'config'), '[core]\n');
  writeFileSync(join(root, 'a.ts'), 'inside\n');
  writeFileSync(join(base, 'outside.txt'), 'SECRET\n');
  workspace = new WorkspaceFiles([root], { get: () => undefined });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('workspace boundary', () => {
  it.each(['~/.ssh/id_rsa', '~', '~root/x', '$HOME/.bashrc', '${HOME}/x', '$(pwd)/x', '%APPDATA%/x'])('refuses the expansion in %s through every tool', async (escape) => {
    const calls: Array<[string, object]> = [
      ['read_file', { path: escape }],
      ['list_files', { path: escape }],
      ['grep', { pattern: 'x', path: escape }],
      ['edit_file', { path: escape, old_string: 'a', new_string: 'b' }],
      ['write_file', { path: escape, content: 'x' }],
      ['run_command', { command: 'true', cwd: escape }],
    ];
    for (const [name, args] of calls) {
      const result = await run(name, args);
      expect(result.isError, name).toBe(true);
    }
  });

  it('keeps real $names (SvelteKit $lib, $types) usable', () => {
    expect(expansionIn('src/$lib/a.ts')).toBeUndefined();
    expect(expansionIn('./$types')).toBeUndefined();
    expect(expansionIn('$HOME/x')).toBeDefined();
  });

  it('treats .git in any letter case as read-only', async () => {
    for (const path of ['.git/config', '.GIT/config', '.Git/hooks/pre-commit']) {
      expect((await run('write_file', { path, content: 'x' })).isError, path).toBe(true);
      expect((await run('edit_file', { path, old_string: '[core]', new_string: 'x' })).isError, path).toBe(true);
    }
  });

  it('refuses to edit a file with a hard link (its other name may be outside)', async () => {
    linkSync(join(base, 'outside.txt'), join(root, 'linked.txt'));
    const result = await run('edit_file', { path: 'linked.txt', old_string: 'SECRET', new_string: 'changed' });
    expect(result.isError).toBe(true);
    expect(result.output).toContain('hard links');
    expect(workspace.overlay.changes()).toEqual([]);
  });

  it('refuses paths through a symlink that leaves the workspace', async () => {
    symlinkSync(base, join(root, 'up'));
    for (const [name, args] of [
      ['read_file', { path: 'up/outside.txt' }],
      ['write_file', { path: 'up/new.txt', content: 'x' }],
      ['run_command', { command: 'true', cwd: 'up' }],
    ] as Array<[string, object]>) {
      expect((await run(name, args)).output, name).toContain('outside the workspace');
    }
  });
});

describe('shadow workspace diffs never leave the root', () => {
  function git(cwd: string, ...args: string[]): void {
    execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  }

  it('skips symlinks a CLI agent created, and .git paths', async () => {
    const repo = join(base, 'repo');
    mkdirSync(repo);
    git(base, 'init', '--quiet', repo);
    writeFileSync(join(repo, 'a.ts'), 'a\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    const shadow = await ShadowWorkspace.create({ root: repo, shadowsDirectory: join(base, 'shadows'), documents: { get: () => undefined } });
    try {
      // What a compromised CLI agent might leave behind in its copy.
      symlinkSync(join(base, 'outside.txt'), join(shadow.path, 'leak.txt'));
      symlinkSync('/etc', join(shadow.path, 'etc'));
      writeFileSync(join(shadow.path, 'a.ts'), 'changed\n');
      const { changes, skipped } = await shadow.changes();
      expect(changes.map((change) => change.relativePath)).toEqual(['a.ts']);
      expect(changes.every((change) => change.absolutePath.startsWith(repo))).toBe(true);
      expect(skipped.map((entry) => entry.relativePath).sort()).toEqual(['etc', 'leak.txt']);
      expect(JSON.stringify(changes)).not.toContain('SECRET');
    } finally {
      await shadow.dispose();
    }
  });
});
