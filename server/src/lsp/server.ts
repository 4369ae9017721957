import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
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
import { enclosingGitRoot } from '../agent/workspace/path-checks.js';
import { Commands, Requests } from '../protocol/methods.js';
import { DocumentStore, uriToPath } from './documents.js';
import { clientFeatures, EditorClient, type ClientFeatures } from './editor-client.js';
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
  ['textDocument/hover', (host, routes, params) => routes.handleHover(host, standardParams('textDocument/hover', params) as never)],
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

  type Services = { host: AgentHost; routes: Routes };
  let loading: Promise<Services> | undefined;
  let loaded: AgentHost | undefined;
  /** The load failure last shown; a retry that fails the same way is not shown again. */
  let shownFailure: string | undefined;
  /** The modules and the host, built once: a second host would report the same config errors again. */
  const buildHost = async (): Promise<Services> => {
    const [{ AgentHost: Host }, routes] = await Promise.all([import('./agent-host.js'), import('./routes.js')]);
    if (!client || !initializeParams) throw new Error('server used before initialize');
    loaded ??= new Host({
      client,
      documents,
      env: options.env,
      initializationOptions: initializeParams.initializationOptions,
      workspaceFolders: () => folders,
      version: options.version,
    });
    return { host: loaded, routes };
  };
  /**
   * The host with its history database open. A failure is not memoized (a rejected promise would
   * fail every request until the editor restarts, even after the user fixed the cause): the next
   * request tries again. It is shown once, not on every request that fails the same way.
   */
  const services = (): Promise<Services> => {
    loading ??= buildHost()
      .then(async (ready) => {
        await ready.host.store();
        shownFailure = undefined;
        return ready;
      })
      .catch((error: unknown) => {
        loading = undefined;
        const dataDirectory = loaded?.runtime.dataDirectory;
        const hint = dataDirectory && /history database/.test(String((error as Error).message))
          ? ` Make ${dataDirectory} a writable directory, or set CODEBENCH_DATA_DIR to one.`
          : '';
        const message = `codebench could not start: ${String((error as Error).message).replace(/\.$/, '')}.${hint} The next request tries again.`;
        client?.log(`${message}\n${(error as Error).stack ?? ''}`);
        if (message !== shownFailure) client?.show('error', message);
        shownFailure = message;
        throw new ResponseError(ErrorCodes.InternalError, message);
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
    client = new EditorClient(connection, clientFeatures(params.capabilities, params.clientInfo), encoding);
    folders = (params.workspaceFolders ?? []).map((folder) => uriToPath(folder.uri)).filter((path): path is string => !!path);
    const rootPath = params.rootUri ? uriToPath(params.rootUri) : undefined;
    if (folders.length === 0 && rootPath) folders = [rootPath];
    folders = [...new Set(folders.map((folder) => projectRoot(folder, process.cwd(), options.env.HOME)))];
    if (typeof params.processId === 'number') watchEditor(params.processId);
    return {
      capabilities: {
        positionEncoding: encoding,
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        codeActionProvider: {
          codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Refactor, CodeActionKind.RefactorRewrite, CodeActionKind.Empty],
          resolveProvider: false,
        },
        executeCommandProvider: { commands: advertisedCommands(client.features) },
        hoverProvider: true,
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
        experimental: { codebench: { runEvents: true } },
      },
      serverInfo: { name: 'codebench', version: options.version },
    };
  });

  connection.onInitialized(() => {
    // Registered here so it replaces the library's own handler, which only knows its reporters.
    connection.onNotification(WorkDoneProgressCancelNotification.type, ({ token }) => {
      void buildHost().then(({ host }) => host.askFlow.cancelByProgressToken(token), () => undefined);
    });
  });

  for (const [method, handler] of REQUESTS) {
    // Code actions are computed from memory: they never wait for the database to open.
    const ready = method === 'textDocument/codeAction' ? buildHost : services;
    connection.onRequest(method, async (params: unknown, token: CancellationToken) => {
      const { host, routes } = await ready();
      return handler(host, routes, params, token);
    });
  }

  connection.onNotification(DidChangeConfigurationNotification.type, ({ settings }) => {
    // Needs no database: applied even while the history cannot be opened.
    void buildHost().then(({ host }) => host.didChangeConfiguration(settings), (error: unknown) => client?.log(`settings not applied: ${(error as Error).message}`));
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
 * Commands only code actions and the plugin call (they need ids a person does not have). Helix
 * lists the advertised commands in `:lsp-workspace-command`, so for it they are left out; other
 * clients refuse to run a code action's command that is not advertised (Neovim's `exec_cmd`).
 */
const INTERNAL_COMMANDS: ReadonlySet<string> = new Set(
  [Commands.confirmApplied, Commands.approveCommand, Commands.denyCommand, Commands.sendChat, Commands.askPrompt].map((declaration) => declaration.command),
);

function advertisedCommands(features: ClientFeatures): string[] {
  const all = Object.values(Commands).map((declaration) => declaration.command);
  return features.listsCommandsToPeople ? all.filter((command) => !INTERNAL_COMMANDS.has(command)) : all;
}

/** A folder holding one of these is a project root of its own (a monorepo package, say): kept. */
const PROJECT_MARKERS = ['.git', '.hg', '.svn', '.jj', '.helix', 'package.json', 'Cargo.toml', 'pyproject.toml', 'setup.py', 'go.mod', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'Gemfile', 'composer.json', 'mix.exs', 'deno.json', 'CMakeLists.txt', 'Makefile'];

/**
 * Helix, finding no root marker, sends the file's own directory as the root; the agent would then
 * not find `src/…` paths. So a client root with no project marker of its own, inside a git work
 * tree, becomes that work tree's root (what the terminal client calls the workspace), else the
 * server's working directory when the root is inside it, unless that is the home or filesystem
 * root (where editors start by default). A root that is a project (a package of a monorepo opened
 * on purpose) is left as the client chose it.
 */
function projectRoot(folder: string, cwd: string, home: string | undefined): string {
  if (PROJECT_MARKERS.some((marker) => existsSync(join(folder, marker)))) return folder;
  const gitRoot = enclosingGitRoot(folder);
  if (gitRoot !== undefined) return gitRoot;
  const inside = relative(cwd, folder);
  const isStrictlyInside = inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
  return isStrictlyInside && cwd !== home && dirname(cwd) !== cwd ? cwd : folder;
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
  if (method === 'textDocument/hover') {
    if (!isPosition(params.position)) fail('params.position', 'must be an integer position');
    return params;
  }
  if (!isObject(params.range) || !isPosition(params.range.start) || !isPosition(params.range.end)) fail('params.range', 'must be a range of integer positions');
  if (!isObject(params.context) || !Array.isArray(params.context.diagnostics)) fail('params.context.diagnostics', 'must be an array');
  if (params.context.only !== undefined && !Array.isArray(params.context.only)) fail('params.context.only', 'must be an array');
  return params;
}
