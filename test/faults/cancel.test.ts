import { readFileSync } from 'node:fs';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJsonLines } from '../../server/src/providers/subprocess.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { closingProxy, faultWorkspace, startClient, WIRES, type ClosingProxy, type TestClient, type Workspace } from './fault-harness.js';
import { isResponseError } from '../e2e/harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

/** Cancelling reaches the model: the HTTP stream closes, and CLI process groups die, at once. */

describe.each(WIRES)('$/cancelRequest on codebench/ask over %s', (wire) => {
  let fake: FakeModelServer;
  let proxy: ClosingProxy;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    proxy = await closingProxy(fake.url);
    workspace = await faultWorkspace(fake, { roots: { [wire]: proxy.url } });
    client = await startClient(workspace, 'neovim', true);
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await proxy.close();
    await fake.close();
  });

  it('answers RequestCancelled and closes the model stream within 100 ms', async () => {
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    fake.enqueue({ text: words, chunkDelayMs: 100 });
    const source = new CancellationTokenSource();
    const pending = client.connection.sendRequest(Requests.ask.method, { uri: workspace.uri('main.py'), instruction: 'talk slowly', provider: wire }, source.token);
    const outcome = pending.then(
      (value) => ({ value, error: undefined as unknown }),
      (error: unknown) => ({ value: undefined, error }),
    );
    await client.waitFor(() => client.runEvents.some((batch) => batch.events.some((event: any) => event.type === 'text')), 10_000, 'streamed text');
    const closesBefore = proxy.closes.length;
    const cancelledAt = performance.now();
    source.cancel();
    const { error } = await outcome;
    expect(isResponseError(error) && error.code).toBe(-32800);
    const deadline = Date.now() + 2000;
    while (proxy.closes.length === closesBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(proxy.closes.length).toBeGreaterThan(closesBefore);
    expect(proxy.closes[closesBefore]! - cancelledAt).toBeLessThan(100);
    expect(fake.modelRequests).toHaveLength(1);

    // Still serving, and the cancelled run's partial text is in history.
    fake.enqueue({ text: 'fine again' });
    const next = await client.request(Requests.ask.method, { uri: workspace.uri('main.py'), instruction: 'again', provider: wire });
    expect(next).toMatchObject({ status: 'completed', text: 'fine again' });
  });
});

/** True while the pid exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('runJsonLines cancellation (CLI datasources)', () => {
  it('SIGTERM then SIGKILL reaches a child that ignores SIGTERM and its grandchild within ~200 ms', async () => {
    // The child and its grandchild both ignore SIGTERM, as a CLI busy in a tool call might.
    const grandchild = `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`;
    const child = `
      const { spawn } = require('node:child_process');
      process.on('SIGTERM', () => {});
      const g = spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'ignore' });
      console.log(JSON.stringify({ child: process.pid, grandchild: g.pid }));
      setInterval(() => {}, 1000);`;
    const controller = new AbortController();
    let pids: { child: number; grandchild: number } | undefined;
    let cancelledAt = 0;
    const result = await runJsonLines({
      command: process.execPath,
      args: ['-e', child],
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '' },
      signal: controller.signal,
      onJson: (value) => {
        pids = value as typeof pids;
        // Give the grandchild a moment to install its handler, then cancel.
        setTimeout(() => {
          cancelledAt = performance.now();
          controller.abort();
        }, 100);
      },
    });
    const returnedAfter = performance.now() - cancelledAt;
    expect(result.cancelled).toBe(true);
    expect(pids).toBeDefined();
    expect(returnedAfter).toBeLessThan(400);
    const deadline = performance.now() + 300;
    while ((alive(pids!.child) || alive(pids!.grandchild)) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const goneAfter = performance.now() - cancelledAt;
    expect(alive(pids!.child)).toBe(false);
    expect(alive(pids!.grandchild)).toBe(false);
    expect(goneAfter).toBeLessThan(400);
  });
});
