import { Readable, Writable } from 'node:stream';
import { agent, ndJsonStream } from '@agentclientprotocol/sdk';
import { AgentRuntime } from '../agent/runtime.js';
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

  const app = agent({ name: 'codebench' })
    .onRequest('initialize', ({ params, client }) => server.initialize(params, client))
    .onRequest('authenticate', () => undefined)
    .onRequest('session/new', ({ params }) => server.newSession(params))
    .onRequest('session/load', ({ params, client }) => server.loadSession(params, client))
    .onRequest('session/list', ({ params }) => server.listSessions(params))
    .onRequest('session/set_mode', ({ params }) => server.setMode(params))
    .onRequest('session/prompt', ({ params, client }) => server.prompt(params, client))
    .onNotification('session/cancel', ({ params }) => server.cancel(params.sessionId));

  const stream = ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>);
  const connection = app.connect(stream);
  void connection.closed.then(async () => {
    await runtime.close();
    process.exit(0);
  });
}
