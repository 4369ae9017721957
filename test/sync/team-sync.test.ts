import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';
import { BIN, runCodebench, type CliResult } from '../cli/terminal.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { startPostgres, type PostgresCluster } from './postgres-cluster.js';

// Issue 17 end to end: two members' codebench data directories against a real PostgreSQL that
// this file starts, through the built CLI (ask, sync now, sync status, history list --team).

const IDENTITY = 'github.com/acme/api';
const FAKE_KEY = 'sk-proj-Zx81TESTKEYqwertyuiop0123456789abcdEF';

interface Member {
  name: string;
  password: string;
  root: string;
  workspace: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], options?: { timeoutMs?: number }): Promise<CliResult>;
  withStore<T>(use: (store: Store) => Promise<T> | T): Promise<T>;
}

let cluster: PostgresCluster;
let fake: FakeModelServer;
const members: Member[] = [];

function member(name: string, password: string, sync: Record<string, unknown> = {}): Member {
  const root = mkdtempSync(join(tmpdir(), `codebench-sync-${name}-`));
  const workspace = join(root, 'api');
  execFileSync('git', ['init', '-q', workspace]);
  // A token in the remote must never become part of the team identity.
  execFileSync('git', ['-C', workspace, 'remote', 'add', 'origin', 'https://x-access-token:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/Acme/api.git']);
  writeFileSync(join(workspace, 'app.py'), 'print("hi")\n');
  const dataDir = join(root, 'data');
  const configFile = join(root, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      defaultProvider: 'ollama',
      providers: { ollama: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url, timeoutSeconds: 10 } },
      sync: { url: `postgres://${name}@127.0.0.1:${cluster.port}/codebench?sslmode=disable`, passwordEnv: 'TEAM_PASSWORD', share: ['github.com/acme/*'], ...sync },
    }),
  );
  const env = { PATH: process.env.PATH, HOME: root, CODEBENCH_CONFIG: configFile, CODEBENCH_DATA_DIR: dataDir, NO_COLOR: '1', TEAM_PASSWORD: password };
  const created: Member = {
    name, password, root, workspace, dataDir, env,
    run: (args, options) => runCodebench(args, { cwd: workspace, env, timeoutMs: options?.timeoutMs ?? 30_000 }),
    async withStore(use) {
      const store = await Store.open(join(dataDir, 'codebench.db'));
      try {
        return await use(store);
      } finally {
        await store.close();
      }
    },
  };
  members.push(created);
  return created;
}

async function ask(who: Member, instruction: string, answer: string): Promise<void> {
  fake.enqueue({ text: answer });
  const result = await who.run(['ask', '--yes', instruction]);
  expect(result.stderr + result.stdout).not.toMatch(/Error:\s+at /);
  expect(result.code).toBe(0);
}

async function syncNow(who: Member): Promise<CliResult> {
  const result = await who.run(['sync', 'now'], { timeoutMs: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result;
}

async function status(who: Member): Promise<{ reachable: boolean; waiting: number; lastPushAt?: string; error?: string }> {
  const result = await who.run(['sync', 'status', '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

/** Local own records of a member, by table, as the server knows them (message uid as id). */
async function localIds(who: Member): Promise<Record<string, string[]>> {
  const sqlite = (await import('better-sqlite3')).default;
  const db = new sqlite(join(who.dataDir, 'codebench.db'), { readonly: true });
  try {
    const ids = (query: string) => (db.prepare(query).pluck().all() as string[]).sort();
    return { sessions: ids('SELECT id FROM sessions'), runs: ids('SELECT id FROM runs'), messages: ids('SELECT uid FROM messages'), proposals: ids('SELECT id FROM proposals') };
  } finally {
    db.close();
  }
}

/** The outbox's size, read beside the CLI through a second connection (WAL: never blocks it). */
function outboxSize(who: Member): number {
  const db = new SQLite(join(who.dataDir, 'codebench.db'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM sync_outbox').pluck().get() as number;
  } finally {
    db.close();
  }
}

async function serverIds(author: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of ['sessions', 'runs', 'messages', 'proposals']) {
    const result = await cluster.query<{ id: string }>(`SELECT id::text FROM codebench.${table} WHERE author = $1 AND ${table === 'sessions' ? 'deleted_at IS NULL' : 'true'} ORDER BY id`, [author]);
    out[table] = result.rows.map((row) => row.id).sort();
  }
  return out;
}

beforeAll(async () => {
  [cluster, fake] = await Promise.all([startPostgres(), startFakeModelServer()]);
  await cluster.createMember('alice', 'alice-pw');
  await cluster.createMember('bob', 'bob-pw');
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
  await fake?.close();
  for (const created of members) rmSync(created.root, { recursive: true, force: true });
});

describe('team history on PostgreSQL', () => {
  let alice: Member;
  let bob: Member;

  beforeAll(() => {
    alice = member('alice', 'alice-pw');
    bob = member('bob', 'bob-pw');
  });

  it("Alice asks and syncs; Bob syncs and sees her session under her name, read-only and apart from his own", async () => {
    await ask(alice, 'explain app.py', 'It prints hi.');
    const pushed = await syncNow(alice);
    expect(pushed.stdout).toMatch(/^pushed [1-9]\d*, pulled 0\n$/);
    expect(await serverIds('alice')).toEqual(await localIds(alice));
    const workspaces = await cluster.query<{ workspace: string }>('SELECT DISTINCT workspace FROM codebench.sessions');
    expect(workspaces.rows.map((row) => row.workspace)).toEqual([IDENTITY]);

    const pulled = await syncNow(bob);
    expect(pulled.stdout).toMatch(/^pushed 0, pulled [1-9]\d*\n$/);
    const team = await bob.run(['history', 'list', '--team', '--json']);
    const sessions = JSON.parse(team.stdout) as Array<{ author: string; title: string; workspace: string }>;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ author: 'alice', title: 'explain app.py', workspace: IDENTITY });
    const table = await bob.run(['history', 'list', '--team']);
    expect(table.stdout).toMatch(/alice\s+.*explain app\.py/);
    // Bob's own history is untouched by the pull.
    const own = await bob.run(['history', 'list', '--json']);
    expect(JSON.parse(own.stdout)).toEqual([]);
  });

  it("continuing Alice's session gives Bob a session of his own that starts from her turns and links to hers", async () => {
    const [hers] = JSON.parse((await bob.run(['history', 'list', '--team', '--json'])).stdout) as Array<{ id: string }>;
    fake.enqueue({ text: 'Yes, it still prints hi.' });
    const result = await bob.run(['ask', '--yes', '--session', hers!.id.slice(0, 8), 'does it still print hi?']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`alice's session "explain app.py" is read-only here`);
    // The model saw her turn before his question.
    const prompt = JSON.stringify(fake.modelRequests.at(-1)!.body);
    expect(prompt).toContain('explain app.py');
    expect(prompt).toContain('It prints hi.');
    const [his] = await bob.withStore((store) => store.listSessions({}));
    expect(his).toMatchObject({ title: 'does it still print hi?', continuesSessionId: hers!.id });
    // Her copy is untouched, and his session goes to the server as his, linked to hers.
    expect(await bob.withStore((store) => store.sync.teamMessages(hers!.id).length)).toBe(2);
    await syncNow(bob);
    const linked = await cluster.query<{ author: string; continues_session_id: string }>('SELECT author, continues_session_id::text FROM codebench.sessions WHERE id = $1', [his!.id]);
    expect(linked.rows).toEqual([{ author: 'bob', continues_session_id: hers!.id }]);
  });

  it('keeps working while the server is down, shows what waits, and drains every record exactly once when it is back', async () => {
    await cluster.stop();
    try {
      await ask(alice, 'first while down', 'answer one');
      await ask(alice, 'second while down', 'answer two');
      const down = await status(alice);
      expect(down.reachable).toBe(false);
      expect(down.waiting).toBeGreaterThanOrEqual(6);
      expect(down.error).toMatch(/^nothing listens on 127\.0\.0\.1:\d+|refused/);
      expect(down.error).not.toContain('\n');
      const failed = await alice.run(['sync', 'now']);
      expect(failed.code).toBe(1);
      expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await cluster.start();
    }
    await syncNow(alice);
    expect((await status(alice)).waiting).toBe(0);
    expect(await serverIds('alice')).toEqual(await localIds(alice));
    const duplicates = await cluster.query('SELECT id FROM codebench.messages GROUP BY id HAVING count(*) > 1');
    expect(duplicates.rowCount).toBe(0);
  });

  it('never uploads a secret written in a message', async () => {
    await ask(alice, `why does ${FAKE_KEY} not work`, `The key ${FAKE_KEY} was revoked.`);
    await alice.withStore(async (store) => {
      const [session] = await store.listSessions({});
      await store.addMessage({ sessionId: session!.id, role: 'assistant', content: `raw note with ${FAKE_KEY} and postgres://u:hunter2secret@db/x` });
    });
    await syncNow(alice);
    const dump = cluster.dump();
    expect(dump).toContain('[redacted:');
    expect(dump).not.toContain(FAKE_KEY);
    expect(dump).not.toContain('Zx81TESTKEY');
    expect(dump).not.toContain('hunter2secret');
    expect(dump).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
  });

  it('survives SIGKILL in the middle of a push, again and again: nothing lost, nothing duplicated', async () => {
    await alice.withStore(async (store) => {
      const uri = pathToFileURL(alice.workspace).href;
      for (let s = 0; s < 8; s++) {
        const session = await store.createSession({ workspaceUri: uri, title: `bulk ${s}`, provider: 'ollama' });
        for (let m = 0; m < 1500; m++) await store.addMessage({ sessionId: session.id, role: m % 2 ? 'assistant' : 'user', content: `bulk message ${s}.${m} ${'x'.repeat(200)}` });
      }
    });
    expect((await status(alice)).waiting).toBeGreaterThan(12_000);
    let killedMidway = 0;
    const waiting = () => outboxSize(alice);
    for (let attempt = 0; attempt < 6; attempt++) {
      const before = waiting();
      if (before === 0) break;
      const child = spawn(process.execPath, [BIN, 'sync', 'now'], { cwd: alice.workspace, env: alice.env, stdio: 'ignore' });
      // Listening from the start: a round that ends before the kill must not leave us waiting.
      let done = false;
      const exited = new Promise((resolve) => child.once('exit', resolve)).then(() => (done = true));
      // Killed the moment the server has committed a batch (the queue shrank), a few ms later on
      // later attempts: always in the middle of a push, however slow the machine is.
      const deadline = Date.now() + 60_000;
      while (!done && waiting() >= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, attempt * 40));
      child.kill('SIGKILL');
      await exited;
      const after = waiting();
      if (after > 0 && after < before) killedMidway += 1;
    }
    // At least one kill landed between batches: some were acknowledged, some still waited.
    expect(killedMidway).toBeGreaterThan(0);
    await syncNow(alice);
    expect((await status(alice)).waiting).toBe(0);
    expect(await serverIds('alice')).toEqual(await localIds(alice));
  }, 180_000);

  it("deleting a session deletes it on the server and from teammates' copies", async () => {
    const target = (await alice.withStore((store) => store.listSessions({})))[0]!;
    await syncNow(bob);
    expect((JSON.parse((await bob.run(['history', 'list', '--team', '--json'])).stdout) as Array<{ id: string }>).map((s) => s.id)).toContain(target.id);
    const deleted = await alice.run(['history', 'delete', '--yes', target.id]);
    expect(deleted.code).toBe(0);
    await syncNow(alice);
    const rows = await cluster.query('SELECT count(*)::int AS n FROM codebench.messages WHERE session_id = $1', [target.id]);
    expect(rows.rows[0].n).toBe(0);
    await syncNow(bob);
    expect((JSON.parse((await bob.run(['history', 'list', '--team', '--json'])).stdout) as Array<{ id: string }>).map((s) => s.id)).not.toContain(target.id);
  });

  it('refuses to sync with a server whose schema is newer, saying to upgrade', async () => {
    await cluster.query("INSERT INTO codebench.schema_migrations (name) VALUES ('9999_from_the_future')");
    try {
      const result = await alice.run(['sync', 'now']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/newer.*upgrade codebench/i);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await cluster.query("DELETE FROM codebench.schema_migrations WHERE name = '9999_from_the_future'");
    }
  });
});

describe('a team server that cannot be used', () => {
  it('says so in one line for a wrong password, TLS that is not offered, and an unknown role; local work goes on', async () => {
    const cases: Array<{ who: Member; expected: RegExp }> = [
      { who: member('alice', 'not-her-password'), expected: /password/i },
      { who: member('alice', 'alice-pw', { url: `postgres://alice@127.0.0.1:${cluster.port}/codebench?sslmode=require` }), expected: /TLS|SSL/ },
      { who: member('mallory', 'whatever'), expected: /mallory/ },
    ];
    for (const { who, expected } of cases) {
      const reported = await status(who);
      expect(reported.reachable).toBe(false);
      expect(reported.error).toMatch(expected);
      expect(reported.error).not.toContain('\n');
      expect(reported.error).not.toContain(who.password);
      await ask(who, 'explain app.py', 'It prints hi.');
      expect((await who.run(['history', 'list', '--json'])).stdout).toContain('explain app.py');
    }
  });

  it('names the key and the file for a URL that is not a postgres URL', async () => {
    const who = member('carol', 'pw', { url: 'mysql://carol@127.0.0.1/codebench' });
    const result = await who.run(['sync', 'status']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('sync.url');
    expect(result.stderr).toContain('config.json');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
