import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { BIN, makeWorkspace, TEST_KEYS, TestClient, type Profile, type Workspace } from '../e2e/harness.js';
import type { FakeModelServer } from '../fakes/model-server.js';
import { closedPort } from '../fakes/ports.js';
export { prng } from '../fakes/random.js';

/** Shared by the fault-injection suite: configs, servers, a seeded PRNG, raw frames, the store. */

export const WIRES = ['openai', 'anthropic', 'ollama'] as const;
export type Wire = (typeof WIRES)[number];

export const SOURCE = 'def greet():\n    print("héllo")\n';

export { closedPort };

/** The base URL a provider of this kind takes for a server root (OpenAI's SDK wants /v1). */
export function baseURLFor(wire: Wire, root: string): string {
  return wire === 'openai' ? `${root}/v1` : root;
}

function providerFor(wire: Wire, root: string, timeoutSeconds: number): Record<string, unknown> {
  const keyEnv = wire === 'openai' ? { apiKeyEnv: 'TEST_OPENAI_KEY' } : wire === 'anthropic' ? { apiKeyEnv: 'TEST_ANTHROPIC_KEY' } : {};
  return { kind: wire, model: `${wire}-test`, baseURL: baseURLFor(wire, root), timeoutSeconds, ...keyEnv };
}

/**
 * Per wire: `<wire>` at the fake (or `roots[wire]`, e.g. a proxy in front of it), `<wire>-refused`
 * at a closed port, `<wire>-dns` at a name that can never resolve (RFC 2606 `.invalid`).
 */
export async function faultWorkspace(
  fake: FakeModelServer,
  options: { timeoutSeconds?: number; roots?: Partial<Record<Wire, string>> } = {},
): Promise<Workspace> {
  const workspace = makeWorkspace({ 'main.py': SOURCE });
  const timeoutSeconds = options.timeoutSeconds ?? 10;
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const providers: Record<string, unknown> = {};
  for (const wire of WIRES) {
    providers[wire] = providerFor(wire, options.roots?.[wire] ?? fake.url, timeoutSeconds);
    providers[`${wire}-refused`] = providerFor(wire, refused, timeoutSeconds);
    providers[`${wire}-dns`] = providerFor(wire, 'http://codebench-fault-test.invalid:8080', timeoutSeconds);
  }
  writeFileSync(workspace.configFile, JSON.stringify({ defaultProvider: 'ollama', providers }, null, 2));
  return workspace;
}

/** A started, initialized client with main.py open. */
export async function startClient(workspace: Workspace, profile: Profile = 'neovim', runEvents = false): Promise<TestClient> {
  const client = TestClient.start({ profile, workspace, runEvents });
  await client.initialize();
  await client.open(workspace.uri('main.py'), SOURCE, 'python');
  return client;
}


/** One LSP frame; `lengthDelta` lies about the body length. */
export function frame(body: string | Buffer, lengthDelta = 0): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length + lengthDelta}\r\n\r\n`, 'ascii'), bytes]);
}

/** The `codebench lsp` child with stdio pipes, for tests that write raw bytes. */
export function spawnServer(workspace: Workspace, command: 'lsp' | 'acp' = 'lsp'): ChildProcess {
  return spawn(process.execPath, [BIN, command], {
    cwd: workspace.root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: workspace.dataDir,
      CODEBENCH_CONFIG: workspace.configFile,
      CODEBENCH_DATA_DIR: workspace.dataDir,
      ...TEST_KEYS,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves with the exit code (or signal name), or undefined after `timeoutMs`. */
export function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | string | null | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

export function databaseFile(workspace: Workspace): string {
  return join(workspace.dataDir, 'codebench.db');
}

/** A second, independent connection to the server's database (as another process would have). */
export function openDatabase(workspace: Workspace, readonly = true): SQLite.Database {
  const db = new SQLite(databaseFile(workspace), { readonly, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

export function runStatuses(workspace: Workspace): Map<string, string> {
  const db = openDatabase(workspace);
  try {
    const rows = db.prepare('SELECT id, status FROM runs').all() as Array<{ id: string; status: string }>;
    return new Map(rows.map((row) => [row.id, row.status]));
  } finally {
    db.close();
  }
}

/**
 * A TCP pass-through in front of the fake model server that timestamps when each client
 * connection closes: the fake does not expose its sockets, and this is the moment the model
 * server would stop generating.
 */
export interface ClosingProxy {
  url: string;
  /** performance.now() of each client-side close, in order. */
  closes: number[];
  open(): number;
  close(): Promise<void>;
}

export async function closingProxy(target: string): Promise<ClosingProxy> {
  const { port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const closes: number[] = [];
  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(Number(targetPort), '127.0.0.1');
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const done = () => {
      if (!sockets.delete(client)) return;
      closes.push(performance.now());
      upstream.destroy();
    };
    client.on('close', done);
    client.on('error', done);
    upstream.on('close', () => client.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    closes,
    open: () => [...sockets].length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export { makeWorkspace, TEST_KEYS, TestClient, type Workspace };
