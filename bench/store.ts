import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../server/src/store/store.js';
import { median, percentile, result, timeMsAsync, type Result } from './stats.js';

const WORDS = 'the agent reads files edits code runs tests proposes changes review accept discard session history provider model stream token editor buffer cursor selection diagnostic workspace'.split(' ');

function message(seed: number): string {
  let text = '';
  let state = seed;
  while (text.length < 480) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    text += `${WORDS[state % WORDS.length]} `;
  }
  // One message in 100,000 carries a rare word, as a search for a specific past answer would.
  return seed % 100_000 === 7 ? `${text}zanzibarquux` : text;
}

/**
 * History at scale: `total` messages in sessions of 500, created through the store's own schema
 * (FTS triggers included), then the operations an editor waits on, timed through the Store API.
 */
export async function storeBenchmarks(total: number): Promise<Result[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'codebench-bench-')), 'codebench.db');
  let store = await Store.open(file);
  const workspace = 'file:///bench/project';
  const probe = await store.createSession({ workspaceUri: workspace, title: 'probe', provider: 'bench' });
  await store.close();

  const perSession = 500;
  const started = performance.now();
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const workspaceId = (raw.prepare('SELECT id FROM workspaces WHERE uri = ?').get(workspace) as { id: number }).id;
  const insertSession = raw.prepare(
    'INSERT INTO sessions (id, workspace_id, title, provider, created_at, updated_at, message_count, last_message_preview) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertMessage = raw.prepare('INSERT INTO messages (session_id, role, content, created_at) VALUES (?, ?, ?, ?)');
  const bulk = raw.transaction((from: number, to: number) => {
    for (let index = from; index < to; index++) {
      const sessionIndex = Math.floor(index / perSession);
      const sessionId = `bench-${sessionIndex}`;
      const at = new Date(1_700_000_000_000 + index * 1000).toISOString();
      if (index % perSession === 0) insertSession.run(sessionId, workspaceId, `session ${sessionIndex}`, 'bench', at, at, perSession, 'preview');
      insertMessage.run(sessionId, index % 2 === 0 ? 'user' : 'assistant', message(index), at);
    }
  });
  for (let from = 0; from < total; from += 20_000) bulk(from, Math.min(total, from + 20_000));
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.close();
  const loadSeconds = (performance.now() - started) / 1000;

  store = await Store.open(file);
  const appends: number[] = [];
  for (let index = 0; index < 300; index++) {
    const [, ms] = await timeMsAsync(() => store.addMessage({ sessionId: probe.id, role: 'user', content: message(index) }));
    appends.push(ms);
  }
  const recent: number[] = [];
  for (let index = 0; index < 200; index++) {
    const [, ms] = await timeMsAsync(() => store.recentMessages(`bench-${(index * 37) % Math.max(1, Math.floor(total / perSession))}`, 50));
    recent.push(ms);
  }
  const lists: number[] = [];
  for (let index = 0; index < 100; index++) {
    const [, ms] = await timeMsAsync(() => store.listSessions({ workspaceUri: workspace, limit: 50 }));
    lists.push(ms);
  }
  const common: number[] = [];
  const rare: number[] = [];
  for (let index = 0; index < 40; index++) {
    common.push((await timeMsAsync(() => store.searchMessages({ query: 'agent', limit: 20 })))[1]);
    rare.push((await timeMsAsync(() => store.searchMessages({ query: 'zanzibarquux', limit: 20 })))[1]);
  }
  await store.close();
  const worst = Math.max(...appends, ...recent, ...lists, ...common, ...rare);
  const label = `${(total / 1e6).toFixed(total >= 1e6 ? 0 : 2)}M messages`;
  return [
    result(`store, ${label}: append one message (p50)`, median(appends), 'ms', { max: 1 }, { note: `p99 ${percentile(appends, 99).toFixed(2)} ms; loaded in ${loadSeconds.toFixed(0)} s` }),
    result(`store, ${label}: last 50 of a session (p50)`, median(recent), 'ms', { max: 5 }),
    result(`store, ${label}: session list (p50)`, median(lists), 'ms', { max: 10 }),
    result(`store, ${label}: full-text top 20, term in every message (p95)`, percentile(common, 95), 'ms', { max: 50 }),
    result(`store, ${label}: full-text top 20, rare term (p95)`, percentile(rare, 95), 'ms', { max: 50 }),
    result(`store, ${label}: longest single query (event loop blocked)`, worst, 'ms', { max: 16 }),
  ];
}
