import type { MessageRole, ProposalStatus, RunStatus } from './schema.js';

/**
 * The store's public values. Nullable columns become optional fields (undefined, never `null`), so
 * they serialise to JSON the same way protocol types do.
 */

export type { MessageRole, ProposalStatus, RunStatus };

export interface WorkspaceRecord {
  id: number;
  uri: string;
  createdAt: string;
}

export interface SessionRecord {
  id: string;
  workspaceUri: string;
  title: string;
  provider: string;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
  /** Whitespace-collapsed start of the newest message; '' for a session without messages. */
  lastMessagePreview: string;
  /** The teammate's session (pulled by team sync) this one continues: its turns are this one's history. */
  continuesSessionId?: string;
}

export interface MessageRecord {
  id: number;
  sessionId: string;
  runId?: string;
  role: MessageRole;
  content: string;
  createdAt: string;
}

export interface RunRecord {
  id: string;
  sessionId: string;
  provider: string;
  model: string;
  instruction: string;
  status: RunStatus;
  error?: string;
  inputTokens?: number;
  outputTokens?: number;
  startedAt: string;
  firstTokenAt?: string;
  finishedAt?: string;
  externalSessionId?: string;
}

export interface ToolCallRecord {
  id: number;
  runId: string;
  callId: string;
  name: string;
  /** Parsed back from the stored JSON. */
  args: unknown;
  result: string;
  isError: boolean;
  startedAt: string;
  finishedAt: string;
}

export type NewToolCall = Omit<ToolCallRecord, 'id'>;

/**
 * A tool call as a follow-up's summary of its turn needs it: the arguments, and only the start and
 * end of the result (a read_file result can be a whole file).
 */
export interface ToolCallBrief {
  name: string;
  /** Parsed back from the stored JSON. */
  args: unknown;
  isError: boolean;
  /** The result's first characters (all of it when short). */
  resultHead: string;
  /** The result's last characters when the head does not hold all of it; '' otherwise. */
  resultTail: string;
  /** Characters and lines of the whole result. */
  resultLength: number;
  resultLines: number;
}

/** One earlier run of a session, with what a follow-up ask remembers of it. */
export interface EarlierRun {
  run: RunRecord;
  /** The model's final text; '' when it answered nothing. */
  answer: string;
  /** Oldest first. */
  toolCalls: ToolCallBrief[];
  /** The run's proposal (at most one) and its fate. */
  proposals: Array<Pick<ProposalRecord, 'status' | 'files' | 'detail'>>;
}

export interface RunEnding {
  status: 'completed' | 'failed' | 'cancelled';
  /** The provider and model that answered, when a fallback took over from the configured one. */
  provider?: string;
  model?: string;
  error?: string;
  inputTokens?: number;
  outputTokens?: number;
  firstTokenAt?: string;
  externalSessionId?: string;
}

export interface ProposalFile {
  uri: string;
  /** Workspace-relative path, for display. */
  path: string;
  /** Document version the edit was computed against; null when the file was not open. */
  baseVersion: number | null;
  /** True when the proposal creates the file. */
  created: boolean;
}

export interface ProposalRecord {
  id: string;
  runId: string;
  sessionId: string;
  status: ProposalStatus;
  summary: string;
  files: ProposalFile[];
  /** Unified diff over all files. */
  diff: string;
  /** Why a proposal ended in `conflict` (or other decision context). */
  detail?: string;
  createdAt: string;
  decidedAt?: string;
  /**
   * The commands run after the last edit, oldest first; empty when commands ran only before it;
   * absent when the run ran no command at all.
   */
  evidence?: CommandEvidence[];
}

/** A command the agent ran after its last edit, and how it ended. */
export interface CommandEvidence {
  command: string;
  /** Null when it did not finish (stopped at the time limit or by a signal). */
  exitCode: number | null;
}

/**
 * Search snippets mark each matched term as `⟦term⟧`. Brackets that look like the ASCII ones are
 * deliberate: `[`/`]` occur constantly in code and chat, these practically never do, so a client
 * can split on them without ambiguity (e.g. to bold the matches).
 */
export const SNIPPET_OPEN = '⟦';
export const SNIPPET_CLOSE = '⟧';
/** Marks text cut off at either end of a snippet. */
export const SNIPPET_ELLIPSIS = '…';

export interface SearchHit {
  messageId: number;
  sessionId: string;
  sessionTitle: string;
  role: MessageRole;
  /** Single-line excerpt with matches between SNIPPET_OPEN and SNIPPET_CLOSE. */
  snippet: string;
  createdAt: string;
  runId?: string;
}
