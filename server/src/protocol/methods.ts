/**
 * Every custom method and command codebench speaks, declared once. The LSP layer binds handlers
 * to these constants, the tests drive the server with them, and test/unit/protocol-doc.test.ts
 * fails when protocol.md does not describe one of them.
 */

/** A run's state on the wire. */
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/**
 * One event of `codebench/runEvents`. The wire's own type: the core's `RunEvent` (agent/events.ts)
 * may grow without changing what clients receive; lsp/run-events-wire.ts maps one to the other.
 */
export type RunEvent =
  /** Model text; consecutive deltas are coalesced within a batch. */
  | { type: 'text'; text: string }
  | { type: 'tool-started'; callId: string; name: string; activity: string }
  | { type: 'tool-finished'; callId: string; name: string; activity: string; isError: boolean }
  /** Retries, waits and other things worth a line in progress but not in history. */
  | { type: 'notice'; message: string }
  | { type: 'proposal'; proposalId: string; summary: string; files: string[] }
  | { type: 'finished'; status: Exclude<RunStatus, 'running'>; summary: string; error?: string };

export interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface DiagnosticHint {
  range?: LspRange;
  message: string;
  severity?: number;
  source?: string;
}

/** Arguments of `codebench.ask` (command) and `codebench/ask` (request). */
export interface AskParams {
  uri: string;
  range?: LspRange;
  instruction: string;
  provider?: string;
  sessionId?: string;
  diagnostics?: DiagnosticHint[];
}

export interface AskStarted {
  runId: string;
  sessionId: string;
}

export interface AskFinished extends AskStarted {
  status: Exclude<RunStatus, 'running'>;
  summary: string;
  /** The model's final text. */
  text: string;
  proposalId?: string;
  error?: string;
}

export interface SessionInfo {
  id: string;
  title: string;
  workspaceUri: string;
  provider: string;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
  lastMessagePreview: string | null;
}

export interface MessageInfo {
  id: number;
  role: 'user' | 'assistant' | 'system';
  content: string;
  createdAt: string;
  runId?: string;
}

export interface SearchHitInfo {
  messageId: number;
  sessionId: string;
  sessionTitle: string;
  role: 'user' | 'assistant' | 'system';
  /** Matching excerpt; matched terms are wrapped in `⟦` and `⟧` (brackets are too common in code to mark with). */
  snippet: string;
  createdAt: string;
  runId?: string;
}

export interface ProposalInfo {
  id: string;
  runId: string;
  sessionId: string;
  status: 'proposed' | 'applied' | 'discarded' | 'conflict';
  summary: string;
  files: Array<{ uri: string; path: string; baseVersion: number | null; created: boolean }>;
  /** Unified diff of the whole proposal. */
  diff: string;
  /** Why it ended as it did, e.g. the conflict. */
  detail?: string;
  createdAt: string;
  decidedAt?: string;
}

/** A pending proposal as hunks against the current text (`codebench/proposal`). */
export interface ProposalHunks {
  proposalId: string;
  summary: string;
  status: 'proposed' | 'applied' | 'discarded' | 'conflict';
  /** Set when the proposal no longer applies to the current text. */
  conflict?: string;
  files: Array<{
    uri: string;
    path: string;
    created: boolean;
    /** The document version the ranges refer to; null for files not open. */
    version: number | null;
    hunks: Array<{ index: number; range: LspRange; oldText: string; newText: string }>;
  }>;
}

export interface HealthCheck {
  name: string;
  status: 'ok' | 'warning' | 'error';
  message: string;
  fix?: string;
}

/** What `:checkhealth codebench` shows from the server's side. */
export interface HealthInfo {
  version: string;
  positionEncoding: string;
  configPath: string;
  databaseFile: string;
  defaultProvider: string;
  /** Key present and endpoint reachable, per configured provider. */
  checks: HealthCheck[];
}

/** Arguments of `codebench.approveCommand` (code action on a pending command approval). */
export interface ApproveCommandParams {
  approvalId: string;
  /** 'allow-always' also stores an allow rule for the command; default 'allow-once'. */
  decision?: 'allow-once' | 'allow-always';
}

/** Arguments of `codebench.denyCommand`. */
export interface DenyCommandParams {
  approvalId: string;
}

/** Result of both: false when the approval was no longer pending (answered, timed out, cancelled). */
export interface CommandAnswered {
  answered: boolean;
}

export interface ProposalRef {
  proposalId: string;
}

export interface RunEventsParams {
  runId: string;
  sessionId: string;
  events: RunEvent[];
}

/** Arguments of `codebench.openChat`: a stored session's transcript, or a new chat without one. */
export interface OpenChatParams {
  sessionId?: string;
}

/** Result of `codebench.openChat`: the chat file, and whether the editor showed it. */
export interface ChatOpened {
  uri: string;
  shown: boolean;
}

/** Arguments of `codebench.sendChat`: the chat file whose message under `## you` is sent. */
export interface SendChatParams {
  uri: string;
}

export const Commands = {
  ask: 'codebench.ask',
  askPrompt: 'codebench.askPrompt',
  cancel: 'codebench.cancel',
  applyProposal: 'codebench.applyProposal',
  previewProposal: 'codebench.previewProposal',
  discardProposal: 'codebench.discardProposal',
  confirmApplied: 'codebench.confirmApplied',
  openChat: 'codebench.openChat',
  sendChat: 'codebench.sendChat',
  approveCommand: 'codebench.approveCommand',
  denyCommand: 'codebench.denyCommand',
} as const;

export const Requests = {
  ask: 'codebench/ask',
  cancel: 'codebench/cancel',
  sessions: 'codebench/sessions',
  messages: 'codebench/messages',
  search: 'codebench/search',
  proposals: 'codebench/proposals',
  proposal: 'codebench/proposal',
  health: 'codebench/health',
} as const;

export const Notifications = {
  runEvents: 'codebench/runEvents',
} as const;

/** Request and response shapes, keyed by method, for typed clients and tests. */
export interface RequestShapes {
  'codebench/ask': { params: AskParams; result: AskFinished };
  'codebench/cancel': { params: { runId: string }; result: { cancelled: boolean } };
  'codebench/sessions': { params: { workspaceUri?: string; limit?: number }; result: { sessions: SessionInfo[] } };
  'codebench/messages': { params: { sessionId: string }; result: { messages: MessageInfo[] } };
  'codebench/search': { params: { query: string; limit?: number }; result: { hits: SearchHitInfo[] } };
  'codebench/proposals': { params: { sessionId: string }; result: { proposals: ProposalInfo[] } };
  'codebench/proposal': { params: ProposalRef; result: ProposalHunks };
  'codebench/health': { params: { timeoutMs?: number } | undefined; result: HealthInfo };
}

/** Client opt-in, sent as `capabilities.experimental.codebench`. */
export interface CodebenchClientCapabilities {
  /** Receive `codebench/runEvents` with streamed text and tool steps. */
  runEvents?: boolean;
  /** The client reviews proposals inline (`codebench/proposal` + apply/discard by hunk); the server does not prompt. */
  inlineReview?: boolean;
}
