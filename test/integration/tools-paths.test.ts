import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtInTools, runTool } from '../../server/src/agent/tools/index.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

let tmp: string;
let root: string;
let workspace: WorkspaceFiles;
const tools = builtInTools();

function run(name: string, args: unknown) {
  return runTool(tools, name, args, { workspace, signal: new AbortController().signal });
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codebench-paths-'));
  root = path.join(tmp, 'ws');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await mkdir(path.join(tmp, 'secret-dir'));
  await writeFile(path.join(tmp, 'outside.txt'), 'SECRET outside\n');
  await writeFile(path.join(tmp, 'secret-dir', 'key.txt'), 'SECRET key\n');
  await writeFile(path.join(root, 'a.ts'), 'inside\n');
  await writeFile(path.join(root, 'sub', 'b.ts'), 'inside b\n');
  await symlink(path.join(tmp, 'outside.txt'), path.join(root, 'link.txt'));
  await symlink(path.join(tmp, 'secret-dir'), path.join(root, 'linked-dir'));
  await symlink(path.join(root, 'a.ts'), path.join(root, 'alias.ts'));
  await symlink(path.join(tmp, 'nowhere.txt'), path.join(root, 'dangling.txt'));
  workspace = new WorkspaceFiles([root], { get: () => undefined });
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

describe('escape attempts are refused', () => {
  const escapes = ['../outside.txt', 'sub/../../outside.txt', '/etc/passwd'];

  it.each(escapes)('read_file %s', async (escape) => {
    const result = await run('read_file', { path: escape });
    expect(result.isError).toBe(true);
    expect(result.output).toBe(`path ${escape} is outside the workspace (${root}); use a path inside it`);
  });

  it('refuses an absolute path outside the root for every tool', async () => {
    const outside = path.join(tmp, 'outside.txt');
    const calls: [string, object][] = [
      ['read_file', { path: outside }],
      ['list_files', { path: tmp }],
      ['grep', { pattern: 'SECRET', path: outside }],
      ['edit_file', { path: outside, old_string: 'SECRET', new_string: 'x' }],
      ['write_file', { path: path.join(tmp, 'new.txt'), content: 'x' }],
    ];
    for (const [name, args] of calls) {
      const result = await run(name, args);
      expect(result.isError, name).toBe(true);
      expect(result.output, name).toContain('is outside the workspace');
    }
  });

  it('refuses .. escapes for writing and editing', async () => {
    expect((await run('write_file', { path: 'sub/../../new.txt', content: 'x' })).output).toContain('outside the workspace');
    expect((await run('edit_file', { path: '../outside.txt', old_string: 'SECRET', new_string: 'x' })).output).toContain(
      'outside the workspace',
    );
    expect(workspace.overlay.changes()).toEqual([]);
  });

  it('refuses a symlinked file that points outside', async () => {
    const result = await run('read_file', { path: 'link.txt' });
    expect(result.isError).toBe(true);
    expect(result.output).toContain(`resolves through a symbolic link to ${path.join(tmp, 'outside.txt')}`);
    expect((await run('edit_file', { path: 'link.txt', old_string: 'SECRET', new_string: 'x' })).isError).toBe(true);
  });

  it('refuses reading and creating files under a symlinked directory that points outside', async () => {
    expect((await run('read_file', { path: 'linked-dir/key.txt' })).output).toContain('outside the workspace');
    const write = await run('write_file', { path: 'linked-dir/new.txt', content: 'x' });
    expect(write.output).toContain('outside the workspace');
    const deeper = await run('write_file', { path: 'linked-dir/a/b/new.txt', content: 'x' });
    expect(deeper.output).toContain('outside the workspace');
    expect(workspace.overlay.changes()).toEqual([]);
    expect(await readdir(path.join(tmp, 'secret-dir'))).toEqual(['key.txt']);
  });

  it('answers odd input with an error instead of throwing', () => {
    expect(workspace.resolve('a\0b')).toEqual({ ok: false, error: 'path "a\\u0000b" contains a NUL character' });
    expect(workspace.resolve('file://remote-host/x')).toMatchObject({ ok: false });
  });

  it('refuses writing through a dangling symlink', async () => {
    const result = await run('write_file', { path: 'dangling.txt', content: 'x' });
    expect(result.output).toContain('symbolic link (dangling.txt) whose target does not exist');
  });

  it('keeps outside content out of listings and searches', async () => {
    const listing = (await run('list_files', {})).output.split('\n');
    expect(listing).toEqual(['a.ts', 'alias.ts', 'sub/b.ts']);
    const search = await run('grep', { pattern: 'SECRET' });
    expect(search.output).toMatch(/^No matches/);
  });
});

describe('paths inside the workspace', () => {
  it('accepts absolute paths, file URIs and normalised relative paths inside the root', async () => {
    expect((await run('read_file', { path: path.join(root, 'sub', 'b.ts') })).output).toBe('   1\tinside b');
    expect((await run('read_file', { path: pathToFileURL(path.join(root, 'a.ts')).href })).output).toBe('   1\tinside');
    expect((await run('read_file', { path: 'sub/../a.ts' })).output).toBe('   1\tinside');
    expect((await run('read_file', { path: './sub/b.ts' })).output).toBe('   1\tinside b');
    const write = await run('write_file', { path: path.join(root, 'sub', 'c.ts'), content: 'c' });
    expect(write.output).toContain('Created sub/c.ts');
  });

  it('follows symlinks that stay inside the workspace', async () => {
    expect((await run('read_file', { path: 'alias.ts' })).output).toBe('   1\tinside');
  });

  it('resolves against the first root where the path exists, or a root named by its folder', async () => {
    const second = path.join(tmp, 'lib');
    await mkdir(path.join(second, 'src'), { recursive: true });
    await writeFile(path.join(second, 'src', 'only-here.ts'), 'second root\n');
    workspace = new WorkspaceFiles([root, second], { get: () => undefined });

    const found = workspace.resolve('src/only-here.ts');
    const real = path.join(second, 'src', 'only-here.ts');
    expect(found).toEqual({ ok: true, absolutePath: real, relativePath: 'lib/src/only-here.ts', root: second, realPath: real, realRelativePath: 'lib/src/only-here.ts' });
    expect(workspace.resolve('lib/src/only-here.ts')).toEqual(found);
    expect(workspace.resolve('new.ts')).toMatchObject({ ok: true, absolutePath: path.join(root, 'new.ts'), relativePath: 'new.ts' });
    expect((await run('read_file', { path: 'lib/src/only-here.ts' })).output).toBe('   1\tsecond root');
    const outside = workspace.resolve('../outside.txt');
    expect(outside).toEqual({ ok: false, error: `path ../outside.txt is outside the workspace (${root}, ${second}); use a path inside it` });
  });
});
