import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { faultWorkspace, openDatabase, prng, SOURCE, TestClient, type Workspace } from './fault-harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

/**
 * `kill -9` of the server mid-run, many times over one data directory: the database stays intact,
 * everything the client saw acknowledged is there, and the next start marks the runs interrupted.
 */

const ITERATIONS = 50;
const SLOW = { text: Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '), chunkDelayMs: 20 };

describe('kill -9 in the middle of runs', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = await faultWorkspace(fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  it(`${ITERATIONS} kills: integrity ok, acknowledged messages kept, runs marked interrupted`, async () => {
    const random = prng(0x6b696c6c);
    const acknowledged: Array<{ runId: string; sessionId: string; instruction: string }> = [];
    let sessionId: string | undefined;
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      fake.reset();
      fake.enqueue(SLOW, SLOW);
      const client = TestClient.start({ profile: 'neovim', workspace });
      await client.initialize();
      await client.open(workspace.uri('main.py'), SOURCE, 'python');
      // Half the asks continue one session, so kills also land between writes to the same rows.
      const instruction = `iteration ${iteration}`;
      const continueSession = sessionId !== undefined && random() < 0.5;
      const ask = client.command(Commands.ask.command, { uri: workspace.uri('main.py'), instruction, provider: 'openai', ...(continueSession ? { sessionId } : {}) });
      ask.then(
        (started: { runId: string; sessionId: string }) => {
          acknowledged.push({ ...started, instruction });
          sessionId ??= started.sessionId;
        },
        () => undefined,
      );
      // Sometimes while the ask is being set up, mostly while the model streams after it was answered.
      if (random() < 0.2) await new Promise((resolve) => setTimeout(resolve, random() * 60));
      else {
        await ask.catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, random() * 100));
      }
      client.child.kill('SIGKILL');
      await new Promise((resolve) => (client.child.exitCode !== null || client.child.signalCode !== null ? resolve(null) : client.child.once('exit', resolve)));
      client.connection.dispose();
    }
    expect(acknowledged.length).toBeGreaterThan(ITERATIONS / 2);

    const db = openDatabase(workspace, false);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      const userMessage = db.prepare("SELECT content FROM messages WHERE run_id = ? AND role = 'user'").pluck();
      for (const { runId, instruction } of acknowledged) expect(userMessage.all(runId)).toEqual([instruction]);
      // The counters kept on the session rows agree with the rows themselves.
      const drift = db
        .prepare('SELECT s.id FROM sessions s WHERE s.message_count != (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id)')
        .all();
      expect(drift).toEqual([]);
    } finally {
      db.close();
    }

    // The next start recovers: nothing stays 'running'.
    const client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    await client.request(Requests.sessions.method, {});
    const check = openDatabase(workspace);
    try {
      const statuses = check.prepare('SELECT status, COUNT(*) AS n FROM runs GROUP BY status').all() as Array<{ status: string; n: number }>;
      expect(statuses.find((row) => row.status === 'running')).toBeUndefined();
      const status = check.prepare('SELECT status FROM runs WHERE id = ?').pluck();
      for (const { runId } of acknowledged) expect(['interrupted', 'completed', 'failed']).toContain(status.get(runId));
      expect(acknowledged.filter(({ runId }) => status.get(runId) === 'interrupted').length).toBeGreaterThan(ITERATIONS / 3);
    } finally {
      check.close();
    }
    // And it serves: a normal ask works on the recovered database.
    fake.reset();
    fake.enqueue({ text: 'recovered' });
    const result = await client.request(Requests.ask.method, { uri: workspace.uri('main.py'), instruction: 'after the crashes', provider: 'openai' });
    expect(result).toMatchObject({ status: 'completed', text: 'recovered' });
    expect(await client.stop()).toBe(0);
  }, 180_000);
});
