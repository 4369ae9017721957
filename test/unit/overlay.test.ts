import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Overlay } from '../../server/src/agent/workspace/overlay.js';
import { WorkspaceFiles, type OpenDocuments } from '../../server/src/agent/workspace/workspace-files.js';

describe('Overlay', () => {
  it('keeps the first base snapshot and lets later reads see staged text', () => {
    const overlay = new Overlay();
    overlay.recordBase('/w/a.ts', 'a.ts', { text: 'one', version: 3 });
    overlay.recordBase('/w/a.ts', 'a.ts', { text: 'changed by the user meanwhile', version: 4 });
    expect(overlay.current('/w/a.ts')).toBe('one');
    overlay.stage('/w/a.ts', 'two');
    expect(overlay.current('/w/a.ts')).toBe('two');
    expect(overlay.changes()).toEqual([
      { absolutePath: '/w/a.ts', relativePath: 'a.ts', base: { text: 'one', version: 3 }, text: 'two' },
    ]);
  });

  it('reports new files with a null base, sorted by path, and drops files edited back', () => {
    const overlay = new Overlay();
    overlay.recordBase('/w/z.ts', 'z.ts', { text: 'z', version: null });
    overlay.recordBase('/w/b/new.ts', 'b/new.ts', null);
    overlay.recordBase('/w/a.ts', 'a.ts', { text: 'a', version: null });
    overlay.stage('/w/z.ts', 'zz');
    overlay.stage('/w/b/new.ts', '');
    overlay.stage('/w/a.ts', 'aa');
    overlay.stage('/w/a.ts', 'a');
    expect(overlay.changes().map((change) => [change.relativePath, change.base, change.text])).toEqual([
      ['b/new.ts', null, ''],
      ['z.ts', { text: 'z', version: null }, 'zz'],
    ]);
    expect(overlay.isCreatedByRun('/w/b/new.ts')).toBe(true);
    expect(overlay.isCreatedByRun('/w/z.ts')).toBe(false);
    expect(overlay.createdFiles()).toEqual([{ absolutePath: '/w/b/new.ts', relativePath: 'b/new.ts' }]);
  });

  it('distinguishes never-read paths from paths known to be missing', () => {
    const overlay = new Overlay();
    expect(overlay.base('/w/x')).toBeUndefined();
    overlay.recordBase('/w/x', 'x', null);
    expect(overlay.base('/w/x')).toBeNull();
    expect(overlay.knows('/w/x')).toBe(true);
    expect(overlay.current('/w/x')).toBeUndefined();
    expect(overlay.changes()).toEqual([]);
  });

  it('refuses to stage a file whose base was never recorded', () => {
    expect(() => new Overlay().stage('/w/a', 'x')).toThrow(/no base recorded/);
  });

  it('hands out copies, so callers cannot alter the recorded base', () => {
    const overlay = new Overlay();
    overlay.recordBase('/w/a', 'a', { text: 'a', version: 1 });
    overlay.stage('/w/a', 'b');
    overlay.changes()[0]!.base!.text = 'tampered';
    expect(overlay.changes()[0]!.base).toEqual({ text: 'a', version: 1 });
  });
});

describe('WorkspaceFiles.readText', () => {
  let tmp: string | undefined;
  afterEach(async () => {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('prefers the overlay, then the open document, then disk, and records the base once', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'codebench-overlay-'));
    await writeFile(path.join(tmp, 'open.ts'), 'disk text');
    await writeFile(path.join(tmp, 'closed.ts'), 'closed on disk');
    const buffers = new Map([[path.join(tmp, 'open.ts'), { text: 'unsaved text', version: 7 }]]);
    const documents: OpenDocuments = { get: (absolutePath) => buffers.get(absolutePath) };
    const workspace = new WorkspaceFiles([tmp], documents);
    const open = path.join(tmp, 'open.ts');

    expect(await workspace.readText(open)).toBe('unsaved text');
    expect(workspace.overlay.base(open)).toEqual({ text: 'unsaved text', version: 7 });
    buffers.set(open, { text: 'typed later', version: 8 });
    expect(await workspace.readText(open)).toBe('unsaved text');

    expect(await workspace.readText(path.join(tmp, 'closed.ts'))).toBe('closed on disk');
    expect(workspace.overlay.base(path.join(tmp, 'closed.ts'))).toEqual({ text: 'closed on disk', version: null });

    expect(await workspace.readText(path.join(tmp, 'missing.ts'))).toBeUndefined();
    expect(workspace.overlay.base(path.join(tmp, 'missing.ts'))).toBeNull();

    workspace.overlay.stage(open, 'staged');
    expect(await workspace.readText(open)).toBe('staged');
  });

  it('gives concurrent first reads the same snapshot', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'codebench-overlay-'));
    const file = path.join(tmp, 'a.txt');
    await writeFile(file, 'v1');
    const workspace = new WorkspaceFiles([tmp], { get: () => undefined });
    const first = workspace.readText(file);
    const second = workspace.readText(file);
    expect(await Promise.all([first, second])).toEqual(['v1', 'v1']);
  });
});
