import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtInTools, runTool } from '../../server/src/agent/tools/index.js';
import { checkFact, projectMemory } from '../../server/src/agent/tools/remember.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';
import { Store } from '../../server/src/store/store.js';

/** The project memory in a real SQLite file, and the `remember` tool over it. */

const HERE = 'file:///w/project';
const THERE = 'file:///w/other';
let dir: string;
let store: Store;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-memory-'));
  store = await Store.open(path.join(dir, 'history.sqlite'));
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('memory facts in the store', () => {
  it('lists a workspace’s facts oldest first, with the run that remembered each', async () => {
    const session = await store.createSession({ workspaceUri: HERE, title: 't', provider: 'p' });
    const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'i' });
    const first = await store.addMemoryFact({ workspaceUri: HERE, text: 'first', runId: run.id });
    await store.addMemoryFact({ workspaceUri: THERE, text: 'elsewhere' });
    const second = await store.addMemoryFact({ workspaceUri: HERE, text: 'second' });
    expect(await store.listMemoryFacts(HERE)).toEqual([
      { id: first.id, workspaceUri: HERE, text: 'first', createdAt: first.createdAt, runId: run.id },
      { id: second.id, workspaceUri: HERE, text: 'second', createdAt: second.createdAt },
    ]);
    expect(first.createdAt < second.createdAt).toBe(true);

    // A fact outlives the session whose run remembered it, and still names that run.
    await store.deleteSession(session.id);
    expect((await store.listMemoryFacts(HERE))[0]).toMatchObject({ text: 'first', runId: run.id });
  });

  it('never rewrites a fact: the database refuses an UPDATE', async () => {
    const fact = await store.addMemoryFact({ workspaceUri: HERE, text: 'as written' });
    const sqlite = new SQLite(store.file);
    try {
      expect(() => sqlite.prepare('UPDATE memory_facts SET text = ? WHERE id = ?').run('rewritten', fact.id)).toThrow(/memory facts are never rewritten/);
    } finally {
      sqlite.close();
    }
    expect((await store.listMemoryFacts(HERE))[0]!.text).toBe('as written');
  });

  it('removes by full id or unique prefix, and says why not otherwise', async () => {
    const sqlite = new SQLite(store.file);
    try {
      const insert = sqlite.prepare("INSERT INTO memory_facts (id, workspace_uri, text, created_at) VALUES (?, ?, ?, '2026-01-01T00:00:00.000Z')");
      insert.run('abcd0000-0000-4000-8000-000000000000', HERE, 'one');
      insert.run('abcd1111-0000-4000-8000-000000000000', THERE, 'two');
    } finally {
      sqlite.close();
    }
    expect(await store.removeMemoryFact('ab')).toEqual({ kind: 'too-short' });
    expect(await store.removeMemoryFact('ffff')).toEqual({ kind: 'not-found' });
    // `%` and `_` are literal, not wildcards.
    expect(await store.removeMemoryFact('abc%')).toEqual({ kind: 'not-found' });
    const ambiguous = await store.removeMemoryFact('ABCD');
    expect(ambiguous).toMatchObject({ kind: 'ambiguous', more: false });
    expect(ambiguous.kind === 'ambiguous' && ambiguous.candidates.map((fact) => fact.text)).toEqual(['one', 'two']);

    expect(await store.removeMemoryFact('abcd1')).toMatchObject({ kind: 'found', item: { text: 'two', workspaceUri: THERE } });
    expect(await store.listMemoryFacts(THERE)).toEqual([]);
    expect(await store.removeMemoryFact('abcd0000-0000-4000-8000-000000000000')).toMatchObject({ kind: 'found', item: { text: 'one' } });
    expect(await store.removeMemoryFact('abcd0000-0000-4000-8000-000000000000')).toEqual({ kind: 'not-found' });
  });
});

describe('checkFact', () => {
  it('trims, caps at 500 characters, redacts secrets and refuses a fact that is only a secret', () => {
    const key = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    expect(checkFact('  Use tabs.  ')).toEqual({ ok: true, text: 'Use tabs.', redactions: 0 });
    expect(checkFact(' \n ')).toEqual({ ok: false, error: 'the fact is empty' });
    expect(checkFact('x'.repeat(500))).toMatchObject({ ok: true });
    expect(checkFact('x'.repeat(501))).toMatchObject({ ok: false, error: expect.stringContaining('501 characters long; at most 500') });
    expect(checkFact(`CI token ${key}`)).toEqual({ ok: true, text: 'CI token [redacted:github token]', redactions: 1 });
    expect(checkFact(`"${key}".`)).toMatchObject({ ok: false, error: expect.stringContaining('nothing but a secret') });
  });
});

describe('the remember tool', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-remember-'));
  const workspace = new WorkspaceFiles([root], { get: () => undefined });
  const tools = builtInTools();
  const signal = new AbortController().signal;
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is offered to the model as remember {fact}', () => {
    const remember = tools.find((tool) => tool.name === 'remember');
    expect(remember?.parameters).toMatchObject({ type: 'object', properties: { fact: { type: 'string' } }, required: ['fact'] });
    expect(remember?.description).toMatch(/^Store a short, durable fact about this project \(a convention, a decision\) for future sessions\. Not for secrets or temporary state\.$/);
  });

  it('stores the fact, scrubbed, under the run and workspace of its context', async () => {
    const session = await store.createSession({ workspaceUri: HERE, title: 't', provider: 'p' });
    const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'i' });
    const memory = projectMemory(store, HERE, run.id);
    const result = await runTool(tools, 'remember', { fact: 'Deploy with key sk-proj-0123456789abcdefghijklmnop.' }, { workspace, signal, memory });
    const [fact] = await store.listMemoryFacts(HERE);
    expect(fact).toMatchObject({ text: 'Deploy with key [redacted:api key].', runId: run.id });
    expect(result).toEqual({
      output: `Remembered as fact ${fact!.id.slice(0, 8)} (secret-looking text was replaced by a placeholder before storing): Deploy with key [redacted:api key].`,
      isError: false,
      activity: 'remembering: Deploy with key sk-proj-0123456789abcdefghijklmnop.',
    });

    const tooLong = await runTool(tools, 'remember', { fact: 'y'.repeat(501) }, { workspace, signal, memory });
    expect(tooLong).toMatchObject({ isError: true, output: expect.stringMatching(/^Not remembered: the fact is 501 characters long/) });
    expect(await store.listMemoryFacts(HERE)).toHaveLength(1);
  });

  it('says the memory is not available where a run has none, and stores nothing', async () => {
    const result = await runTool(tools, 'remember', { fact: 'anything' }, { workspace, signal });
    expect(result).toMatchObject({ isError: true, output: 'The project memory is not available here; nothing was stored.' });
  });
});
