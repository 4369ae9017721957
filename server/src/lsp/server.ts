import type { CancellationToken, Connection, InitializeParams, InitializeResult } from 'vscode-languageserver';
import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  ErrorCodes,
  InitializeRequest,
  ResponseError,
  DidChangeWorkspaceFoldersNotification,
  TextDocumentSyncKind,
  WorkDoneProgressCancelNotification,
} from 'vscode-languageserver';
import { Commands, Requests } from '../protocol/methods.js';
import { DocumentStore, uriToPath } from './documents.js';
import { clientFeatures, EditorClient } from './editor-client.js';
import { negotiateEncoding, type PositionEncoding } from './positions.js';
import type { AgentHost } from './agent-host.js';

export interface ServerOptions {
  env: NodeJS.ProcessEnv;
  version: string;
}

type RequestHandler = (host: AgentHost, routes: Routes, params: unknown, token: CancellationToken) => unknown;
type Routes = typeof import('./routes.js');

/**
 * Every request codebench answers, in one table: the standard methods, then each `codebench/*`
 * request declared in protocol/methods.ts (lsp/routes.ts finds its handler).
 */
const REQUESTS: Array<[string, RequestHandler]> = [
  ['textDocument/codeAction', (host, routes, params) => routes.handleCodeActions(host, standardParams('textDocument/codeAction', params) as never)],
  ['workspace/executeCommand', (host, routes, params, token) => routes.handleExecuteCommand(host, standardParams('workspace/executeCommand', params) as never, token)],
  ...Object.values(Requests).map(({ method }): [string, RequestHandler] => [method, (host, routes, params, token) => routes.handleRequest(host, method, params, token)]),
];

/** For the protocol.md check: every request method bound below. */
export const REQUEST_METHODS: readonly string[] = REQUESTS.map(([method]) => method);

/**
 * Binds the protocol. `initialize` is answered from this module alone; the services (config,
 * database, agent, SDKs) are imported when the first document opens or the first request
 * arrives, and every handler awaits them, so a server that is attached but idle stays as small
 * as the bare library.
 */
export function startServer(connection: Connection, options: ServerOptions): void {
  let encoding: PositionEncoding = 'utf-16';
  let folders: string[] = [];
  let client: EditorClient | undefined;
  let initializeParams: InitializeParams | undefined;
  const documents = new DocumentStore(() => encoding);
  documents.documents.listen(connection);

  let loading: Promise<{ host: AgentHost; routes: Routes }> | undefined;
  let loaded: AgentHost | undefined;
  const services = (): Promise<{ host: AgentHost; routes: Routes }> => {
    loading ??= Promise.all([import('./agent-host.js'), import('./routes.js')]).then(([{ AgentHost: Host }, routes]) => {
      if (!client || !initializeParams) throw new Error('server used before initialize');
      loaded = new Host({
        client,
        documents,
        env: options.env,
        initializationOptions: initializeParams.initializationOptions,
        workspaceFolders: () => folders,
        version: options.version,
      });
      return { host: loaded, routes };
    });
    return loading;
  };

  connection.onInitialize((params): InitializeResult => {
    // "The initialize request may only be sent once" (LSP spec). Replacing the library's own
    // handler, not just this callback, matters: it would otherwise hand the second request's
    // capabilities to its features and watch the new processId (exiting if that pid is dead).
    connection.onRequest(
      InitializeRequest.method,
      () => new ResponseError(ErrorCodes.InvalidRequest, 'initialize may only be sent once per connection; the server keeps the first one\'s capabilities and settings'),
    );
    initializeParams = params;
    encoding = negotiateEncoding(params.capabilities.general?.positionEncodings);
    client = new EditorClient(connection, clientFeatures(params.capabilities), encoding);
    folders = (params.workspaceFolders ?? []).map((folder) => uriToPath(folder.uri)).filter((path): path is string => !!path);
    const rootPath = params.rootUri ? uriToPath(params.rootUri) : undefined;
    if (folders.length === 0 && rootPath) folders = [rootPath];
    if (typeof params.processId === 'number') watchEditor(params.processId);
    return {
      capabilities: {
        positionEncoding: encoding,
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        codeActionProvider: {
          codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Refactor, CodeActionKind.RefactorRewrite, CodeActionKind.Empty],
          resolveProvider: false,
        },
        executeCommandProvider: { commands: Object.values(Commands).map((declaration) => declaration.command) },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
        experimental: { codebench: { runEvents: true } },
      },
      serverInfo: { name: 'codebench', version: options.version },
    };
  });

  connection.onInitialized(() => {
    // Registered here so it replaces the library's own handler, which only knows its reporters.
    connection.onNotification(WorkDoneProgressCancelNotification.type, ({ token }) => {
      void services().then(({ host }) => host.askFlow.cancelByProgressToken(token));
    });
  });

  for (const [method, handler] of REQUESTS) {
    connection.onRequest(method, async (params: unknown, token: CancellationToken) => {
      const { host, routes } = await services();
      return handler(host, routes, params, token);
    });
  }

  connection.onNotification(DidChangeConfigurationNotification.type, ({ settings }) => {
    void services().then(({ host }) => host.didChangeConfiguration(settings));
  });
  connection.onNotification(DidChangeWorkspaceFoldersNotification.type, ({ event }) => {
    const removed = new Set(event.removed.map((folder) => uriToPath(folder.uri)));
    folders = folders.filter((folder) => !removed.has(folder));
    for (const folder of event.added) {
      const path = uriToPath(folder.uri);
      if (path && !folders.includes(path)) folders.push(path);
    }
  });
  documents.documents.onDidChangeContent(() => loaded?.documentChanged());
  // The first open document means the editor is in use: load the services then (config errors
  // show at once, the database opens before the first ask) rather than at start-up.
  const openListener = documents.documents.onDidOpen(() => {
    openListener.dispose();
    void services().catch(() => undefined);
  });

  connection.onShutdown(async () => {
    await loaded?.shutdown();
  });
  connection.listen();
}

/**
 * vscode-languageserver polls the editor's pid only every 3 s; an editor that died (its pipe held
 * open by a grandchild, so stdin never closes) should not leave the server running that long.
 * Exiting runs the runtime's 'exit' handler, which marks the runs of this process interrupted.
 */
function watchEditor(pid: number): void {
  // When the editor is our parent, its death shows at once as a new parent pid; signal 0 alone
  // still succeeds on a killed editor until whoever started it reaps the zombie.
  const parentIsEditor = process.ppid === pid;
  const timer = setInterval(() => {
    if (parentIsEditor && process.ppid !== pid) process.exit(1);
    try {
      process.kill(pid, 0);
    } catch (error) {
      // EPERM: alive, only not ours to signal.
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') process.exit(1);
    }
  }, 500);
  timer.unref();
}

const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPosition = (value: unknown) => isObject(value) && Number.isInteger(value.line) && Number.isInteger(value.character);

/**
 * The library hands standard-method params over unchecked; a malformed one (found by the protocol
 * fuzz test) must be InvalidParams naming the field, not a TypeError surfacing as InternalError.
 */
function standardParams(method: string, params: unknown): unknown {
  function fail(field: string, what: string): never {
    throw new ResponseError(ErrorCodes.InvalidParams, `Invalid params: ${method} ${field}: ${what}`);
  }
  if (!isObject(params)) fail('params', 'must be an object');
  if (method === 'workspace/executeCommand') {
    if (typeof params.command !== 'string') fail('params.command', 'must be a string');
    return params;
  }
  if (!isObject(params.textDocument) || typeof params.textDocument.uri !== 'string') fail('params.textDocument.uri', 'must be a string');
  if (!isObject(params.range) || !isPosition(params.range.start) || !isPosition(params.range.end)) fail('params.range', 'must be a range of integer positions');
  if (!isObject(params.context) || !Array.isArray(params.context.diagnostics)) fail('params.context.diagnostics', 'must be an array');
  if (params.context.only !== undefined && !Array.isArray(params.context.only)) fail('params.context.only', 'must be an array');
  return params;
}
