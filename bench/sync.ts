import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../server/src/store/store.js';
import { TeamSync } from '../server/src/sync/team-sync.js';
import { startPostgres } from '../test/sync/postgres-cluster.js';
import { median, percentile, result, timeMsAsync, type Result } from './stats.js';

const IDENTITY = 'github.com/acme/bench';
const noKeychain = { get: async () => undefined };

/**
 * Team sync at scale (issue 17), against a real PostgreSQL cluster started here: push of `total`
 * messages from one data directory, pull of the same into a second, and what sync costs an ask's
 * own writes (the outbox triggers) with sync configured vs without.
 */
export async function syncBenchmarks(total: number): Promise<Result[]> {
  const cluster = await startPostgres();
  const directory = mkdtempSync(join(tmpdir(), 'codebench-bench-sync-'));
  try {
    await cluster.createMember('alice', 'alice-pw');
    await cluster.createMember('bob', 'bob-pw');
    const config = (role: string) => ({ url: `postgres://${role}@127.0.0.1:${cluster.port}/codebench?sslmode=disable`, passwordEnv: 'PW', share: ['github.com/acme/*'], intervalSeconds: 30 });

    const alice = await Store.open(join(directory, 'alice.db'));
    const uri = 'file:///bench/api';
    await alice.ensureWorkspace(uri);
    alice.sync.shareWorkspace(uri, IDENTITY);
    const perSession = 500;
    for (let index = 0; index < total; index += perSession) {
      const session = await alice.createSession({ workspaceUri: uri, title: `session ${index / perSession}`, provider: 'bench' });
      for (let m = 0; m < perSession && index + m < total; m++) {
        await alice.addMessage({ sessionId: session.id, role: m % 2 ? 'assistant' : 'user', content: `message ${index + m}: ${'the agent reads files and proposes a change. '.repeat(6)}` });
      }
    }
    const aliceSync = new TeamSync({ tables: alice.sync, config: config('alice'), env: { PW: 'alice-pw' }, keychain: noKeychain });
    const [pushed, pushMs] = await timeMsAsync(() => aliceSync.syncNow());
    if (pushed.error) throw new Error(`push failed: ${pushed.error}`);
    await aliceSync.stop();

    // Sizing for docs/team-sync.md: what one message costs the server, table and indexes together.
    const size = await cluster.query<{ bytes: string; rows: string; indexes: string }>(
      "SELECT pg_total_relation_size('codebench.messages') AS bytes, pg_indexes_size('codebench.messages') AS indexes, (SELECT count(*) FROM codebench.messages) AS rows",
    );
    const bytesPerMessage = Number(size.rows[0]!.bytes) / Number(size.rows[0]!.rows);
    const indexBytesPerMessage = Number(size.rows[0]!.indexes) / Number(size.rows[0]!.rows);
    const bob = await Store.open(join(directory, 'bob.db'));
    const bobSync = new TeamSync({ tables: bob.sync, config: config('bob'), env: { PW: 'bob-pw' }, keychain: noKeychain });
    const [pulled, pullMs] = await timeMsAsync(() => bobSync.syncNow());
    if (pulled.error) throw new Error(`pull failed: ${pulled.error}`);
    const pulledMessages = bob.sync.teamRecordCounts().messages;
    await bobSync.stop();

    // The writes of one ask (session, run, user + assistant message, proposal, run end), timed in a
    // workspace that is shared (triggers queue each row) and one that is not.
    const askWrites = async (workspaceUri: string) => {
      const samples: number[] = [];
      for (let index = 0; index < 300; index++) {
        const [, ms] = await timeMsAsync(async () => {
          const session = await alice.createSession({ workspaceUri, title: 'ask', provider: 'bench' });
          const run = await alice.createRun({ sessionId: session.id, provider: 'bench', model: 'm', instruction: 'fix it' });
          await alice.addMessage({ sessionId: session.id, runId: run.id, role: 'user', content: 'fix it' });
          await alice.addMessage({ sessionId: session.id, runId: run.id, role: 'assistant', content: 'done '.repeat(100) });
          await alice.createProposal({ runId: run.id, sessionId: session.id, summary: 's', files: [], diff: '--- a\n+++ b\n' });
          await alice.finishRun(run.id, { status: 'completed', inputTokens: 1, outputTokens: 1 });
        });
        samples.push(ms);
      }
      return samples;
    };
    const local = await askWrites('file:///bench/private');
    const shared = await askWrites(uri);
    const localP50 = median(local);
    const sharedP50 = median(shared);
    await alice.close();
    await bob.close();

    return [
      result(`sync: push ${total.toLocaleString('en')} messages`, Math.round(total / (pushMs / 1000)), 'messages/s', undefined, { note: `${(pushMs / 1000).toFixed(1)} s, ${pushed.pushed} outbox rows` }),
      result(`sync: pull ${pulledMessages.toLocaleString('en')} messages into a second data directory`, Math.round(pulledMessages / (pullMs / 1000)), 'messages/s', undefined, { note: `${(pullMs / 1000).toFixed(1)} s` }),
      result('sync: server bytes per message (table + indexes)', Math.round(bytesPerMessage), 'bytes', undefined, { note: `indexes ${Math.round(indexBytesPerMessage)} bytes; content ≈ 285 characters each` }),
      result("sync: an ask's writes, workspace not shared (p50)", localP50, 'ms', undefined, { note: `p95 ${percentile(local, 95).toFixed(2)} ms` }),
      result("sync: an ask's writes, workspace shared (p50)", sharedP50, 'ms', { max: localP50 * 1.25 + 0.1, label: '≤ not shared + 25 %' }, { note: `p95 ${percentile(shared, 95).toFixed(2)} ms; the network is never on this path` }),
    ];
  } finally {
    await cluster.destroy();
    rmSync(directory, { recursive: true, force: true });
  }
}
