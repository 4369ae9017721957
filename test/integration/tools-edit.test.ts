import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtInTools, runTool } from '../../server/src/agent/tools/index.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

let tmp: string;
let root: string;
let buffers: Map<string, { text: string; version: number }>;
let workspace: WorkspaceFiles;
const tools = builtInTools();

async function files(tree: Record<string, string>): Promise<void> {
  for (const [relative, content] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await writeFile(path.join(root, relative), content);
  }
}

function run(name: string, args: unknown) {
  return runTool(tools, name, args, { workspace, signal: new AbortController().signal });
}

/** Every entry under a directory with its content (or link target) and mtime. */
async function snapshot(directory: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const name of (await readdir(directory, { recursive: true })).sort()) {
    const full = path.join(directory, name);
    const info = await lstat(full);
    if (info.isSymbolicLink()) result[name] = `link:${await readlink(full)}`;
    else if (info.isDirectory()) result[name] = `dir:${info.mtimeMs}`;
    else result[name] = `${info.mtimeMs}:${await readFile(full, 'utf8')}`;
  }
  return result;
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codebench-tools-'));
  root = path.join(tmp, 'ws');
  await mkdir(root);
  buffers = new Map();
  workspace = new WorkspaceFiles([root], { get: (absolutePath) => buffers.get(absolutePath) });
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

describe('edit_file', () => {
  it('replaces a unique occurrence, reports the lines and stages the result', async () => {
    await files({ 'a.ts': 'one\ntwo\nthree\nfour\n' });
    const result = await run('edit_file', { path: 'a.ts', old_string: 'two\nthree', new_string: 'TWO\n2.5\nTHREE' });
    expect(result).toEqual({
      output:
        'Edited a.ts: replaced lines 2-3; the new text is at lines 2-4 (3 lines).\n\nUpdated lines:\n' +
        '   1\tone\n   2\tTWO\n   3\t2.5\n   4\tTHREE\n   5\tfour',
      isError: false,
      activity: 'editing a.ts',
    });
    expect((await run('read_file', { path: 'a.ts' })).output).toContain('   3\t2.5');
    expect(await readFile(path.join(root, 'a.ts'), 'utf8')).toBe('one\ntwo\nthree\nfour\n');
  });

  it('applies successive edits on top of each other', async () => {
    await files({ 'a.ts': 'let x = 1;\nlet y = 2;\n' });
    await run('edit_file', { path: 'a.ts', old_string: 'x = 1', new_string: 'x = 10' });
    await run('edit_file', { path: 'a.ts', old_string: 'x = 10;\nlet y', new_string: 'x = 10;\nconst y' });
    expect(workspace.overlay.changes()[0]!.text).toBe('let x = 10;\nconst y = 2;\n');
  });

  it('explains ambiguous, empty, identical and missing old_string', async () => {
    await files({ 'a.ts': 'foo();\nbar();\nfoo();\n' });
    const twice = await run('edit_file', { path: 'a.ts', old_string: 'foo();', new_string: 'baz();' });
    expect(twice).toMatchObject({
      isError: true,
      output: 'old_string appears 2 times in a.ts (at lines 1, 3). Include more surrounding lines in old_string to make it unique.',
    });
    expect((await run('edit_file', { path: 'a.ts', old_string: '', new_string: 'x' })).output).toContain('old_string is empty');
    expect((await run('edit_file', { path: 'a.ts', old_string: 'bar', new_string: 'bar' })).output).toContain('identical');
    const missing = await run('edit_file', { path: 'a.ts', old_string: 'baz();', new_string: 'x' });
    expect(missing.output).toContain('old_string was not found in a.ts');
  });

  it('points at the nearest text when old_string does not match', async () => {
    await files({ 'a.py': 'def f():\n    return compute(1)\n\ndef g():\n    pass\n' });
    const spacing = await run('edit_file', { path: 'a.py', old_string: 'def f():\n  return compute(1)', new_string: 'x' });
    expect(spacing.output).toContain('matches lines 1-2 if whitespace is ignored');
    const typo = await run('edit_file', { path: 'a.py', old_string: 'return compute(2)', new_string: 'x' });
    expect(typo.output).toContain('The most similar line is:\n   2\t    return compute(1)');
    const diverges = await run('edit_file', { path: 'a.py', old_string: 'def g():\n    return 3', new_string: 'x' });
    expect(diverges.output).toContain('The closest region is lines 4-5 (1 of 2 lines of old_string occur there); the file there reads:\n   3\t\n   4\tdef g():\n   5\t    pass');
  });

  it("accepts read_file's line-number prefixes, trailing whitespace and a shifted block, and says so", async () => {
    await files({ 'a.py': 'def f():\n    return compute(1)\n\ndef g():\n    pass\n' });
    const numbered = await run('edit_file', { path: 'a.py', old_string: '   4\tdef g():\n   5\t    pass', new_string: '   4\tdef g():\n   5\t    return 2' });
    expect(numbered.output).toContain("old_string matched once read_file's line-number prefixes were removed");
    const shifted = await run('edit_file', { path: 'a.py', old_string: 'return compute(1)  ', new_string: 'value = compute(1)\nreturn value' });
    expect(shifted.output).toContain('new_string was re-indented');
    expect(workspace.overlay.changes()[0]!.text).toBe('def f():\n    value = compute(1)\n    return value\n\ndef g():\n    return 2\n');
  });

  it('suggests write_file for a missing file', async () => {
    await files({ 'src/main.ts': '' });
    const result = await run('edit_file', { path: 'src/mian.ts', old_string: 'a', new_string: 'b' });
    expect(result.output).toBe('File src/mian.ts not found. Did you mean: src/main.ts? To create a new file, use write_file.');
  });

  it('keeps CRLF line endings when old_string and new_string use LF', async () => {
    await files({ 'win.txt': 'alpha\r\nbeta\r\ngamma\r\n' });
    const result = await run('edit_file', { path: 'win.txt', old_string: 'alpha\nbeta', new_string: 'alpha\nBETA\nbeta2' });
    expect(result.isError).toBe(false);
    expect(workspace.overlay.changes()[0]!.text).toBe('alpha\r\nBETA\r\nbeta2\r\ngamma\r\n');
    await run('edit_file', { path: 'win.txt', old_string: 'gamma', new_string: 'gamma\ndelta' });
    expect(workspace.overlay.changes()[0]!.text).toBe('alpha\r\nBETA\r\nbeta2\r\ngamma\r\ndelta\r\n');
  });

  it('edits non-ASCII and emoji text correctly', async () => {
    await files({ 'i18n.ts': 'const s = "héllo 👋🏽 wörld";\nconst t = "日本語";\n' });
    await run('edit_file', { path: 'i18n.ts', old_string: '👋🏽 wörld', new_string: '🌍 мир' });
    await run('edit_file', { path: 'i18n.ts', old_string: '"日本語"', new_string: '"中文 🀄"' });
    expect(workspace.overlay.changes()[0]!.text).toBe('const s = "héllo 🌍 мир";\nconst t = "中文 🀄";\n');
  });

  it('edits unsaved editor text, recording its version as the base', async () => {
    await files({ 'a.ts': 'disk\n' });
    buffers.set(path.join(root, 'a.ts'), { text: 'unsaved\n', version: 12 });
    expect((await run('edit_file', { path: 'a.ts', old_string: 'disk', new_string: 'x' })).isError).toBe(true);
    await run('edit_file', { path: 'a.ts', old_string: 'unsaved', new_string: 'edited' });
    expect(workspace.overlay.changes()).toEqual([
      // Where the path led when staged: applying refuses if it leads elsewhere by then.
      { absolutePath: path.join(root, 'a.ts'), relativePath: 'a.ts', base: { text: 'unsaved\n', version: 12 }, text: 'edited\n', root, realPath: path.join(root, 'a.ts') },
    ]);
  });

  it('drops a file from changes() once it is edited back to the original', async () => {
    await files({ 'a.ts': 'x\n' });
    await run('edit_file', { path: 'a.ts', old_string: 'x', new_string: 'y' });
    await run('edit_file', { path: 'a.ts', old_string: 'y', new_string: 'x' });
    expect(workspace.overlay.changes()).toEqual([]);
  });

  it('refuses changes inside .git', async () => {
    await files({ '.git/config': '[core]\n' });
    expect((await run('edit_file', { path: '.git/config', old_string: '[core]', new_string: '' })).output).toContain('.git directory');
  });
});

describe('write_file', () => {
  it('creates new files (also in new directories) only in the overlay', async () => {
    const result = await run('write_file', { path: 'src/new/mod.ts', content: 'export {};\n' });
    expect(result).toEqual({
      output: "Created src/new/mod.ts (1 line). It is staged for the user's review; other tools already see it.",
      isError: false,
      activity: 'creating src/new/mod.ts',
    });
    expect((await run('read_file', { path: 'src/new/mod.ts' })).output).toBe('   1\texport {};');
    expect(workspace.overlay.changes()).toEqual([
      { absolutePath: path.join(root, 'src/new/mod.ts'), relativePath: 'src/new/mod.ts', base: null, text: 'export {};\n', root, realPath: path.join(root, 'src/new/mod.ts') },
    ]);
    expect(await readdir(root)).toEqual([]);
  });

  it('may rewrite a file it created, and edit_file works on it', async () => {
    await run('write_file', { path: 'n.ts', content: 'a\n' });
    expect((await run('write_file', { path: 'n.ts', content: 'b\n' })).output).toContain('which you created earlier');
    await run('edit_file', { path: 'n.ts', old_string: 'b', new_string: 'c' });
    expect(workspace.overlay.changes()[0]).toMatchObject({ base: null, text: 'c\n' });
  });

  it('refuses existing files, open unsaved documents, directories and paths under a file', async () => {
    await files({ 'a.ts': 'x', 'dir/b.ts': '' });
    expect((await run('write_file', { path: 'a.ts', content: 'y' })).output).toContain('a.ts already exists. Use edit_file');
    buffers.set(path.join(root, 'untitled.ts'), { text: 'typed', version: 1 });
    expect((await run('write_file', { path: 'untitled.ts', content: 'y' })).output).toContain('already exists');
    expect((await run('write_file', { path: 'dir', content: 'y' })).output).toContain('dir is a directory');
    expect((await run('write_file', { path: 'a.ts/inner.ts', content: 'y' })).output).toBe(
      'Cannot create a.ts/inner.ts: a.ts is a file, not a directory.',
    );
  });
});

it('leaves the disk untouched whatever the tools do', async () => {
  await files({ '.gitignore': 'out/\n', 'a.ts': 'a\r\nb\r\n', 'src/b.ts': 'hello 👋\n', 'out/x.js': 'x' });
  const before = await snapshot(tmp);
  await run('read_file', { path: 'a.ts' });
  await run('list_files', {});
  await run('grep', { pattern: 'hello' });
  await run('edit_file', { path: 'a.ts', old_string: 'a\nb', new_string: 'c' });
  await run('edit_file', { path: 'src/b.ts', old_string: '👋', new_string: '🌍' });
  await run('write_file', { path: 'src/deeper/new.ts', content: 'new' });
  await run('write_file', { path: 'a.ts', content: 'clobber?' });
  await run('edit_file', { path: '../outside.txt', old_string: 'a', new_string: 'b' });
  expect(workspace.overlay.changes().map((change) => change.relativePath)).toEqual(['a.ts', 'src/b.ts', 'src/deeper/new.ts']);
  expect(await snapshot(tmp)).toEqual(before);
});
