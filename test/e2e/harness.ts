import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  ResponseError,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { FakeModelServer } from '../fakes/model-server.js';
import { Notifications } from '../../server/src/protocol/methods.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'bin', 'codebench.js');

export type Encoding = 'utf-8' | 'utf-16' | 'utf-32';

/**
 * Two editor profiles from ../shared/brief/editors.md: Neovim asks with showMessageRequest and
 * applies any edit; Helix has no showMessageRequest and refuses edits whose version is stale.
 */
export type Profile = 'neovim' | 'helix';

export interface TextEdit {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  newText: string;
}

export interface ProgressRecord {
  token: string;
  value: { kind: 'begin' | 'report' | 'end'; title?: string; message?: string; cancellable?: boolean };
  at: number;
}

/**
 * Independent of the server's conversion code on purpose: a shared bug would hide itself. Lines
 * end in CRLF, a lone CR or LF, as in the LSP text document model, and a character never counts
 * the line break (a position past the line's end clamps before it).
 */
export function offsetOf(text: string, position: { line: number; character: number }, encoding: Encoding): number {
  // With a capturing group, split keeps each break: [line 0, break 0, line 1, break 1, …, last line].
  const parts = text.split(/(\r\n|\r|\n)/);
  let offset = 0;
  for (let line = 0; line < position.line; line++) offset += (parts[2 * line]?.length ?? 0) + (parts[2 * line + 1]?.length ?? 1);
  const lineText = parts[2 * position.line] ?? '';
  if (encoding === 'utf-16') return offset + Math.min(position.character, lineText.length);
  if (encoding === 'utf-8') {
    const prefix = Buffer.from(lineText, 'utf8').subarray(0, position.character).toString('utf8');
    return offset + prefix.length;
  }
  return offset + [...lineText].slice(0, position.character).join('').length;
}

export function applyTextEdits(text: string, edits: TextEdit[], encoding: Encoding): string {
  const resolved = edits.map((edit) => ({
    start: offsetOf(text, edit.range.start, encoding),
    end: offsetOf(text, edit.range.end, encoding),
    newText: edit.newText,
  }));
  resolved.sort((a, b) => b.start - a.start);
  let result = text;
  for (const edit of resolved) result = result.slice(0, edit.start) + edit.newText + result.slice(edit.end);
  return result;
}

export interface Workspace {
  root: string;
  dataDir: string;
  configFile: string;
  uri(relativePath: string): string;
}

export function makeWorkspace(files: Record<string, string>): Workspace {
  const base = mkdtempSync(join(tmpdir(), 'codebench-e2e-'));
  const root = join(base, 'project');
  const dataDir = join(base, 'data');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  mkdirSync(root, { recursive: true });
  return { root, dataDir, configFile: join(base, 'config.json'), uri: (path) => pathToFileURL(join(root, path)).href };
}

/** A config with one provider of every HTTP kind, all pointing at the fake model server. */
export function writeConfig(workspace: Workspace, fake: FakeModelServer, extra: Record<string, unknown> = {}): void {
  const config = {
    defaultProvider: 'ollama',
    providers: {
      openai: { kind: 'openai', model: 'gpt-test', baseURL: `${fake.url}/v1`, apiKeyEnv: 'TEST_OPENAI_KEY', timeoutSeconds: 10 },
      compatible: { kind: 'openai-compatible', model: 'local-test', baseURL: `${fake.url}/v1`, timeoutSeconds: 10 },
      anthropic: { kind: 'anthropic', model: 'claude-test', baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', timeoutSeconds: 10 },
      ollama: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url, timeoutSeconds: 10 },
    },
    ...extra,
  };
  writeFileSync(workspace.configFile, JSON.stringify(config, null, 2));
}

export const TEST_KEYS = { TEST_OPENAI_KEY: 'sk-test-openai-secret', TEST_ANTHROPIC_KEY: 'sk-ant-test-secret' };

export interface ClientOptions {
  profile: Profile;
  workspace: Workspace;
  runEvents?: boolean;
  inlineReview?: boolean;
  /** What the Neovim-like client answers to showMessageRequest (a promise answers later). */
  choose?: (message: string, actions: string[]) => string | null | Promise<string | null>;
  env?: Record<string, string>;
  initializationOptions?: unknown;
  /** Answer this many workspace/applyEdit requests with applied: false, as a racing editor would. */
  refuseApplies?: number;
  /** Answer this many workspace/applyEdit requests with applied: true without applying anything. */
  pretendApplies?: number;
  /** Apply and answer each workspace/applyEdit only after this long, as a busy editor would. */
  applyDelayMs?: number;
  /** `clientInfo.name` sent in initialize (real Helix sends "helix", Neovim "Neovim"); none when absent. */
  clientName?: string;
}

export class TestClient {
  readonly connection: MessageConnection;
  readonly documents = new Map<string, { text: string; version: number }>();
  /** Documents the server was told about with didOpen; only those get didChange. */
  readonly opened = new Set<string>();
  readonly progress: ProgressRecord[] = [];
  readonly createdTokens: string[] = [];
  readonly messages: Array<{ type: number; message: string }> = [];
  readonly prompts: Array<{ message: string; actions: string[] }> = [];
  readonly diagnostics = new Map<string, any[]>();
  readonly runEvents: any[] = [];
  readonly appliedEdits: any[] = [];
  readonly refusedEdits: any[] = [];
  /** Every workspace/applyEdit as it arrives, before it is answered. */
  readonly receivedEdits: any[] = [];
  /** Edits answered applied: true but not applied (`pretendApplies`). */
  readonly pretendedEdits: any[] = [];
  /** Messages of showMessageRequest prompts the server withdrew with $/cancelRequest. */
  readonly withdrawnPrompts: string[] = [];
  readonly shownDocuments: string[] = [];
  readonly stdout: Buffer[] = [];
  stderr = '';
  encoding: Encoding = 'utf-16';
  private readonly waiters = new Set<() => void>();
  private exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly options: ClientOptions,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => this.stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    this.connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const changed = () => {
      for (const waiter of [...this.waiters]) waiter();
    };
    this.connection.onNotification('$/progress', (params: { token: string; value: ProgressRecord['value'] }) => {
      this.progress.push({ token: params.token, value: params.value, at: Date.now() });
      changed();
    });
    this.connection.onRequest('window/workDoneProgress/create', (params: { token: string }) => {
      this.createdTokens.push(params.token);
      return null;
    });
    this.connection.onNotification('window/showMessage', (params: { type: number; message: string }) => {
      this.messages.push(params);
      changed();
    });
    this.connection.onNotification('window/logMessage', () => undefined);
    this.connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics: any[] }) => {
      this.diagnostics.set(params.uri, params.diagnostics);
      changed();
    });
    this.connection.onNotification(Notifications.runEvents.method, (params: any) => {
      this.runEvents.push(params);
      changed();
    });
    if (options.profile === 'neovim') {
      this.connection.onRequest('window/showMessageRequest', async (params: { message: string; actions: Array<{ title: string }> }, token) => {
        const actions = params.actions.map((action) => action.title);
        this.prompts.push({ message: params.message, actions });
        token.onCancellationRequested(() => {
          this.withdrawnPrompts.push(params.message);
          changed();
        });
        changed();
        const choice = await (options.choose ?? (() => 'Apply'))(params.message, actions);
        return choice === null ? null : { title: choice };
      });
      this.connection.onRequest('window/showDocument', (params: { uri: string }) => {
        this.shownDocuments.push(params.uri);
        return { success: true };
      });
    }
    if (options.profile === 'helix') {
      // Helix handles showDocument (since 24.03) without advertising it in its capabilities.
      this.connection.onRequest('window/showDocument', (params: { uri: string }) => {
        this.shownDocuments.push(params.uri);
        changed();
        return { success: true };
      });
    }
    let refusals = options.refuseApplies ?? 0;
    let pretences = options.pretendApplies ?? 0;
    this.connection.onRequest('workspace/applyEdit', async (params: { edit: any }) => {
      this.receivedEdits.push(params.edit);
      changed();
      if (options.applyDelayMs) await new Promise((resolve) => setTimeout(resolve, options.applyDelayMs));
      if (pretences > 0) {
        pretences--;
        this.pretendedEdits.push(params.edit);
        return { applied: true };
      }
      if (refusals > 0) {
        refusals--;
        this.refusedEdits.push(params.edit);
        return { applied: false, failureReason: 'document has changed' };
      }
      this.appliedEdits.push(params.edit);
      const result = this.applyWorkspaceEdit(params.edit);
      changed();
      return result;
    });
    this.connection.listen();
  }

  static start(options: ClientOptions): TestClient {
    const child = spawn(process.execPath, [BIN, 'lsp'], {
      cwd: options.workspace.root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: options.workspace.dataDir,
        CODEBENCH_CONFIG: options.workspace.configFile,
        CODEBENCH_DATA_DIR: options.workspace.dataDir,
        ...TEST_KEYS,
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new TestClient(child, options);
  }

  async initialize(): Promise<any> {
    const profile = this.options.profile;
    const capabilities = {
      general: { positionEncodings: profile === 'neovim' ? ['utf-8', 'utf-16', 'utf-32'] : ['utf-8', 'utf-32', 'utf-16'] },
      window: {
        workDoneProgress: true,
        ...(profile === 'neovim' ? { showMessage: { messageActionItem: { additionalPropertiesSupport: true } }, showDocument: { support: true } } : {}),
      },
      workspace: {
        applyEdit: true,
        workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'] },
        workspaceFolders: true,
      },
      textDocument: { synchronization: { didSave: true }, codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'refactor.rewrite'] } } } },
      ...(this.options.runEvents || this.options.inlineReview
        ? { experimental: { codebench: { runEvents: this.options.runEvents === true, inlineReview: this.options.inlineReview === true } } }
        : {}),
    };
    const result = await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(this.options.workspace.root).href,
      workspaceFolders: [{ uri: pathToFileURL(this.options.workspace.root).href, name: 'project' }],
      capabilities,
      initializationOptions: this.options.initializationOptions,
      ...(this.options.clientName ? { clientInfo: { name: this.options.clientName } } : {}),
    });
    this.encoding = (result as any).capabilities.positionEncoding ?? 'utf-16';
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  async open(uri: string, text: string, languageId = 'typescript'): Promise<void> {
    this.documents.set(uri, { text, version: 1 });
    this.opened.add(uri);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Types into the document as an editor would: an incremental change in the client encoding. */
  async type(uri: string, edit: TextEdit): Promise<void> {
    const document = this.documents.get(uri)!;
    document.text = applyTextEdits(document.text, [edit], this.encoding);
    document.version += 1;
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: document.version },
      contentChanges: [{ range: edit.range, text: edit.newText }],
    });
  }

  private applyWorkspaceEdit(edit: any): { applied: boolean; failureReason?: string } {
    const changes: Array<{ uri: string; version: number | null; edits: TextEdit[] }> = [];
    for (const change of edit.documentChanges ?? []) {
      if (change.kind === 'create') {
        if (!this.documents.has(change.uri)) this.documents.set(change.uri, { text: '', version: 0 });
        continue;
      }
      changes.push({ uri: change.textDocument.uri, version: change.textDocument.version, edits: change.edits });
    }
    for (const change of changes) {
      const document = this.documents.get(change.uri);
      if (this.options.profile === 'helix' && document && change.version !== null && change.version !== document.version) {
        return { applied: false, failureReason: 'document has changed' };
      }
    }
    for (const change of changes) {
      const document = this.documents.get(change.uri) ?? { text: '', version: 0 };
      this.documents.set(change.uri, document);
      document.text = applyTextEdits(document.text, change.edits, this.encoding);
      document.version += 1;
      if (this.opened.has(change.uri)) {
        void this.connection.sendNotification('textDocument/didChange', {
          textDocument: { uri: change.uri, version: document.version },
          // Edits of one TextDocumentEdit all refer to the old text, while contentChanges apply in
          // sequence: sent last-first, every range is still valid when its turn comes.
          contentChanges: [...change.edits]
            .sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character)
            .map((textEdit) => ({ range: textEdit.range, text: textEdit.newText })),
        });
      }
    }
    return { applied: true };
  }

  /** Applies a code action's edit the way Helix does, then runs its command. */
  async applyCodeAction(action: any): Promise<unknown> {
    const result = this.applyWorkspaceEdit(action.edit);
    if (!result.applied) throw new Error(`edit refused: ${result.failureReason}`);
    if (action.command) {
      return this.connection.sendRequest('workspace/executeCommand', { command: action.command.command, arguments: action.command.arguments });
    }
    return undefined;
  }

  request<T = any>(method: string, params?: unknown): Promise<T> {
    return this.connection.sendRequest(method, params) as Promise<T>;
  }

  command<T = any>(command: string, ...args: unknown[]): Promise<T> {
    return this.connection.sendRequest('workspace/executeCommand', { command, arguments: args }) as Promise<T>;
  }

  /** Resolves when `predicate` holds, re-checked on every message from the server. */
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const initial = predicate();
    if (initial) return Promise.resolve(initial);
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = predicate();
        if (!value) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; stderr:\n${this.stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  progressEnd(token?: string): ProgressRecord | undefined {
    return this.progress.find((record) => record.value.kind === 'end' && (token === undefined || record.token === token));
  }

  async stop(): Promise<number | null> {
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((resolve) => setTimeout(resolve, 5000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // Already gone; the exit code below tells.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(timer);
    this.connection.dispose();
    return code;
  }

  /** Everything the server wrote to stdout must parse as Content-Length frames of JSON. */
  frameViolations(): string[] {
    const data = Buffer.concat(this.stdout);
    const problems: string[] = [];
    let offset = 0;
    while (offset < data.length) {
      const headerEnd = data.indexOf('\r\n\r\n', offset);
      if (headerEnd === -1) {
        problems.push(`trailing bytes: ${data.subarray(offset, offset + 80).toString()}`);
        break;
      }
      const header = data.subarray(offset, headerEnd).toString('ascii');
      const match = /^Content-Length: (\d+)(\r\nContent-Type: [^\r\n]+)?$/i.exec(header);
      if (!match) {
        problems.push(`bad header: ${JSON.stringify(header.slice(0, 80))}`);
        break;
      }
      const length = Number(match[1]);
      const body = data.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      try {
        JSON.parse(body);
      } catch {
        problems.push(`body is not JSON: ${body.slice(0, 80)}`);
      }
      offset = headerEnd + 4 + length;
    }
    return problems;
  }
}

export function isResponseError(error: unknown): error is ResponseError<unknown> {
  return error instanceof ResponseError;
}

/** Polls an async check until it passes (for state the server records a moment after it acts). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
