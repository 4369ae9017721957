import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';

const repo = path.resolve(fileURLToPath(import.meta.url), '../../..');
let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-store-conc-'));
  file = path.join(dir, 'history.sqlite');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function count(query: string): number {
  const sqlite = new SQLite(file, { readonly: true });
  try {
    return sqlite.prepare(query).pluck().get() as number;
  } finally {
    sqlite.close();
  }
}

function integrityCheck(): void {
  const sqlite = new SQLite(file);
  try {
    sqlite.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
    expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
  } finally {
    sqlite.close();
  }
}

/** Writes like an agent turn: a run, messages, a tool call, a proposal, a finished run. */
async function turn(store: Store, sessionId: string, tag: string, i: number): Promise<void> {
  const run = await store.createRun({ sessionId, provider: 'p', model: 'm', instruction: `${tag} ${i}` });
  await store.addMessage({ sessionId, role: 'user', content: `${tag} question ${i}` });
  await store.recordToolCall({
    runId: run.id, callId: `c${i}`, name: 'read', args: { i }, result: 'ok', isError: false,
    startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(),
  });
  await store.addMessage({ sessionId, runId: run.id, role: 'assistant', content: `${tag} answer ${i}` });
  await store.createProposal({ runId: run.id, sessionId, summary: 's', files: [], diff: '' });
  await store.finishRun(run.id, { status: 'completed', inputTokens: i, outputTokens: i });
}

// The same turn as above, in plain JS for the child processes.
const CHILD_SOURCE = `
import fs from 'node:fs';
const [storeUrl, file, tag, turns, go] = process.argv.slice(2);
const { Store } = await import(storeUrl);
fs.writeFileSync(go + '.' + tag, '');
while (!fs.existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 2));
const store = await Store.open(file);
const session = await store.createSession({ workspaceUri: 'file:///w', title: tag, provider: 'p' });
const first = Date.now();
for (let i = 0; i < Number(turns); i++) {
  const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: tag + ' ' + i });
  await store.addMessage({ sessionId: session.id, role: 'user', content: tag + ' question ' + i });
  await store.recordToolCall({
    runId: run.id, callId: 'c' + i, name: 'read', args: { i }, result: 'ok', isError: false,
    startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(),
  });
  await store.addMessage({ sessionId: session.id, runId: run.id, role: 'assistant', content: tag + ' answer ' + i });
  await store.createProposal({ runId: run.id, sessionId: session.id, summary: 's', files: [], diff: '' });
  await store.finishRun(run.id, { status: 'completed', inputTokens: i, outputTokens: i });
}
const last = Date.now();
await store.close();
process.stdout.write(JSON.stringify({ sessionId: session.id, first, last }));
`;

/**
 * Node 20 cannot run TypeScript, so the children get the store transpiled next to a link to the
 * real node_modules (ESM resolution walks up from the importing file).
 */
function transpileStore(): string {
  const lib = path.join(dir, 'lib');
  fs.mkdirSync(path.join(lib, 'store'), { recursive: true });
  fs.writeFileSync(path.join(lib, 'package.json'), '{"type":"module"}');
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(lib, 'node_modules'), 'dir');
  const sourceDir = path.join(repo, 'server/src/store');
  for (const name of fs.readdirSync(sourceDir).filter((n) => n.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(fs.readFileSync(path.join(sourceDir, name), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    fs.writeFileSync(path.join(lib, 'store', name.replace(/\.ts$/, '.js')), outputText);
  }
  return lib;
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the child processes');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('two connections on one file', () => {
  it('interleave writes from two Store instances in one process without SQLITE_BUSY', async () => {
    const a = await Store.open(file);
    const b = await Store.open(file);
    try {
      const shared = await a.createSession({ workspaceUri: 'file:///w', title: 'shared', provider: 'p' });
      const own = await b.createSession({ workspaceUri: 'file:///w', title: 'own', provider: 'p' });
      const turns = 40;
      const started = Date.now();
      await Promise.all([
        ...Array.from({ length: turns }, (_, i) => turn(a, shared.id, 'a', i)),
        ...Array.from({ length: turns }, (_, i) => turn(b, shared.id, 'b', i)),
        ...Array.from({ length: turns }, (_, i) => turn(b, own.id, 'own', i)),
        ...Array.from({ length: turns }, (_, i) => a.searchMessages({ query: `question ${i}` })),
      ]);
      // A busy wait would show up as seconds, not milliseconds.
      expect(Date.now() - started).toBeLessThan(4000);
      expect(await a.getSession(shared.id)).toMatchObject({ messageCount: 4 * turns });
      expect(await b.getSession(own.id)).toMatchObject({ messageCount: 2 * turns });
      expect(await b.listMessages(shared.id)).toHaveLength(4 * turns);
      expect(await a.searchMessages({ query: 'own answer', limit: 200 })).toHaveLength(turns);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    expect(count('SELECT count(*) FROM runs WHERE status = \'completed\'')).toBe(120);
    integrityCheck();
  });

  it('serve three processes that create the schema at the same moment and then write at once', async () => {
    const lib = transpileStore();
    const child = path.join(lib, 'child.js');
    fs.writeFileSync(child, CHILD_SOURCE);
    const storeUrl = pathToFileURL(path.join(lib, 'store/store.js')).href;
    const go = path.join(dir, 'go');
    const tags = ['left', 'middle', 'right'];
    const turns = 80;
    const children = tags.map((tag) =>
      promisify(execFile)(process.execPath, [child, storeUrl, file, tag, String(turns), go], {
        timeout: 60_000,
      }),
    );
    // Release all children together once each has loaded its modules, so their first open races.
    await waitFor(() => tags.every((tag) => fs.existsSync(`${go}.${tag}`)));
    fs.writeFileSync(go, '');
    const reports = (await Promise.all(children)).map(
      (result) => JSON.parse(result.stdout) as { sessionId: string; first: number; last: number },
    );

    // The write phases really overlapped (otherwise this test proves nothing).
    const latestFirst = Math.max(...reports.map((r) => r.first));
    const earliestLast = Math.min(...reports.map((r) => r.last));
    expect(latestFirst).toBeLessThan(earliestLast);

    const store = await Store.open(file);
    for (const { sessionId } of reports) {
      expect(await store.getSession(sessionId)).toMatchObject({ messageCount: 2 * turns });
    }
    expect(await store.searchMessages({ query: 'middle answer', limit: 200 })).toHaveLength(turns);
    await store.close();
    expect(count('SELECT count(*) FROM workspaces')).toBe(1);
    // Each migration recorded exactly once despite three processes racing to apply them.
    const { migrations } = await import('../../server/src/store/migrations.js');
    expect(count('SELECT count(*) FROM kysely_migration')).toBe(Object.keys(migrations).length);
    expect(count('SELECT count(*) FROM messages')).toBe(tags.length * 2 * turns);
    integrityCheck();
  });
});
