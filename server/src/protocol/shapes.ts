/**
 * The shapes of codebench's custom protocol: params and results of every request, command and
 * notification declared in methods.ts. protocol.md shows these interfaces; test/unit/protocol-doc
 * .test.ts compares the two member by member.
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
  /** `evidence`: the commands run after the last edit; absent when the run ran no command. */
  | { type: 'proposal'; proposalId: string; summary: string; files: string[]; evidence?: CommandEvidence[] }
  | { type: 'finished'; status: Exclude<RunStatus, 'running'>; summary: string; error?: string };

/**
 * A command the agent ran after its last edit, and how it ended: the proposal's evidence. A list of
 * them is empty when commands ran only before the last edit.
 */
export interface CommandEvidence {
  command: string;
  /** 0 passed; null: it did not finish (time limit, signal). */
  exitCode: number | null;
}

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
  /** A command to run first (through the same approval and policy as the agent's); its output goes to the model with the instruction. */
  run?: string;
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
  /** A teammate's session (`team: true`): who wrote it, their team server role. Absent on the user's own. */
  author?: string;
  /** A teammate's session: the team identity of its workspace, e.g. github.com/acme/api. */
  teamWorkspace?: string;
  /** The user's own session that continues a teammate's (its id): it started from their turns. */
  continuesSessionId?: string;
}

export interface MessageInfo {
  id: number;
  role: 'user' | 'assistant' | 'system';
  content: string;
  createdAt: string;
  runId?: string;
  /** A teammate's message: who wrote the session. Absent on the user's own. */
  author?: string;
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
  status: 'proposed' | 'applied' | 'unconfirmed' | 'discarded' | 'conflict' | 'reverted';
  summary: string;
  files: Array<{ uri: string; path: string; baseVersion: number | null; created: boolean }>;
  /** Unified diff of the whole proposal. */
  diff: string;
  /** Why it ended as it did, e.g. the conflict. */
  detail?: string;
  createdAt: string;
  decidedAt?: string;
  /** The commands run after the last edit; absent when the run ran no command. */
  evidence?: CommandEvidence[];
}

/** A pending proposal as hunks against the current text (`codebench/proposal`). */
export interface ProposalHunks {
  proposalId: string;
  summary: string;
  status: 'proposed' | 'applied' | 'unconfirmed' | 'discarded' | 'conflict' | 'reverted';
  /** Set when the proposal no longer applies to the current text. */
  conflict?: string;
  /** The commands run after the last edit; absent when the run ran no command. */
  evidence?: CommandEvidence[];
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

/** Client opt-in, sent as `capabilities.experimental.codebench`. */
export interface CodebenchClientCapabilities {
  /** Receive `codebench/runEvents` with streamed text and tool steps. */
  runEvents?: boolean;
  /** The client reviews proposals inline (`codebench/proposal` + apply/discard by hunk); the server does not prompt. */
  inlineReview?: boolean;
}

/** Params of `codebench.askPrompt`. */
export interface AskPromptParams {
  uri: string;
  range?: LspRange;
}

/** Params of `codebench.cancel`: one run, or every active run. */
export interface CancelParams {
  runId?: string;
}

export interface CancelResult {
  /** Run ids that were running. */
  cancelled: string[];
}

/** Params of `codebench.applyProposal` / `codebench.discardProposal`: the whole proposal or some hunks. */
export interface ProposalHunksParams {
  proposalId: string;
  hunks?: number[];
}

export interface ReviewResult {
  status: 'applied' | 'unconfirmed' | 'discarded' | 'conflict' | 'reverted' | 'pending';
}

export interface PreviewResult {
  uri: string | null;
}

export interface CancelRunParams {
  runId: string;
}

export interface CancelRunResult {
  cancelled: boolean;
}

export interface SessionsParams {
  workspaceUri?: string;
  limit?: number;
  /** True: teammates' sessions pulled by team sync (only those), instead of the user's own. */
  team?: boolean;
}

export interface SessionsResult {
  sessions: SessionInfo[];
}

export interface MessagesParams {
  sessionId: string;
  /** The newest this many (of those before `before`), still oldest first; omitted: all of them. */
  limit?: number;
  /** A message id: only messages older than it. Page backwards with the first id of a page. */
  before?: number;
}

export interface MessagesResult {
  messages: MessageInfo[];
}

export interface SearchParams {
  query: string;
  limit?: number;
}

export interface SearchResult {
  hits: SearchHitInfo[];
}

export interface ProposalsParams {
  sessionId: string;
  /** The newest this many (of those before `before`), still oldest first; omitted: all of them. */
  limit?: number;
  /** A proposal id of this session: only proposals made before it. Page backwards with the first id of a page. */
  before?: string;
}

export interface ProposalsResult {
  proposals: ProposalInfo[];
}

/** One fact of a workspace's project memory. */
export interface MemoryFact {
  id: string;
  text: string;
  createdAt: string;
  /** The run whose `remember` call stored it; absent for a fact a user added. */
  runId?: string;
}

export interface MemoryListParams {
  /** Omitted: the server's first workspace folder. */
  workspaceUri?: string;
}

export interface MemoryListResult {
  facts: MemoryFact[];
}

export interface MemoryAddParams {
  text: string;
  /** Omitted: the server's first workspace folder. */
  workspaceUri?: string;
}

export interface MemoryAddResult {
  fact: MemoryFact;
}

export interface MemoryRemoveParams {
  /** A fact id, or a unique prefix of at least 4 characters. */
  id: string;
}

export interface MemoryRemoveResult {
  removed: boolean;
}

export interface HealthParams {
  timeoutMs?: number;
}

/** Result of `codebench.askPrompt`: null when the user dismissed the prompt. */
export type AskPromptResult = AskStarted | null;

/** Result of `codebench.sendChat`: null when nothing was written under `## you`. */
export type SendChatResult = AskStarted | null;

export type * from './shapes-insight.js';
