import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMatchExpression } from '../../server/src/store/messages.js';
import { SNIPPET_CLOSE, SNIPPET_OPEN, Store, type SessionRecord } from '../../server/src/store/store.js';

let dir: string;
let store: Store;
let alpha: SessionRecord;
let beta: SessionRecord;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-store-search-'));
  store = await Store.open(path.join(dir, 'history.sqlite'));
  alpha = await store.createSession({ workspaceUri: 'file:///alpha', title: 'Alpha', provider: 'p' });
  beta = await store.createSession({ workspaceUri: 'file:///beta', title: 'Beta', provider: 'p' });
  const run = await store.createRun({ sessionId: beta.id, provider: 'p', model: 'm', instruction: 'i' });
  const add = (session: SessionRecord, content: string, runId?: string) =>
    store.addMessage({ sessionId: session.id, role: 'user', content, runId });
  await add(alpha, 'The parser crashes on an empty file');
  await add(alpha, 'Refactoring the tokenizer\nso that the parser\tcopes');
  await add(alpha, 'Un café au lait, s’il vous plaît');
  await add(alpha, 'Ship it 🚀 tonight');
  await add(alpha, 'call foo(" OR bar) with a * glob and [brackets]');
  await add(beta, 'The parser in beta needs tests', run.id);
});

afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const contents = async (query: string, extra: { workspaceUri?: string; limit?: number } = {}) =>
  (await store.searchMessages({ query, ...extra })).map((hit) => hit.snippet);

describe('searchMessages', () => {
  it('finds words newest first, with session and run details', async () => {
    const hits = await store.searchMessages({ query: 'parser' });
    expect(hits.map((h) => h.sessionTitle)).toEqual(['Beta', 'Alpha', 'Alpha']);
    expect(hits[0]).toMatchObject({ sessionId: beta.id, role: 'user', runId: expect.any(String) });
    expect(hits[1]?.runId).toBeUndefined();
    const ids = hits.map((h) => h.messageId);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect((hits[0]?.createdAt ?? '') > (hits[1]?.createdAt ?? '')).toBe(true);
  });

  it('marks matches in a single-line snippet', async () => {
    const [hit] = await store.searchMessages({ query: 'tokenizer copes' });
    expect(hit?.snippet).toBe(`Refactoring the ${SNIPPET_OPEN}tokenizer${SNIPPET_CLOSE} so that the parser ${SNIPPET_OPEN}copes${SNIPPET_CLOSE}`);
    // Brackets in the text itself stay distinguishable from the markers.
    expect(await contents('brackets')).toEqual([`call foo(" OR bar) with a * glob and [${SNIPPET_OPEN}brackets${SNIPPET_CLOSE}]`]);
  });

  it('requires every term, and a trailing * makes a prefix', async () => {
    expect(await contents('parser empty')).toHaveLength(1);
    expect(await contents('parser nonexistent')).toEqual([]);
    expect(await contents('refact')).toEqual([]);
    expect(await contents('refact*')).toHaveLength(1);
  });

  it('scopes to a workspace and honours the limit', async () => {
    const scoped = await store.searchMessages({ query: 'parser', workspaceUri: 'file:///alpha' });
    expect(scoped.map((h) => h.sessionId)).toEqual([alpha.id, alpha.id]);
    expect(await store.searchMessages({ query: 'parser', workspaceUri: 'file:///unknown' })).toEqual([]);
    expect(await contents('parser', { limit: 1 })).toHaveLength(1);
  });

  it('folds diacritics and indexes emoji', async () => {
    expect(await contents('cafe')).toHaveLength(1);
    expect(await contents('CAFÉ')).toHaveLength(1);
    expect(await contents('cafe\u0301')).toHaveLength(1); // decomposed é
    expect(await contents('🚀')).toEqual([`Ship it ${SNIPPET_OPEN}🚀${SNIPPET_CLOSE} tonight`]);
  });

  it('treats operators and punctuation as text, never as FTS syntax', async () => {
    const awkward = [
      'foo(" OR',
      '"',
      '""',
      '"unterminated',
      '(',
      ')',
      'a OR b',
      'OR',
      'AND NOT',
      'NEAR(a b)',
      '*',
      '**',
      'foo*bar',
      '-parser',
      '^parser',
      'content:parser',
      'parser:',
      '{content}: x',
      'a + b',
      "it's",
      '\u0000',
      'null\u0000byte',
      '\ud83d', // lone surrogate
      '🎉🎉🎉',
      '👩‍💻',
      'x'.repeat(5000),
      Array.from({ length: 500 }, (_, i) => `w${i}`).join(' '),
    ];
    for (const query of awkward) {
      await expect(store.searchMessages({ query }), JSON.stringify(query)).resolves.toBeInstanceOf(Array);
    }
    expect(await contents('foo(" OR')).toHaveLength(1);
    expect(await contents('OR')).toHaveLength(1); // the word "OR" in the text
    expect(await contents('-parser')).toHaveLength(3);
  });

  it('returns nothing for blank queries', async () => {
    for (const query of ['', '   ', '\n\t', '\u0000']) {
      expect(await store.searchMessages({ query })).toEqual([]);
    }
  });

  it('walks the index newest-first instead of sorting all matches', () => {
    const sqlite = new SQLite(store.file, { readonly: true });
    const plan = (sqlite
      .prepare(
        `EXPLAIN QUERY PLAN SELECT m.id FROM messages_fts
         CROSS JOIN messages AS m ON m.id = messages_fts.rowid
         CROSS JOIN sessions AS s ON s.id = m.session_id
         WHERE messages_fts MATCH ? AND s.workspace_id = ? ORDER BY messages_fts.rowid DESC LIMIT 20`,
      )
      .all('"parser"', 1) as Array<{ detail: string }>).map((row) => row.detail);
    sqlite.close();
    expect(plan[0]).toMatch(/VIRTUAL TABLE INDEX/);
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
  });
});

describe('toMatchExpression', () => {
  it('quotes every term and keeps prefixes', () => {
    expect(toMatchExpression(' foo  bar ')).toBe('"foo" "bar"');
    expect(toMatchExpression('say "hi"')).toBe('"say" """hi"""');
    expect(toMatchExpression('pars* (*')).toBe('"pars"* "(*"');
    expect(toMatchExpression('a\u0000b')).toBe('"a" "b"');
    expect(toMatchExpression(' \t')).toBeUndefined();
  });
});
