import type { CancellationToken, CodeAction, CodeActionParams, ExecuteCommandParams } from 'vscode-languageserver';
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import type { Agent } from '../agent/agent.js';
import { AgentRuntime } from '../agent/runtime.js';
import { checkProvider } from '../providers/health.js';
import { Commands, type AskFinished, type AskStarted, type RequestShapes } from '../protocol/methods.js';
import {
  askParamsSchema,
  askPromptParamsSchema,
  messagesParamsSchema,
  optionalRunIdSchema,
  parseParams,
  healthParamsSchema,
  openChatParamsSchema,
  sendChatParamsSchema,
  proposalHunksSchema,
  approveCommandSchema,
  denyCommandSchema,
  proposalRefSchema,
  runIdSchema,
  searchParamsSchema,
  sessionsParamsSchema,
} from '../protocol/params.js';
import type { Store } from '../store/store.js';
import { LspApprovals } from './approvals.js';
import { AskFlow } from './ask-flow.js';
import { agentCodeActions, BUILT_IN_PRESETS, cancelRunActions } from './code-actions.js';
import type { DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';
import { ReviewService } from './review.js';
import { TranscriptChat } from './transcript-chat.js';

export interface ServicesOptions {
  client: EditorClient;
  documents: DocumentStore;
  env: NodeJS.ProcessEnv;
  initializationOptions: unknown;
  workspaceFolders: () => string[];
  version: string;
}

function invalid(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

function parsed<T>(outcome: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!outcome.ok) throw invalid(outcome.message);
  return outcome.value;
}

/**
 * Everything behind the protocol binding that costs start-up time (zod, kysely, SQLite, the diff
 * libraries): loaded after `initialize` has been answered.
 */
export class Services {
  readonly runtime: AgentRuntime;
  readonly agent: Agent;
  readonly review: ReviewService;
  readonly askFlow: AskFlow;
  readonly chat: TranscriptChat;
  readonly approvals: LspApprovals;
  /** The document last opened, edited or asked about: where a bare-string `codebench.ask` goes. */
  private lastActiveUri: string | undefined;

  constructor(private readonly options: ServicesOptions) {
    const report = (message: string) => {
      options.client.show('error', message);
      options.client.log(message);
    };
    this.runtime = new AgentRuntime({ env: options.env, documents: options.documents, log: (message) => options.client.log(message), reportConfigError: report });
    this.runtime.setLayer('initializationOptions', options.initializationOptions);
    this.agent = this.runtime.agent;
    const config = () => this.runtime.config();
    this.review = new ReviewService(this.agent, options.documents, options.client, config, this.runtime.dataDirectory);
    this.approvals = new LspApprovals(options.client);
    this.askFlow = new AskFlow(this.agent, options.documents, options.client, this.review, options.workspaceFolders, this.approvals);
    this.chat = new TranscriptChat({
      agent: this.agent,
      store: () => this.store(),
      documents: options.documents,
      client: options.client,
      askFlow: this.askFlow,
      dataDirectory: this.runtime.dataDirectory,
      workspaceFolders: options.workspaceFolders,
    });
    options.documents.documents.onDidChangeContent(({ document }) => this.noteActive(document.uri));
  }

  private noteActive(uri: string): void {
    if (!this.chat.isChatFile(uri)) this.lastActiveUri = uri;
  }

  /** Opens the database in the background as soon as the services load, before the first ask. */
  private warmUp(): void {
    this.store().catch((error: unknown) => {
      this.options.client.show('error', `codebench cannot open its database: ${(error as Error).message}`);
    });
  }

  store(): Promise<Store> {
    return this.runtime.store();
  }

  didChangeConfiguration(settings: unknown): void {
    const section = (settings as { codebench?: unknown } | null | undefined)?.codebench;
    if (section !== undefined) this.runtime.setLayer('settings', section);
  }

  codeActions(params: CodeActionParams): CodeAction[] {
    const runs = () => this.agent.activeRuns().map((run) => ({ runId: run.runId, instruction: run.instruction }));
    // A chat transcript is not code: only sending, cancelling and opening chats make sense there.
    // Pending command approvals come first: in Helix they are the only way to answer one.
    const approvals = this.approvals.codeActions(params.textDocument.uri);
    if (this.chat.isChatFile(params.textDocument.uri)) return [...approvals, ...this.chat.codeActions(params.textDocument.uri), ...cancelRunActions(runs())];
    this.noteActive(params.textDocument.uri);
    const document = this.options.documents.byUri(params.textDocument.uri);
    const actions = document
      ? agentCodeActions({
          params,
          lineAt: (line) =>
            line < document.lineCount
              ? document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } })
              : undefined,
          userPresets: this.runtime.config().presets,
          canPrompt: this.options.client.features.showMessageRequest,
          runningRuns: runs(),
        })
      : [];
    return [...approvals, ...this.review.codeActions(params.textDocument.uri), ...actions, ...this.chat.codeActions(params.textDocument.uri)];
  }

  private readonly commands: Record<string, (argument: unknown, where: string) => Promise<unknown>> = {
    [Commands.ask]: async (argument, where): Promise<AskStarted> => {
      // Helix 25.07+ `:lsp-workspace-command codebench.ask "…"` sends the instruction alone.
      if (typeof argument === 'string') {
        if (!this.lastActiveUri) throw invalid(`Invalid params: ${where}: open a file of the project first (a bare instruction applies to the last file used)`);
        argument = { uri: this.lastActiveUri, instruction: argument };
      }
      const { handle } = await this.askFlow.start(parsed(parseParams(askParamsSchema, argument, where)), where);
      this.chat.noteSession(handle.sessionId);
      return { runId: handle.runId, sessionId: handle.sessionId };
    },
    [Commands.openChat]: async (argument, where) => this.chat.open(parsed(parseParams(openChatParamsSchema, argument ?? {}, where)).sessionId),
    [Commands.sendChat]: async (argument, where) => this.chat.send(parsed(parseParams(sendChatParamsSchema, argument, where)).uri),
    [Commands.askPrompt]: async (argument, where): Promise<AskStarted | null> => {
      const params = parsed(parseParams(askPromptParamsSchema, argument, where));
      const presets = [...BUILT_IN_PRESETS.filter((preset) => !preset.needsDiagnostics), ...this.runtime.config().presets];
      const directiveHint = 'Write my own (@agent line)…';
      const choice = await this.options.client.ask('info', 'What should the agent do?', [...presets.map((preset) => preset.title), directiveHint]);
      if (choice === directiveHint) {
        this.options.client.show('info', 'Write a line "@agent <what to do>" (in a comment) near the code, then open code actions again.');
      }
      const preset = presets.find((candidate) => candidate.title === choice);
      if (!preset) return null;
      const { handle } = await this.askFlow.start({ ...params, instruction: preset.instruction }, where);
      return { runId: handle.runId, sessionId: handle.sessionId };
    },
    [Commands.cancel]: async (argument, where) => {
      const { runId } = parsed(parseParams(optionalRunIdSchema, argument ?? {}, where));
      const targets = runId ? [runId] : this.agent.activeRuns().map((run) => run.runId);
      return { cancelled: targets.filter((target) => this.agent.cancel(target)) };
    },
    [Commands.applyProposal]: async (argument, where) => {
      const { proposalId, hunks } = this.proposalHunks(argument, where);
      return { status: await this.review.apply(proposalId, hunks) };
    },
    [Commands.previewProposal]: async (argument, where) => ({
      uri: (await this.review.preview(this.proposalId(argument, where))) ?? null,
    }),
    [Commands.discardProposal]: async (argument, where) => {
      const { proposalId, hunks } = this.proposalHunks(argument, where);
      return { status: await this.review.discard(proposalId, hunks) };
    },
    [Commands.approveCommand]: async (argument, where) => {
      const { approvalId, decision } = parsed(parseParams(approveCommandSchema, argument, where));
      return { answered: this.approvals.answer(approvalId, decision ?? 'allow-once') };
    },
    [Commands.denyCommand]: async (argument, where) => ({
      answered: this.approvals.answer(parsed(parseParams(denyCommandSchema, argument, where)).approvalId, 'deny'),
    }),
    [Commands.confirmApplied]: async (argument, where) => ({
      status: await this.review.confirmApplied(this.proposalId(argument, where)),
    }),
  };

  private proposalId(argument: unknown, where: string): string {
    return this.proposalHunks(argument, where).proposalId;
  }

  private proposalHunks(argument: unknown, where: string): { proposalId: string; hunks?: number[] } {
    const value = parsed(parseParams(proposalHunksSchema, argument, where));
    if (!this.agent.proposals.get(value.proposalId)) throw invalid(`Invalid params: ${where}.proposalId: no pending proposal "${value.proposalId}"`);
    return value;
  }

  /** Provider reachability for `:checkhealth`; a few seconds at most, never the keys. */
  async health(params: unknown): Promise<RequestShapes['codebench/health']['result']> {
    const { timeoutMs } = parsed(parseParams(healthParamsSchema, params ?? {}, 'params'));
    const config = this.runtime.config();
    const perProvider = await Promise.all(
      Object.entries(config.providers).map(([name, provider]) => checkProvider(name, provider, this.options.env, timeoutMs ?? 3000)),
    );
    return {
      version: this.options.version,
      positionEncoding: this.options.client.encoding,
      configPath: this.runtime.configPath,
      databaseFile: this.runtime.databaseFile,
      defaultProvider: config.defaultProvider,
      checks: perProvider.flat(),
    };
  }

  async proposal(params: unknown): Promise<RequestShapes['codebench/proposal']['result']> {
    const { proposalId } = parsed(parseParams(proposalRefSchema, params, 'params'));
    const view = this.review.hunkView(proposalId);
    if (!view) throw invalid(`Invalid params: params.proposalId: no proposal "${proposalId}" in this server (proposals from earlier sessions are in codebench/proposals)`);
    return view;
  }

  async executeCommand(params: ExecuteCommandParams): Promise<unknown> {
    const handler = this.commands[params.command];
    if (!handler) throw invalid(`Invalid params: command: unknown command "${params.command}" (known: ${Object.keys(this.commands).join(', ')})`);
    if (params.arguments !== undefined && !Array.isArray(params.arguments)) throw invalid('Invalid params: arguments: must be an array');
    return handler(params.arguments?.[0], `${params.command} arguments[0]`);
  }

  /** The long-lived form of ask: answers when the run ends, and `$/cancelRequest` cancels it. */
  async ask(params: unknown, token: CancellationToken): Promise<AskFinished> {
    const value = parsed(parseParams(askParamsSchema, params, 'params'));
    const { handle, finished } = await this.askFlow.start(value, 'params');
    const subscription = token.onCancellationRequested(() => handle.cancel());
    try {
      const result = await finished;
      if (result.status === 'cancelled' && token.isCancellationRequested) {
        throw new ResponseError(LSPErrorCodes.RequestCancelled, `run ${result.runId} cancelled`);
      }
      return result;
    } finally {
      subscription.dispose();
    }
  }

  async cancel(params: unknown): Promise<RequestShapes['codebench/cancel']['result']> {
    const { runId } = parsed(parseParams(runIdSchema, params, 'params'));
    return { cancelled: this.agent.cancel(runId) };
  }

  async sessions(params: unknown): Promise<RequestShapes['codebench/sessions']['result']> {
    const value = parsed(parseParams(sessionsParamsSchema, params ?? {}, 'params'));
    const store = await this.store();
    // Store records are the protocol shapes (absent optional fields are undefined, so omitted).
    return { sessions: await store.listSessions({ workspaceUri: value.workspaceUri, limit: value.limit }) };
  }

  private async storeWithSession(sessionId: string): Promise<Store> {
    const store = await this.store();
    if (!(await store.getSession(sessionId))) throw invalid(`Invalid params: params.sessionId: no session with id "${sessionId}"`);
    return store;
  }

  async messages(params: unknown): Promise<RequestShapes['codebench/messages']['result']> {
    const { sessionId } = parsed(parseParams(messagesParamsSchema, params, 'params'));
    const store = await this.storeWithSession(sessionId);
    return { messages: await store.listMessages(sessionId) };
  }

  async search(params: unknown): Promise<RequestShapes['codebench/search']['result']> {
    const { query, limit } = parsed(parseParams(searchParamsSchema, params, 'params'));
    const store = await this.store();
    return { hits: await store.searchMessages({ query, limit }) };
  }

  async proposals(params: unknown): Promise<RequestShapes['codebench/proposals']['result']> {
    const { sessionId } = parsed(parseParams(messagesParamsSchema, params, 'params'));
    const store = await this.storeWithSession(sessionId);
    return { proposals: await store.listProposals({ sessionId }) };
  }

  documentChanged(): void {
    this.review.documentChanged();
  }

  async shutdown(): Promise<void> {
    this.review.dispose();
    await this.runtime.close();
  }
}

