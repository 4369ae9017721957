import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { isResponseError, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

const SOURCE = 'export function add(a: number, b: number) {\n  return a + b;\n}\n';
// A line that keeps `^(a+)+$` backtracking for years on V8; 28 characters already take 10 s.
const EVIL = `${Array.from({ length: 30 }, (_, index) => `row ${index}`).join('\n')}\n${'a'.repeat(45)}!\nrow end\n`;

/** CPU seconds (user + system, all threads) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function cpuOver(pid: number, ms: number): Promise<number> {
  const before = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return cpuSeconds(pid) - before;
}

/**
 * The server must keep answering while a model's grep pattern backtracks catastrophically, and
 * `codebench.cancel` must end the search itself, not just the run around it. Timings here are
 * generous bounds (targets live in bench): a frozen event loop would never answer at all.
 */
describe('availability of the real server', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let uri: string;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/math.ts': SOURCE, 'data/evil.txt': EVIL, 'data/ok.txt': 'needle here\n' });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    uri = workspace.uri('src/math.ts');
    await client.open(uri, SOURCE);
  });

  afterAll(async () => {
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  const codeActions = () =>
    client.request<any[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 1, character: 2 }, end: { line: 1, character: 8 } },
      context: { diagnostics: [] },
    });

  it('answers code actions promptly while a catastrophic grep runs, and cancel stops the search', async () => {
    fake.enqueue({ toolCalls: [{ name: 'grep', args: { pattern: '^(a+)+$', path: 'data' } }] }, { text: 'never reached' });
    await client.command(Commands.ask.command, { uri, instruction: 'find the runs of a', provider: 'ollama' });
    await client.waitFor(() => client.progress.some((record) => record.value.message === 'searching data'), 10_000, 'the grep to start');

    const timings: number[] = [];
    for (let index = 0; index < 10; index++) {
      const started = Date.now();
      const actions = await codeActions();
      timings.push(Date.now() - started);
      expect(actions.length).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(Math.max(...timings), `code action timings ${timings.join(', ')} ms`).toBeLessThan(1000);

    const pid = client.child.pid!;
    const measurable = existsSync(`/proc/${pid}/stat`);
    // The search was still running while those answers came (well inside its 10 s budget): the
    // grep result never went back to the model and the run has not ended. (Not measured as CPU
    // time: on a loaded machine the worker's share of a core says nothing.)
    expect(fake.modelRequests).toHaveLength(1);
    expect(client.progress.some((record) => record.value.kind === 'end')).toBe(false);

    const cancelStarted = Date.now();
    const { cancelled } = await client.command(Commands.cancel.command, {});
    expect(Date.now() - cancelStarted).toBeLessThan(1000);
    expect(cancelled).toHaveLength(1);
    const end = await client.waitFor(() => client.progress.find((record) => record.value.kind === 'end' && record.value.message === 'cancelled'), 5000, 'the run to end');
    expect(end).toBeDefined();
    // The worker was terminated, not left burning a core behind a cancelled run.
    if (measurable) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await cpuOver(pid, 1000)).toBeLessThan(0.3);
    }
    // Only the grep call reached the model: nothing after the cancel asked it again.
    expect(fake.pending()).toBe(1);
    fake.reset();
  });

  it('searches normally in a fresh worker after the cancelled one', async () => {
    fake.enqueue({ toolCalls: [{ name: 'grep', args: { pattern: 'needle', path: 'data' } }] }, { text: 'Found it.' });
    const first = fake.modelRequests.length;
    const { runId } = await client.command(Commands.ask.command, { uri, instruction: 'find the needle', provider: 'ollama' });
    expect(runId).toBeTruthy();
    await client.waitFor(() => fake.modelRequests.length === first + 2 || undefined, 10_000, 'the second model call');
    expect(JSON.stringify(fake.modelRequests[first + 1]!.body.messages)).toContain('data/ok.txt:1: needle here');
  });

  it('rejects a second initialize and keeps the first one in force', async () => {
    // A process that has exited: had the second initialize been taken, the server would watch
    // this pid and exit within a second, as it does when the editor dies.
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
    const error = await client
      .request('initialize', { processId: deadPid, rootUri: null, capabilities: { general: { positionEncodings: ['utf-32'] } } })
      .then(() => undefined, (failure: unknown) => failure);
    expect(isResponseError(error)).toBe(true);
    expect((error as any).code).toBe(-32600);
    expect((error as any).message).toContain('initialize may only be sent once');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(client.child.exitCode).toBeNull();
    // Still serving, in the position encoding negotiated by the first initialize.
    expect((await codeActions()).length).toBeGreaterThan(0);
    const health = await client.request(Requests.health.method, {});
    expect(health.positionEncoding).toBe('utf-8');
  });
});
