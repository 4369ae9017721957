import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtInTools, runTool, toolSpecs } from '../../server/src/agent/tools/index.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

let tmp: string;
let root: string;
let buffers: Map<string, { text: string; version: number }>;
let workspace: WorkspaceFiles;
const tools = builtInTools();

async function files(tree: Record<string, string | Buffer>): Promise<void> {
  for (const [relative, content] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await writeFile(path.join(root, relative), content);
  }
}

function run(name: string, args: unknown, signal = new AbortController().signal) {
  return runTool(tools, name, args, { workspace, signal });
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codebench-tools-'));
  root = path.join(tmp, 'ws');
  await mkdir(root);
  buffers = new Map();
  workspace = new WorkspaceFiles([root], { get: (absolutePath) => buffers.get(absolutePath) });
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

describe('tool registry', () => {
  it('exposes the public names and argument names as JSON schema', () => {
    const specs = toolSpecs(tools);
    expect(specs.map((spec) => spec.name)).toEqual(['read_file', 'list_files', 'grep', 'edit_file', 'write_file', 'run_command', 'remember']);
    const properties = Object.fromEntries(
      specs.map((spec) => [spec.name, Object.keys(spec.parameters.properties as object)]),
    );
    expect(properties).toEqual({
      read_file: ['path', 'offset', 'limit'],
      list_files: ['path', 'glob'],
      grep: ['pattern', 'path', 'glob'],
      edit_file: ['path', 'old_string', 'new_string'],
      write_file: ['path', 'content'],
      run_command: ['command', 'cwd', 'timeout'],
      remember: ['fact'],
    });
    const read = specs[0]!.parameters;
    expect(read).toMatchObject({ type: 'object', required: ['path'], additionalProperties: false });
    expect(read).not.toHaveProperty('$schema');
    expect(JSON.stringify(read)).not.toContain('9007199254740991');
  });

  it('turns unknown tools and invalid arguments into error results naming the field', async () => {
    expect(await run('delete_file', {})).toMatchObject({ isError: true, output: expect.stringContaining('no tool named "delete_file"') });
    const missing = await run('edit_file', { path: 'a.ts', new_string: 'x' });
    expect(missing.isError).toBe(true);
    expect(missing.output).toContain('"old_string" is required');
    const wrongType = await run('read_file', { path: 'a.ts', offset: 'ten' });
    expect(wrongType.output).toContain('"offset"');
    const extra = await run('edit_file', { path: 'a', old_string: 'a', new_string: 'b', replace_all: true });
    expect(extra.output).toContain('unknown argument "replace_all"');
    expect((await run('read_file', 'not json')).output).toContain('must be a JSON object');
  });

  it('accepts arguments given as JSON text', async () => {
    await files({ 'a.txt': 'hello\n' });
    expect((await run('read_file', '{"path":"a.txt"}')).output).toBe('   1\thello');
  });

  it('answers a cancelled call with an error result', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await run('list_files', {}, controller.signal);
    expect(result).toMatchObject({ isError: true, output: 'list_files was cancelled' });
  });
});

describe('read_file', () => {
  it('returns numbered lines and the activity text', async () => {
    await files({ 'src/a.ts': 'const a = 1;\r\nconst b = 2;\r\n' });
    const result = await run('read_file', { path: 'src/a.ts' });
    expect(result).toEqual({ output: '   1\tconst a = 1;\n   2\tconst b = 2;', isError: false, activity: 'reading src/a.ts' });
  });

  it('pages with offset and limit and says how to continue', async () => {
    await files({ 'long.txt': Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') });
    const result = await run('read_file', { path: 'long.txt', offset: 10, limit: 5 });
    expect(result.output).toBe(
      '  10\tline 10\n  11\tline 11\n  12\tline 12\n  13\tline 13\n  14\tline 14\n\n' +
        '(Showing lines 10-14 of 30. To read more, call read_file with offset 15.)',
    );
    expect((await run('read_file', { path: 'long.txt', offset: 31 })).output).toContain('past the end of long.txt, which has 30 lines');
  });

  it('cuts long lines and says so', async () => {
    await files({ 'min.js': 'x'.repeat(5000) });
    const { output } = await run('read_file', { path: 'min.js' });
    expect(output).toContain('… [3000 more characters]');
    expect(output).toContain('were cut');
  });

  it('refuses binary files and directories, and reports empty files', async () => {
    await files({ 'img.png': Buffer.from([0x89, 0x50, 0x00, 0x01]), 'dir/x.txt': 'x', 'empty.txt': '' });
    expect((await run('read_file', { path: 'img.png' })).output).toContain('binary');
    const directory = await run('read_file', { path: 'dir' });
    expect(directory).toMatchObject({ isError: true, output: expect.stringContaining('dir is a directory') });
    expect((await run('read_file', { path: 'empty.txt' })).output).toBe('empty.txt is empty (0 lines).');
  });

  it('suggests close matches for a missing file', async () => {
    await files({ 'src/parser.ts': '', 'src/lexer.ts': '', 'lib/util/format.ts': '' });
    const typo = await run('read_file', { path: 'src/parsr.ts' });
    expect(typo).toMatchObject({ isError: true, output: 'File src/parsr.ts not found. Did you mean: src/parser.ts?' });
    const wrongFolder = await run('read_file', { path: 'src/format.ts' });
    expect(wrongFolder.output).toContain('lib/util/format.ts');
    const nothing = await run('read_file', { path: 'nope/zzzzzz.qq' });
    expect(nothing.output).toContain('Use list_files');
  });

  it('shows unsaved editor text rather than disk', async () => {
    await files({ 'a.ts': 'on disk\n' });
    buffers.set(path.join(root, 'a.ts'), { text: 'unsaved\n', version: 4 });
    expect((await run('read_file', { path: 'a.ts' })).output).toBe('   1\tunsaved');
  });
});

describe('list_files', () => {
  beforeEach(() =>
    files({
      '.gitignore': 'dist/\n*.log\n!keep.log\n',
      'src/a.ts': '',
      'src/b.js': '',
      'src/deep/c.ts': '',
      'dist/out.js': '',
      'debug.log': '',
      'keep.log': '',
      'node_modules/pkg/index.js': '',
      '.git/HEAD': '',
      'src/.gitignore': 'generated.ts\n',
      'src/generated.ts': '',
    }),
  );

  it('lists files recursively, skipping .git, node_modules and .gitignored paths', async () => {
    const result = await run('list_files', {});
    expect(result.output.split('\n')).toEqual(['.gitignore', 'keep.log', 'src/.gitignore', 'src/a.ts', 'src/b.js', 'src/deep/c.ts']);
    expect(result.activity).toBe('listing workspace');
  });

  it('filters by glob and by directory', async () => {
    expect((await run('list_files', { glob: '*.ts' })).output).toBe('src/a.ts\nsrc/deep/c.ts');
    expect((await run('list_files', { glob: 'src/*.ts' })).output).toBe('src/a.ts');
    expect((await run('list_files', { path: 'src/deep' })).output).toBe('src/deep/c.ts');
    expect((await run('list_files', { glob: '*.py' })).output).toContain('No files found');
  });

  it('includes files created in this run', async () => {
    await run('write_file', { path: 'src/new/d.ts', content: 'x' });
    expect((await run('list_files', { path: 'src', glob: '*.ts' })).output).toBe('src/a.ts\nsrc/deep/c.ts\nsrc/new/d.ts (new)');
  });

  it('caps long listings with a note', async () => {
    await files(Object.fromEntries(Array.from({ length: 1005 }, (_, i) => [`many/f${String(i).padStart(4, '0')}.txt`, ''])));
    const lines = (await run('list_files', { path: 'many' })).output.split('\n');
    expect(lines).toHaveLength(1002);
    expect(lines.at(-1)).toContain('Showing the first 1000 files');
  });

  it('reports a missing directory', async () => {
    expect((await run('list_files', { path: 'scr' })).output).toBe('Directory scr not found. Did you mean: src?');
  });
});

describe('grep', () => {
  beforeEach(() =>
    files({
      '.gitignore': 'build/\n',
      'src/a.ts': 'export function parse() {}\nconst PARSE = 1;\n',
      'src/b.py': 'def parse():\n    pass\n',
      'build/a.js': 'function parse() {}\n',
      'bin.dat': Buffer.from('parse\0\0'),
      'big.txt': `parse\n${'x'.repeat(1024 * 1024)}`,
    }),
  );

  it('prints path:line: text, honouring .gitignore and skipping binary and large files', async () => {
    const result = await run('grep', { pattern: 'parse' });
    expect(result.output).toBe('src/a.ts:1: export function parse() {}\nsrc/b.py:1: def parse():\n\n(Skipped 1 file over 1 MB.)');
  });

  it('supports glob, path, (?i) and a single file', async () => {
    expect((await run('grep', { pattern: 'parse', glob: '*.py' })).output).toBe('src/b.py:1: def parse():');
    expect((await run('grep', { pattern: '(?i)^const parse', path: 'src' })).output).toBe('src/a.ts:2: const PARSE = 1;');
    expect((await run('grep', { pattern: 'pass', path: 'src/b.py' })).output).toBe('src/b.py:2:     pass');
  });

  it('searches unsaved and staged text', async () => {
    buffers.set(path.join(root, 'src/b.py'), { text: 'def render():\n', version: 2 });
    await run('write_file', { path: 'src/c.ts', content: 'parse again\n' });
    expect((await run('grep', { pattern: 'parse|render' })).output).toContain('src/a.ts:1: export function parse() {}\nsrc/b.py:1: def render():\nsrc/c.ts:1: parse again');
    expect((await run('grep', { pattern: 'parse again', path: 'src' })).output).toBe('src/c.ts:1: parse again');
  });

  it('explains invalid patterns and empty results', async () => {
    const invalid = await run('grep', { pattern: 'foo(' });
    expect(invalid).toMatchObject({ isError: true, output: expect.stringContaining('Invalid regular expression "foo(": Unterminated group.') });
    expect((await run('grep', { pattern: 'nothing-here' })).output).toMatch(/^No matches for \/nothing-here\/ in the workspace \(searched \d+ files\)/);
  });

  it('stops between files once the signal is aborted', async () => {
    const controller = new AbortController();
    let reads = 0;
    // The walk asks OpenDocuments for each file it searches, so aborting there lands mid-walk.
    workspace = new WorkspaceFiles([root], {
      get: () => {
        if (++reads === 1) controller.abort();
        return undefined;
      },
    });
    const result = await run('grep', { pattern: 'parse' }, controller.signal);
    expect(result).toMatchObject({ isError: true, output: 'grep was cancelled' });
    expect(reads).toBe(1);
  });

  it('caps matches with a note', async () => {
    await files({ 'many.txt': 'hit\n'.repeat(300) });
    const lines = (await run('grep', { pattern: 'hit', path: 'many.txt' })).output.split('\n');
    expect(lines).toHaveLength(202);
    expect(lines.at(-1)).toContain('Stopped after 200 matches');
  });
});
