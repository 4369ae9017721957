import { Readable, Writable } from 'node:stream';
import { agent, ndJsonStream } from '@agentclientprotocol/sdk';
import { pathToFileURL } from 'node:url';
import { AgentRuntime } from '../agent/runtime.js';
import { osKeychain } from '../providers/keychain.js';
import { startBackgroundSync } from '../sync/background.js';
import type { TeamSync } from '../sync/team-sync.js';
import { CodebenchAcpAgent } from './codebench-agent.js';

export interface AcpOptions {
  env: NodeJS.ProcessEnv;
  version: string;
}

/**
 * `codebench acp`: newline-delimited JSON-RPC on stdin/stdout. Every ACP method codebench serves
 * is bound here, in one table-like chain; the work is in CodebenchAcpAgent.
 */
export function startAcpServer(options: AcpOptions): void {
  let acp: CodebenchAcpAgent | undefined;
  const runtime = new AgentRuntime({
    env: options.env,
    documents: { get: () => undefined, read: (path) => acp?.readFromClient(path) ?? Promise.resolve(undefined) },
    log: (message) => process.stderr.write(`codebench acp: ${message}\n`),
    reportConfigError: (message) => process.stderr.write(`codebench acp: ${message}\n`),
  });
  acp = new CodebenchAcpAgent(runtime, options.version);
  const server = acp;
  // Team sync (config key "sync") starts with the first session; each session's cwd is a workspace
  // that is shared when its git identity matches sync.share.
  let teamSync: Promise<TeamSync | undefined> | undefined;
  const watchWorkspace = (cwd: string) => {
    teamSync ??= runtime.store().then((store) =>
      startBackgroundSync({ store, config: runtime.config(), env: options.env, keychain: osKeychain, workspaces: [], log: (message) => process.stderr.write(`codebench acp: ${message}\n`) }),
    );
    void teamSync.then((sync) => sync?.watchWorkspace(pathToFileURL(cwd).href, cwd)).catch(() => undefined);
  };

  const app = agent({ name: 'codebench' })
    .onRequest('initialize', ({ params, client }) => server.initialize(params, client))
    .onRequest('authenticate', () => undefined)
    .onRequest('session/new', async ({ params }) => {
      const created = await server.newSession(params);
      watchWorkspace(params.cwd);
      return created;
    })
    .onRequest('session/load', async ({ params, client }) => {
      const loaded = await server.loadSession(params, client);
      watchWorkspace(params.cwd);
      return loaded;
    })
    .onRequest('session/list', ({ params }) => server.listSessions(params))
    .onRequest('session/set_mode', ({ params }) => server.setMode(params))
    .onRequest('session/prompt', ({ params, client }) => server.prompt(params, client))
    .onNotification('session/cancel', ({ params }) => server.cancel(params.sessionId));

  const stream = ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>);
  const connection = app.connect(stream);
  void connection.closed.then(async () => {
    await (await teamSync?.catch(() => undefined))?.stop();
    await runtime.close();
    process.exit(0);
  });
}
