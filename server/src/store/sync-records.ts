import type { SyncKind } from './schema.js';

/**
 * What team sync moves, in the shapes the server stores (camelCase here; server/src/sync maps them
 * to its columns). Only what a teammate needs to follow the work: no tool results, no file
 * contents beyond the proposal diffs, no command rules, no memory.
 */

export type { SyncKind };

export interface SharedSession {
  id: string;
  /** The workspace's team identity, e.g. github.com/acme/api. */
  workspace: string;
  title: string;
  provider: string;
  continuesSessionId?: string;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface SharedRun {
  id: string;
  sessionId: string;
  workspace: string;
  provider: string;
  model: string;
  instruction: string;
  status: string;
  error?: string;
  inputTokens?: number;
  outputTokens?: number;
  startedAt: string;
  firstTokenAt?: string;
  finishedAt?: string;
}

export interface SharedMessage {
  /** messages.uid: the id the server knows it by. */
  id: string;
  sessionId: string;
  runId?: string;
  workspace: string;
  role: string;
  content: string;
  createdAt: string;
}

export interface SharedProposal {
  id: string;
  runId: string;
  sessionId: string;
  workspace: string;
  status: string;
  summary: string;
  /** Parsed JSON (ProposalFile[]). */
  files: unknown;
  diff: string;
  detail?: string;
  /** Parsed JSON (CommandEvidence[]) or undefined. */
  evidence?: unknown;
  createdAt: string;
  decidedAt?: string;
}

/** A queued change as the outbox holds it. */
export interface OutboxEntry {
  seq: number;
  kind: SyncKind;
  recordId: string;
  op: 'upsert' | 'delete';
}

/**
 * The next slice of the outbox with the records it names, read in one snapshot. `entries` is
 * everything to acknowledge after the server committed: records that vanished or whose workspace
 * stopped being shared are in `entries` but not in the lists, so they simply leave the queue.
 */
export interface OutboxBatch {
  entries: OutboxEntry[];
  sessions: SharedSession[];
  runs: SharedRun[];
  messages: SharedMessage[];
  proposals: SharedProposal[];
  /** Sessions deleted here: delete them (and their runs, messages, proposals) on the server. */
  deletedSessions: string[];
}

/** A teammate's record as pulled: the shared shape plus its author (their database role). */
export type Authored<T> = T & { author: string };

export interface TeamRecords {
  /** `deletedAt` set: the author deleted the session; drop the local copy and its children. */
  sessions: Array<Authored<SharedSession> & { deletedAt?: string }>;
  runs: Array<Authored<SharedRun>>;
  messages: Array<Authored<SharedMessage>>;
  proposals: Array<Authored<SharedProposal>>;
}

/** A teammate's session as listed locally. */
export interface TeamSessionRecord {
  id: string;
  workspace: string;
  author: string;
  title: string;
  provider: string;
  continuesSessionId?: string;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface TeamMessageRecord {
  id: string;
  sessionId: string;
  runId?: string;
  author: string;
  role: string;
  content: string;
  createdAt: string;
}
