import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { openDatabase, faultWorkspace, SOURCE, TestClient, type Workspace } from './fault-harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

/** Two editors on one database at once, and WAL growth under many writes. */

const RUNS_PER_EDITOR = 8;

describe('two servers on the same database', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = await faultWorkspace(fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('concurrent runs from both: no SQLITE_BUSY anywhere, no lost writes', async () => {
    const editors = [TestClient.start({ profile: 'neovim', workspace }), TestClient.start({ profile: 'helix', workspace })];
    const logs: string[] = [];
    await Promise.all(
      editors.map(async (client) => {
        client.connection.onNotification('window/logMessage', (params: { message: string }) => void logs.push(params.message));
        await client.initialize();
        await client.open(workspace.uri('main.py'), SOURCE, 'python');
      }),
    );
    // Many small text chunks: each run writes its session, run, messages and counters while the other server does too.
    for (let i = 0; i < 2 * RUNS_PER_EDITOR; i++) fake.enqueue({ text: Array.from({ length: 20 }, (_, j) => `t${j}`).join(' '), chunkDelayMs: 2 });
    // One shared session, continued by both editors, plus a fresh session per run.
    const first = await editors[0]!.request(Requests.ask.method, { uri: workspace.uri('main.py'), instruction: 'shared start', provider: 'ollama' });
    const results = await Promise.all(
      editors.flatMap((client, editor) =>
        Array.from({ length: RUNS_PER_EDITOR }, (_, i) =>
          client.request(Requests.ask.method, {
            uri: workspace.uri('main.py'),
            instruction: `editor ${editor} run ${i}`,
            provider: 'ollama',
            ...(i % 2 === 0 ? { sessionId: first.sessionId } : {}),
          }),
        ),
      ),
    );
    for (const result of results) expect(result.status, result.summary).toBe('completed');
    const everything = [...logs, ...editors.flatMap((client) => [client.stderr, ...client.messages.map((m) => m.message)])].join('\n');
    expect(everything).not.toMatch(/SQLITE_BUSY|database is locked/i);

    const db = openDatabase(workspace);
    try {
      const roles = db.prepare('SELECT role FROM messages WHERE run_id = ? ORDER BY id').pluck();
      const status = db.prepare('SELECT status FROM runs WHERE id = ?').pluck();
      for (const result of [first, ...results]) {
        expect(roles.all(result.runId)).toEqual(['user', 'assistant']);
        expect(status.get(result.runId)).toBe('completed');
      }
      const count = db.prepare('SELECT message_count FROM sessions WHERE id = ?').pluck();
      expect(count.get(first.sessionId)).toBe(2 + RUNS_PER_EDITOR * 2);
      const drift = db.prepare('SELECT s.id FROM sessions s WHERE s.message_count != (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id)').all();
      expect(drift).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    for (const client of editors) expect(await client.stop()).toBe(0);
  }, 60_000);
});

describe('WAL growth', () => {
  it('stays under journal_size_limit plus one checkpoint after many writes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'codebench-wal-')), 'codebench.db');
    const store = await Store.open(file);
    // A second connection, as another editor window would have, reading between the writes.
    const reader = await Store.open(file);
    const probe = openDatabase({ dataDir: join(file, '..') } as Workspace);
    const limit = Number(probe.pragma('journal_size_limit', { simple: true }));
    const pageSize = Number(probe.pragma('page_size', { simple: true }));
    const autoCheckpointPages = Number(probe.pragma('wal_autocheckpoint', { simple: true }));
    probe.close();
    const bound = (limit > 0 ? limit : 16 * 1024 * 1024) + Math.max(autoCheckpointPages, 1000) * pageSize;
    const session = await store.createSession({ workspaceUri: 'file:///p', title: 'wal', provider: 'ollama' });
    const body = 'x'.repeat(6000);
    let maxWal = 0;
    const writes = 4000; // ≈ 24 MB of message text (plus FTS), well past the limit
    for (let i = 0; i < writes; i++) {
      await store.addMessage({ sessionId: session.id, role: i % 2 ? 'assistant' : 'user', content: `${i} ${body}` });
      if (i % 100 === 0) {
        await reader.listSessions({ limit: 5 });
        maxWal = Math.max(maxWal, statSync(`${file}-wal`).size);
      }
    }
    maxWal = Math.max(maxWal, statSync(`${file}-wal`).size);
    expect(maxWal).toBeLessThanOrEqual(bound);
    await reader.close();
    await store.close();
  }, 120_000);
});
