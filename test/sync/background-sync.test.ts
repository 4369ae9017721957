import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Requests } from '../../server/src/protocol/methods.js';
import { runCodebench } from '../cli/terminal.js';
import { eventually, makeWorkspace, TestClient, writeConfig, type Workspace } from '../e2e/harness.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { startPostgres, type PostgresCluster } from './postgres-cluster.js';

// The editor server syncs on its own (no command, no popup), and `codebench doctor` reports the
// team server in one line. A real PostgreSQL, the built server spawned over stdio.

let cluster: PostgresCluster;
let fake: FakeModelServer;

beforeAll(async () => {
  [cluster, fake] = await Promise.all([startPostgres(), startFakeModelServer()]);
  await cluster.createMember('alice', 'alice-pw');
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
  await fake?.close();
});

function teamWorkspace(password: string): { workspace: Workspace; env: Record<string, string> } {
  const workspace = makeWorkspace({ 'main.py': 'print("hello")\n' });
  execFileSync('git', ['init', '-q', workspace.root]);
  execFileSync('git', ['-C', workspace.root, 'remote', 'add', 'origin', 'git@github.com:acme/api.git']);
  writeConfig(workspace, fake, { sync: { url: `postgres://alice@127.0.0.1:${cluster.port}/codebench?sslmode=disable`, passwordEnv: 'TEAM_PASSWORD', share: ['github.com/acme/*'], intervalSeconds: 5 } });
  return { workspace, env: { TEAM_PASSWORD: password } };
}

describe('background sync in the editor server', () => {
  it('pushes an ask made in the editor without being asked, and the request never waited for it', async () => {
    const { workspace, env } = teamWorkspace('alice-pw');
    const client = TestClient.start({ profile: 'neovim', workspace, env });
    try {
      await client.initialize();
      fake.enqueue({ text: 'It prints hello.' });
      const finished = await client.request<{ status: string; sessionId: string }>(Requests.ask.method, { uri: workspace.uri('main.py'), instruction: 'what does main.py print?', provider: 'ollama' });
      expect(finished.status).toBe('completed');
      const rows = await eventually(async () => {
        const result = await cluster.query<{ author: string; title: string }>('SELECT author, title FROM codebench.sessions WHERE id = $1', [finished.sessionId]);
        if (result.rowCount === 0) throw new Error('not pushed yet');
        return result.rows;
      }, 20_000);
      expect(rows).toEqual([{ author: 'alice', title: 'what does main.py print?' }]);
      const messages = await cluster.query('SELECT role FROM codebench.messages WHERE session_id = $1 ORDER BY created_at', [finished.sessionId]);
      expect(messages.rows.map((row) => row.role)).toEqual(['user', 'assistant']);
    } finally {
      expect(await client.stop()).toBe(0);
    }
  }, 60_000);

  it('keeps the editor quiet when the password is wrong: no popup, the ask works, status says why', async () => {
    const { workspace, env } = teamWorkspace('wrong');
    const client = TestClient.start({ profile: 'neovim', workspace, env });
    try {
      await client.initialize();
      fake.enqueue({ text: 'It prints hello.' });
      const finished = await client.request<{ status: string }>(Requests.ask.method, { uri: workspace.uri('main.py'), instruction: 'what does main.py print?', provider: 'ollama' });
      expect(finished.status).toBe('completed');
      // Give background sync time for its first round (1.5 s after the store opened).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(client.messages.filter((message) => /sync|password|postgres/i.test(message.message))).toEqual([]);
    } finally {
      expect(await client.stop()).toBe(0);
    }
    const status = await runCodebench(['sync', 'status', '--json'], { cwd: workspace.root, env: { PATH: process.env.PATH, HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...env } });
    const reported = JSON.parse(status.stdout) as { reachable: boolean; waiting: number; error: string };
    expect(reported.reachable).toBe(false);
    expect(reported.waiting).toBeGreaterThan(0);
    expect(reported.error).toMatch(/password/i);
  }, 60_000);
});

describe('codebench doctor', () => {
  const doctor = async (password: string) => {
    const { workspace, env } = teamWorkspace(password);
    const result = await runCodebench(['doctor', '--json'], { cwd: workspace.root, env: { PATH: process.env.PATH, HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...env }, timeoutMs: 60_000 });
    const checks = (JSON.parse(result.stdout) as { checks: Array<{ name: string; status: string; message: string; fix?: string }> }).checks;
    return checks.find((check) => check.name === 'team sync');
  };

  it('says the team server is reachable, as whom, and what is shared', async () => {
    const check = await doctor('alice-pw');
    expect(check).toMatchObject({ status: 'ok' });
    expect(check!.message).toContain('reachable as alice');
    expect(check!.message).toContain('github.com/acme/*');
  }, 60_000);

  it('gives one line for a wrong password, without the password, and stays a warning', async () => {
    const check = await doctor('hunter2-wrong');
    expect(check).toMatchObject({ status: 'warning' });
    expect(check!.message).toMatch(/password/i);
    expect(check!.message).not.toContain('hunter2-wrong');
    expect(check!.message).not.toContain('\n');
  }, 60_000);
});
