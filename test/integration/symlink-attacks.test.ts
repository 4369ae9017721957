import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShadowWorkspace } from '../../server/src/agent/workspace/shadow-workspace.js';
import { builtInTools, runTool } from '../../server/src/agent/tools/index.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

// A repository crafted by someone else: links that lead, one way or another, to protected files
// or into .git. Every way of spelling the path must be judged by where it really leads.

const tools = builtInTools();
let base: string;
let root: string;
let workspace: WorkspaceFiles;

function run(name: string, args: unknown) {
  return runTool(tools, name, args, { workspace, signal: new AbortController().signal });
}

/** Protected files, each with a marker that must never come back from a tool. */
const PROTECTED: Record<string, string> = {
  '.env': 'MARKER_ENV=1',
  id_rsa: 'MARKER_RSA',
  '.ssh/config': 'MARKER_SSH',
  'secrets/.npmrc': 'MARKER_NPMRC',
  'keys/deploy.pem': 'MARKER_PEM',
};
const MARKER = /MARKER_/;

function write(file: string, text: string, at = root): void {
  mkdirSync(dirname(join(at, file)), { recursive: true });
  writeFileSync(join(at, file), text);
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'codebench-symlinks-'));
  root = join(base, 'ws');
  for (const [file, marker] of Object.entries(PROTECTED)) write(file, `${marker}\n`);
  write('.git/config', '[core]\n');
  mkdirSync(join(root, '.git', 'hooks'));
  write('src/ok.ts', 'export const ok = 1;\n');
  workspace = new WorkspaceFiles([root], { get: () => undefined });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/**
 * Every way this suite spells a path to `target` through links it plants: the file itself linked
 * (absolute and relative target, a link to that link, a case-variant name), a parent directory
 * linked, and each of those with `./`, redundant segments, an absolute path and a file:// URI.
 */
function plantPathsTo(target: string, tag: string): string[] {
  const absolute = join(root, target);
  const name = target.split('/').pop()!;
  const parent = dirname(target);
  symlinkSync(absolute, join(root, `${tag}-abs.txt`));
  symlinkSync(target, join(root, `${tag}-rel.txt`));
  symlinkSync(`${tag}-rel.txt`, join(root, `${tag}-chain.txt`));
  symlinkSync(target, join(root, `${tag.toUpperCase()}.ENV`));
  mkdirSync(join(root, 'deep', tag), { recursive: true });
  symlinkSync(relative(join(root, 'deep', tag), absolute), join(root, 'deep', tag, 'nested.txt'));
  symlinkSync(parent === '.' ? '.' : parent, join(root, `${tag}-dir`));
  symlinkSync(join(root, parent), join(root, `${tag}-dirabs`));
  symlinkSync(`${tag}-dir`, join(root, `${tag}-dirchain`));
  const spelled = [
    `${tag}-abs.txt`,
    `${tag}-rel.txt`,
    `${tag}-chain.txt`,
    `${tag.toUpperCase()}.ENV`,
    `deep/${tag}/nested.txt`,
    `${tag}-dir/${name}`,
    `${tag}-dirabs/${name}`,
    `${tag}-dirchain/${name}`,
  ];
  return spelled.flatMap((path) => [path, `./${path}`, `src/../${path}`, path.replace('/', '/./'), join(root, path), pathToFileURL(join(root, path)).href]);
}

describe('protected files reached through symbolic links', () => {
  const targets = Object.keys(PROTECTED);

  it.each(targets)('read_file, grep and the staging tools refuse every path that leads to %s', async (target) => {
    const paths = plantPathsTo(target, 't');
    expect(paths.length).toBe(48);
    for (const path of paths) {
      const read = await run('read_file', { path });
      expect(read.isError, path).toBe(true);
      expect(read.output, path).toContain('protected file');
      expect(read.output, path).not.toMatch(MARKER);
      const grep = await run('grep', { pattern: 'MARKER', path });
      expect(grep.output, path).not.toMatch(MARKER);
      const edit = await run('edit_file', { path, old_string: PROTECTED[target]!, new_string: 'x' });
      expect(edit.isError, path).toBe(true);
      expect(edit.output, path).not.toMatch(MARKER);
    }
    expect(workspace.overlay.changes()).toEqual([]);
  });

  it('a workspace-wide grep, and reading everything list_files shows, never return a protected value', async () => {
    targets.forEach((target, index) => plantPathsTo(target, `t${index}`));
    const grep = await run('grep', { pattern: 'MARKER' });
    expect(grep.output).not.toMatch(MARKER);
    expect(grep.output).toContain('No matches');
    const listed = (await run('list_files', {})).output.split('\n');
    // The links are listed (names stay visible) but their content is not readable.
    expect(listed).toContain('t0-abs.txt');
    expect(listed.length).toBeGreaterThan(20);
    for (const path of listed) {
      const read = await run('read_file', { path });
      expect(read.output, path).not.toMatch(MARKER);
    }
    for (const dir of ['t2-dir', 't3-dirabs', 't4-dirchain']) {
      const grepDir = await run('grep', { pattern: 'MARKER', path: dir });
      expect(grepDir.output, dir).not.toMatch(MARKER);
    }
  });

  it('write_file refuses to create a link-named file whose target is a protected path', async () => {
    // Dangling links: writing through them would create the protected file.
    for (const [index, target] of ['.env.local', 'new.pem', '.ssh/id_new'].entries()) {
      symlinkSync(target, join(root, `dangling-${index}`));
      const result = await run('write_file', { path: `dangling-${index}`, content: 'x' });
      expect(result.isError, target).toBe(true);
    }
    symlinkSync('.ssh', join(root, 'sshdir'));
    const viaDirectory = await run('write_file', { path: 'sshdir/authorized_keys', content: 'ssh-ed25519 AAAA attacker' });
    expect(viaDirectory.output).toContain('protected file');
    expect(workspace.overlay.changes()).toEqual([]);
  });
});

describe('.git reached through symbolic links', () => {
  // Link names (case variants included) × how they point at .git.
  const names = ['gl', 'GL', '.Git-link', 'nested/gl'];
  const shapes: Array<[string, (link: string) => string]> = [
    ['absolute', () => join(root, '.git')],
    ['relative', (link) => relative(dirname(join(root, link)), join(root, '.git'))],
    ['via another link', (link) => {
      symlinkSync('.git', join(root, `hop-${link.replace('/', '-')}`));
      return relative(dirname(join(root, link)), join(root, `hop-${link.replace('/', '-')}`));
    }],
  ];
  const cases = names.flatMap((name) => shapes.map(([shape, target]) => ({ name, shape, target })));

  it.each(cases)('$name -> .git ($shape): edit_file and write_file are refused at staging', async ({ name, target }) => {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    symlinkSync(target(name), join(root, name));
    const spellings = [`${name}/config`, `./${name}/config`, `src/../${name}/config`, `${name}//config`, join(root, name, 'config')];
    for (const path of spellings) {
      const edit = await run('edit_file', { path, old_string: '[core]', new_string: '[core]\n\tfsmonitor = touch /tmp/pwned' });
      expect(edit.output, path).toContain('.git directory');
      const hook = await run('write_file', { path: path.replace(/config$/, 'hooks/post-checkout'), content: '#!/bin/sh\ntouch /tmp/pwned\n' });
      expect(hook.output, path).toContain('.git directory');
    }
    expect(workspace.overlay.changes()).toEqual([]);
    expect(readFileSync(join(root, '.git', 'config'), 'utf8')).toBe('[core]\n');
  });

  it('refuses file links into .git, dangling ones included', async () => {
    symlinkSync('.git/config', join(root, 'cfg'));
    symlinkSync(join(root, '.git', 'hooks'), join(root, 'hooks'));
    symlinkSync('.git/hooks/pre-commit', join(root, 'precommit'));
    expect((await run('edit_file', { path: 'cfg', old_string: '[core]', new_string: 'x' })).output).toContain('.git directory');
    expect((await run('write_file', { path: 'hooks/pre-push', content: 'x' })).output).toContain('.git directory');
    expect((await run('write_file', { path: 'precommit', content: 'x' })).isError).toBe(true);
    expect(workspace.overlay.changes()).toEqual([]);
  });
});

describe('shadow copies for CLI agents', () => {
  function git(cwd: string, ...args: string[]): void {
    execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  }

  /** Every file in the shadow read the way an agent would, following links; none holds a marker. */
  function leaks(directory: string): string[] {
    const found: string[] = [];
    const visit = (dir: string, depth: number) => {
      for (const name of readdirSync(dir)) {
        if (name === '.git') continue;
        const path = join(dir, name);
        let info;
        try {
          info = statSync(path);
        } catch {
          continue; // dangling: nothing to read
        }
        if (info.isDirectory()) {
          if (depth < 4) visit(path, depth + 1);
        } else if (MARKER.test(readFileSync(path, 'utf8'))) found.push(relative(directory, path));
      }
    };
    visit(directory, 0);
    return found;
  }

  function plantLinks(): void {
    write('outside/secret.txt', 'MARKER_OUTSIDE\n', base);
    symlinkSync('.env', join(root, 'alias-rel.txt'));
    symlinkSync(join(root, '.env'), join(root, 'alias-abs.txt'));
    symlinkSync('alias-rel.txt', join(root, 'alias-chain.txt'));
    symlinkSync('.ssh', join(root, 'sshdir'));
    symlinkSync(join(root, 'secrets'), join(root, 'secretsdir'));
    symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'outside-file.txt'));
    symlinkSync('../outside', join(root, 'outside-dir'));
  }

  it('a git repository: committed and untracked links to protected or outside files carry nothing in', async () => {
    git(base, 'init', '--quiet', root);
    plantLinks();
    git(root, 'add', '-A');
    git(root, 'commit', '--quiet', '-m', 'links');
    // The same shapes again, untracked this time.
    symlinkSync('.env', join(root, 'untracked-rel.txt'));
    symlinkSync(join(root, 'id_rsa'), join(root, 'untracked-abs.txt'));
    symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'untracked-outside.txt'));
    const shadow = await ShadowWorkspace.create({ root, shadowsDirectory: join(base, 'shadows'), documents: { get: () => undefined } });
    try {
      expect(leaks(shadow.path)).toEqual([]);
      expect(readFileSync(join(shadow.path, 'src', 'ok.ts'), 'utf8')).toBe('export const ok = 1;\n');
      // Removed before the starting snapshot: not reported as the agent's deletions.
      expect((await shadow.changes()).skipped).toEqual([]);
    } finally {
      await shadow.dispose();
    }
  });

  it('a plain folder: links to protected or outside files are not copied', async () => {
    plantLinks();
    const shadow = await ShadowWorkspace.create({ root, shadowsDirectory: join(base, 'shadows'), documents: { get: () => undefined } });
    try {
      expect(leaks(shadow.path)).toEqual([]);
      expect(lstatSync(join(shadow.path, 'src', 'ok.ts')).isFile()).toBe(true);
    } finally {
      await shadow.dispose();
    }
  });

  it('changes a CLI agent made are not proposed when the user path leads into .git or to a protected file', async () => {
    git(base, 'init', '--quiet', root);
    symlinkSync('.git', join(root, 'gl'));
    symlinkSync('.env', join(root, 'alias.txt'));
    git(root, 'add', '-A');
    git(root, 'commit', '--quiet', '-m', 'links');
    const shadow = await ShadowWorkspace.create({ root, shadowsDirectory: join(base, 'shadows'), documents: { get: () => undefined } });
    try {
      // In the copy these are ordinary paths; in the user's tree they lead into .git and to .env.
      rmSync(join(shadow.path, 'gl'), { force: true });
      rmSync(join(shadow.path, 'alias.txt'), { force: true });
      write('gl/hooks/post-checkout', '#!/bin/sh\n', shadow.path);
      write('alias.txt', 'MARKER_OVERWRITE=1\n', shadow.path);
      write('src/ok.ts', 'export const ok = 2;\n', shadow.path);
      const { changes, skipped } = await shadow.changes();
      expect(changes.map((change) => change.relativePath)).toEqual(['src/ok.ts']);
      const reasons = Object.fromEntries(skipped.map((entry) => [entry.relativePath, entry.reason]));
      expect(reasons['gl/hooks/post-checkout']).toContain('.git directory');
      expect(reasons['alias.txt']).toContain('protected file');
    } finally {
      await shadow.dispose();
    }
  });
});
