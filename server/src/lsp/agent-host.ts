import { pathToFileURL } from 'node:url';
import { ErrorCodes, ResponseError } from 'vscode-languageserver';
import type { Agent } from '../agent/agent.js';
import { AgentRuntime } from '../agent/runtime.js';
import { osKeychain } from '../providers/keychain.js';
import type { Store } from '../store/store.js';
import { startBackgroundSync } from '../sync/background.js';
import type { TeamSync } from '../sync/team-sync.js';
import { LspApprovals } from './approvals.js';
import { AskFlow } from './ask-flow.js';
import type { DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';
import { ReviewService } from './review.js';
import { TranscriptChat } from './transcript-chat.js';
import { AppliedProposals } from './applied-proposals.js';
import { UndoFlow } from './undo-flow.js';

export interface AgentHostOptions {
  client: EditorClient;
  documents: DocumentStore;
  env: NodeJS.ProcessEnv;
  initializationOptions: unknown;
  workspaceFolders: () => string[];
  version: string;
}

/** InvalidParams with the message as written (it already names the field). */
export function invalidParams(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

/**
 * The agent and what every handler in handlers/ shares: config, store, review, the ask flow, the
 * chat files and pending approvals. Everything here costs start-up time (zod, kysely, SQLite, the
 * diff libraries), so server.ts imports this module only after `initialize` has been answered.
 */
export class AgentHost {
  readonly runtime: AgentRuntime;
  readonly agent: Agent;
  readonly review: ReviewService;
  readonly askFlow: AskFlow;
  readonly chat: TranscriptChat;
  readonly approvals: LspApprovals;
  /** Recently applied proposals in memory (the "Undo agent edit" code actions) and undo / re-apply. */
  readonly applied: AppliedProposals;
  readonly undo: UndoFlow;
  /** The document last opened, edited or asked about: where a bare-string `codebench.ask` goes. */
  #lastActiveUri: string | undefined;
  #teamSync: Promise<TeamSync | undefined> | undefined;

  constructor(readonly options: AgentHostOptions) {
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
    this.applied = new AppliedProposals(options.documents);
    this.agent.proposals.onSettled((proposal) => this.applied.addSettled(proposal));
    this.undo = new UndoFlow({
      store: () => this.store(),
      documents: options.documents,
      client: options.client,
      applied: this.applied,
      sensitive: () => this.agent.sensitiveFiles(),
      buildEdit: (files) => this.review.buildEdit(files),
      workspaceFolders: options.workspaceFolders,
      lastActiveUri: () => this.#lastActiveUri,
    });
  }

  get lastActiveUri(): string | undefined {
    return this.#lastActiveUri;
  }

  noteActive(uri: string): void {
    if (!this.chat.isChatFile(uri)) this.#lastActiveUri = uri;
  }

  store(): Promise<Store> {
    const opening = this.runtime.store();
    // Team sync starts once, with the first successful open (a failed open is retried later).
    void opening.then((store) => {
      this.#teamSync ??= startBackgroundSync({
        store,
        config: this.runtime.config(),
        env: this.options.env,
        keychain: osKeychain,
        workspaces: this.options.workspaceFolders().map((root) => ({ uri: pathToFileURL(root).href, root })),
        log: (message) => this.options.client.log(message),
      });
      // "Undo agent edit" for proposals applied before this server started: once, in the background.
      void this.applied.loadOnce(store, (message) => this.options.client.log(message));
    }, () => undefined);
    return opening;
  }

  /** The store, after checking the session exists (InvalidParams naming the field otherwise). */
  async storeWithSession(sessionId: string): Promise<Store> {
    const store = await this.store();
    if (!(await store.getSession(sessionId))) throw invalidParams(`Invalid params: params.sessionId: no session with id "${sessionId}"`);
    return store;
  }

  didChangeConfiguration(settings: unknown): void {
    const section = (settings as { codebench?: unknown } | null | undefined)?.codebench;
    if (section !== undefined) this.runtime.setLayer('settings', section);
  }

  documentChanged(): void {
    this.review.documentChanged();
  }

  async shutdown(): Promise<void> {
    this.review.dispose();
    await (await this.#teamSync)?.stop();
    await this.runtime.close();
  }
}
