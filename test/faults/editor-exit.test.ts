import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../e2e/harness.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { exitOf, faultWorkspace, runStatuses, spawnServer, TEST_KEYS, TestClient, type Workspace } from './fault-harness.js';
import { Commands } from '../../server/src/protocol/methods.js';

/**
 * The editor goes away without `shutdown`: stdin closes, or the editor process dies while the
 * pipe stays open (the server's `processId` from initialize is dead). The server must exit within
 * 2 s and no run may stay `running` in the store.
 */

const SLOW = { text: Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '), chunkDelayMs: 100 };

/**
 * Whether the process is still running. A process that exited but was not yet reaped (a zombie,
 * state Z) has exited: its reaping depends on whoever adopted it (here PID 1), not on the server.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

describe('the editor exits without shutdown', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = await faultWorkspace(fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  async function startSlowRun(client: TestClient): Promise<string> {
    const requestsBefore = fake.modelRequests.length;
    fake.enqueue(SLOW);
    const { runId } = await client.command(Commands.ask.command, { uri: workspace.uri('main.py'), instruction: 'talk slowly', provider: 'openai' });
    expect(await until(() => fake.modelRequests.length > requestsBefore, 10_000)).toBe(true);
    return runId;
  }

  it('lsp, stdin closed mid-run: exits within 2 s and the run is not left running', async () => {
    const client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    const runId = await startSlowRun(client);
    const closedAt = Date.now();
    client.child.stdin!.end();
    const code = await exitOf(client.child, 5000);
    expect(code, client.stderr).toBeDefined();
    expect(Date.now() - closedAt).toBeLessThan(2000);
    expect(['interrupted', 'cancelled']).toContain(runStatuses(workspace).get(runId));
  });

  it('lsp, editor process killed (pipe still open): exits within 2 s and the run is not left running', async () => {
    // The "editor" spawns the server with its own stdio, reports the server's pid, and then waits to be killed.
    const editor = `
      const { spawn } = require('node:child_process');
      const server = spawn(process.execPath, [${JSON.stringify(BIN)}, 'lsp'], { stdio: 'inherit' });
      process.stderr.write('SERVER_PID ' + server.pid + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', editor], {
      cwd: workspace.root,
      env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...TEST_KEYS },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const client = new TestClient(child, { profile: 'neovim', workspace });
    expect(await until(() => /SERVER_PID (\d+)/.test(client.stderr), 10_000)).toBe(true);
    const serverPid = Number(/SERVER_PID (\d+)/.exec(client.stderr)![1]);
    // TestClient.initialize sends this test's pid; an editor sends its own, which is what dies here.
    await client.connection.sendRequest('initialize', { processId: child.pid, rootUri: null, workspaceFolders: [{ uri: workspace.uri(''), name: 'p' }], capabilities: {} });
    await client.connection.sendNotification('initialized', {});
    await client.open(workspace.uri('main.py'), 'print(1)\n', 'python');
    const runId = await startSlowRun(client);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    const exited = await until(() => !alive(serverPid), 5000);
    const elapsed = Date.now() - killedAt;
    if (!exited) process.kill(serverPid, 'SIGKILL');
    expect(exited, client.stderr).toBe(true);
    expect(elapsed).toBeLessThan(2000);
    expect(['interrupted', 'cancelled']).toContain(runStatuses(workspace).get(runId));
    client.connection.dispose();
  });

  it('acp, stdin closed mid-prompt: exits within 2 s and the run is not left running', async () => {
    const child = spawnServer(workspace, 'acp');
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const send = (message: unknown) => child.stdin!.write(`${JSON.stringify(message)}\n`);
    const response = async (id: number) => {
      const pattern = new RegExp(`"id":${id}[,}]`);
      expect(await until(() => stdout.split('\n').some((line) => pattern.test(line)), 10_000), stderr).toBe(true);
      return JSON.parse(stdout.split('\n').find((line) => pattern.test(line))!);
    };
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false } } });
    await response(1);
    send({ jsonrpc: '2.0', id: 2, method: 'session/new', params: { cwd: workspace.root, mcpServers: [] } });
    const { result } = await response(2);
    const requestsBefore = fake.modelRequests.length;
    fake.enqueue(SLOW);
    send({ jsonrpc: '2.0', id: 3, method: 'session/prompt', params: { sessionId: result.sessionId, prompt: [{ type: 'text', text: 'talk slowly' }] } });
    expect(await until(() => fake.modelRequests.length > requestsBefore, 10_000), stderr).toBe(true);
    const closedAt = Date.now();
    child.stdin!.end();
    const code = await exitOf(child, 5000);
    if (code === undefined) child.kill('SIGKILL');
    expect(code, stderr).toBeDefined();
    expect(Date.now() - closedAt).toBeLessThan(2000);
    expect([...runStatuses(workspace).values()]).not.toContain('running');
  });
});
