import type {
  ApproveCommandParams,
  ProvenanceParams,
  ProvenanceResult,
  ProvidersParams,
  ProvidersResult,
  RunsParams,
  RunsResult,
  UndoParams,
  UndoResult,
  UsageParams,
  UsageResult,
  AskFinished,
  AskParams,
  AskPromptParams,
  AskPromptResult,
  CancelParams,
  CancelRunParams,
  DenyCommandParams,
  HealthParams,
  MemoryAddParams,
  MemoryAddResult,
  MemoryListParams,
  MemoryListResult,
  MemoryRemoveParams,
  MemoryRemoveResult,
  MessagesParams,
  OpenChatParams,
  ProposalHunksParams,
  ProposalRef,
  ProposalsParams,
  SearchParams,
  SendChatParams,
  SendChatResult,
  SessionsParams,
  AskStarted,
  CancelResult,
  CancelRunResult,
  ChatOpened,
  CommandAnswered,
  HealthInfo,
  MessagesResult,
  PreviewResult,
  ProposalHunks,
  ProposalsResult,
  ReviewResult,
  RunEventsParams,
  SearchResult,
  SessionsResult,
} from './shapes.js';

/**
 * Every custom request, command and notification codebench speaks, declared once, in the manner
 * of vscode-languageserver-protocol's `ProtocolRequestType`: the method name and the params and
 * result types. The schema that validates each one's params is attached in params.ts, keyed by
 * the same names and type-checked against these types (zod stays out of start-up: this module is
 * imported before `initialize` is answered). The LSP layer binds its handlers from these objects
 * (lsp/routes.ts), the tests and the bench drive the server with them, and
 * test/unit/protocol-doc.test.ts compares them with protocol.md: every method, every param field
 * and its type, and every limit in limits.ts.
 */

interface Declared<Params, Result> {
  /** The interface protocol.md and shapes.ts show for the params. */
  readonly paramsName: string;
  /** Params may be omitted entirely; they are then validated as `{}`. */
  readonly paramsOptional: boolean;
  readonly resultName: string;
  /** Type only, never set: let `ParamsOf` / `ResultOf<typeof Requests.x>` name them. */
  readonly params?: Params;
  readonly result?: Result;
}

export interface RequestDeclaration<Params = unknown, Result = unknown> extends Declared<Params, Result> {
  readonly kind: 'request';
  readonly method: string;
}

export interface CommandDeclaration<Params = unknown, Result = unknown> extends Declared<Params, Result> {
  readonly kind: 'command';
  /** The `workspace/executeCommand` name; the params are `arguments[0]`. */
  readonly command: string;
}

export interface NotificationDeclaration<Params = unknown> {
  readonly kind: 'notification';
  readonly method: string;
  readonly direction: 'server-to-client';
  readonly paramsName: string;
  /** Type only. */
  readonly params?: Params;
}

export type ParamsOf<D> = D extends Declared<infer Params, unknown> ? Params : D extends NotificationDeclaration<infer Params> ? Params : never;
export type ResultOf<D> = D extends Declared<unknown, infer Result> ? Result : never;

interface Names {
  params: string;
  result: string;
  /** Params may be omitted (validated as `{}`). */
  optional?: boolean;
}

function request<Params, Result>(method: string, names: Names): RequestDeclaration<Params, Result> {
  return { kind: 'request', method, paramsName: names.params, resultName: names.result, paramsOptional: names.optional ?? false };
}

function command<Params, Result>(name: string, names: Names): CommandDeclaration<Params, Result> {
  return { kind: 'command', command: name, paramsName: names.params, resultName: names.result, paramsOptional: names.optional ?? false };
}

export const Commands = {
  ask: command<AskParams, AskStarted>('codebench.ask', { params: 'AskParams', result: 'AskStarted' }),
  askPrompt: command<AskPromptParams, AskPromptResult>('codebench.askPrompt', { params: 'AskPromptParams', result: 'AskPromptResult' }),
  cancel: command<CancelParams, CancelResult>('codebench.cancel', { params: 'CancelParams', result: 'CancelResult', optional: true }),
  applyProposal: command<ProposalHunksParams, ReviewResult>('codebench.applyProposal', { params: 'ProposalHunksParams', result: 'ReviewResult' }),
  previewProposal: command<ProposalRef, PreviewResult>('codebench.previewProposal', { params: 'ProposalRef', result: 'PreviewResult' }),
  discardProposal: command<ProposalHunksParams, ReviewResult>('codebench.discardProposal', { params: 'ProposalHunksParams', result: 'ReviewResult' }),
  confirmApplied: command<ProposalRef, ReviewResult>('codebench.confirmApplied', { params: 'ProposalRef', result: 'ReviewResult' }),
  openChat: command<OpenChatParams, ChatOpened>('codebench.openChat', { params: 'OpenChatParams', result: 'ChatOpened', optional: true }),
  sendChat: command<SendChatParams, SendChatResult>('codebench.sendChat', { params: 'SendChatParams', result: 'SendChatResult' }),
  approveCommand: command<ApproveCommandParams, CommandAnswered>('codebench.approveCommand', { params: 'ApproveCommandParams', result: 'CommandAnswered' }),
  denyCommand: command<DenyCommandParams, CommandAnswered>('codebench.denyCommand', { params: 'DenyCommandParams', result: 'CommandAnswered' }),
  undo: command<UndoParams, UndoResult>('codebench.undo', { params: 'UndoParams', result: 'UndoResult', optional: true }),
} as const;

export const Requests = {
  ask: request<AskParams, AskFinished>('codebench/ask', { params: 'AskParams', result: 'AskFinished' }),
  cancel: request<CancelRunParams, CancelRunResult>('codebench/cancel', { params: 'CancelRunParams', result: 'CancelRunResult' }),
  sessions: request<SessionsParams, SessionsResult>('codebench/sessions', { params: 'SessionsParams', result: 'SessionsResult', optional: true }),
  messages: request<MessagesParams, MessagesResult>('codebench/messages', { params: 'MessagesParams', result: 'MessagesResult' }),
  search: request<SearchParams, SearchResult>('codebench/search', { params: 'SearchParams', result: 'SearchResult' }),
  proposals: request<ProposalsParams, ProposalsResult>('codebench/proposals', { params: 'ProposalsParams', result: 'ProposalsResult' }),
  proposal: request<ProposalRef, ProposalHunks>('codebench/proposal', { params: 'ProposalRef', result: 'ProposalHunks' }),
  health: request<HealthParams, HealthInfo>('codebench/health', { params: 'HealthParams', result: 'HealthInfo', optional: true }),
  memoryList: request<MemoryListParams, MemoryListResult>('codebench/memory/list', { params: 'MemoryListParams', result: 'MemoryListResult', optional: true }),
  memoryAdd: request<MemoryAddParams, MemoryAddResult>('codebench/memory/add', { params: 'MemoryAddParams', result: 'MemoryAddResult' }),
  memoryRemove: request<MemoryRemoveParams, MemoryRemoveResult>('codebench/memory/remove', { params: 'MemoryRemoveParams', result: 'MemoryRemoveResult' }),
  provenance: request<ProvenanceParams, ProvenanceResult>('codebench/provenance', { params: 'ProvenanceParams', result: 'ProvenanceResult' }),
  usage: request<UsageParams, UsageResult>('codebench/usage', { params: 'UsageParams', result: 'UsageResult', optional: true }),
  runs: request<RunsParams, RunsResult>('codebench/runs', { params: 'RunsParams', result: 'RunsResult' }),
  providers: request<ProvidersParams, ProvidersResult>('codebench/providers', { params: 'ProvidersParams', result: 'ProvidersResult', optional: true }),
} as const;

export const Notifications = {
  runEvents: { kind: 'notification', method: 'codebench/runEvents', direction: 'server-to-client', paramsName: 'RunEventsParams' } as NotificationDeclaration<RunEventsParams>,
} as const;

export { Limits } from './limits.js';
export type * from './shapes.js';
