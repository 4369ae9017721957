import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import * as commands from './commands.js';
import type { AuditEntry, AuditRecord, CommandRuleRecord } from './commands.js';
import { openDatabase } from './database.js';
import * as memory from './memory.js';
import type { MemoryFactRecord } from './memory.js';
import * as messages from './messages.js';
import * as modelCapabilities from './model-capabilities.js';
import * as proposals from './proposals.js';
import * as provenance from './provenance.js';
import type {
  EarlierRun,
  MessageRecord,
  MessageRole,
  NewToolCall,
  ProposalFile,
  ProposalRecord,
  RunEnding,
  RunRecord,
  SearchHit,
  SessionRecord,
  ToolCallBrief,
  ToolCallRecord,
  WorkspaceRecord,
} from './records.js';
import * as runs from './runs.js';
import type { Database } from './schema.js';
import { findIdsByPrefix, lookupByPrefix, type PrefixLookup } from './id-prefix.js';
import * as sessions from './sessions.js';
import { SyncTables } from './sync-store.js';
import { teamEarlierRuns } from './team-records.js';
import * as toolCalls from './tool-calls.js';
import * as usage from './usage.js';
import type { NewModelCall, UsageKeyKind, UsagePart } from './usage.js';
import * as workspaces from './workspaces.js';

export type * from './records.js';
export type * from './sync-records.js';
export type { SyncTables } from './sync-store.js';
export type { AuditEntry, AuditKind, AuditRecord, CommandRuleRecord } from './commands.js';
export type { MemoryFactRecord } from './memory.js';
export type { PrefixLookup } from './id-prefix.js';
export type { AppliedProposalOfFile } from './provenance.js';
export type { NewModelCall, UsageKeyKind, UsagePart } from './usage.js';
export { SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_OPEN } from './records.js';
export { preview as messagePreview } from './messages.js';

/**
 * The agent's history: one SQLite file per user, shared by every editor window. Every method is
 * async for the callers' sake but runs synchronously underneath (better-sqlite3), so each call
 * blocks the event loop for its duration; all queries here are index-bounded.
 *
 * Load this module lazily (after `initialize` is answered): kysely alone costs ~40 ms at start-up.
 */
export class Store {
  private closed = false;
  /** Team sync's outbox, teammates' records and sync state (sync-store.ts). */
  readonly sync: SyncTables;

  private constructor(
    /** Absolute path of the database file. */
    readonly file: string,
    private readonly sqlite: SQLite.Database,
    private readonly db: Kysely<Database>,
  ) {
    this.sync = new SyncTables(sqlite, db);
  }

  /** Opens or creates the file and migrates it to the latest schema. */
  static async open(file: string): Promise<Store> {
    const opened = await openDatabase(file);
    return new Store(opened.file, opened.sqlite, opened.db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }

  ensureWorkspace(uri: string): Promise<WorkspaceRecord> {
    return workspaces.ensureWorkspace(this.db, uri);
  }

  /** `id` re-creates a session under an id handed out earlier (one deleted as unanswered). */
  createSession(input: { workspaceUri: string; title: string; provider: string; id?: string; continuesSessionId?: string }): Promise<SessionRecord> {
    return sessions.createSession(this.db, input);
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return sessions.getSession(this.db, id);
  }

  /** Most recently active first; default limit 50. */
  listSessions(input: { workspaceUri?: string; limit?: number } = {}): Promise<SessionRecord[]> {
    return sessions.listSessions(this.db, input);
  }

  setSessionTitle(id: string, title: string): Promise<void> {
    return sessions.setSessionTitle(this.db, id, title);
  }

  /** Deletes the session only if it holds nothing but user messages (see sessions.ts); true when deleted. */
  async deleteSessionIfUnanswered(id: string): Promise<boolean> {
    return sessions.deleteSessionIfUnanswered(this.db, this.sqlite, id);
  }

  /** True when the session existed. Its messages, runs, tool calls and proposals go with it. */
  deleteSession(id: string): Promise<boolean> {
    return sessions.deleteSession(this.db, id);
  }

  /** Also bumps the session's updatedAt, messageCount and lastMessagePreview, atomically. */
  async addMessage(input: {
    sessionId: string;
    runId?: string;
    role: MessageRole;
    content: string;
  }): Promise<MessageRecord> {
    return messages.addMessage(this.db, this.sqlite, input);
  }

  /** Oldest first. */
  recentMessages(sessionId: string, limit: number): Promise<MessageRecord[]> {
    return messages.recentMessages(this.db, sessionId, limit);
  }

  /** Oldest first; `before` (a message id) and `limit` select the page that ends just before it. */
  listMessages(sessionId: string, page: { limit?: number; before?: number } = {}): Promise<MessageRecord[]> {
    return messages.listMessages(this.db, sessionId, page);
  }

  /**
   * Newest first; every word must occur (a trailing `*` makes a prefix). Any input is safe, and
   * blank input returns []. Default limit 20.
   */
  searchMessages(input: { query: string; limit?: number; workspaceUri?: string }): Promise<SearchHit[]> {
    return messages.searchMessages(this.db, input);
  }

  /** Starts in status 'running'. */
  createRun(input: { sessionId: string; provider: string; model: string; instruction: string }): Promise<RunRecord> {
    return runs.createRun(this.db, input);
  }

  finishRun(id: string, input: RunEnding): Promise<void> {
    return runs.finishRun(this.db, id, input);
  }

  /** Call once at start-up, before starting runs. Returns how many runs were marked. */
  markInterruptedRuns(): Promise<number> {
    return runs.markInterruptedRuns(this.db);
  }

  /** For an 'exit' handler: marks this process's running runs interrupted, synchronously. */
  interruptOwnRunsSync(): number {
    return this.closed ? 0 : runs.interruptOwnRunsSync(this.sqlite);
  }

  lastExternalSessionId(sessionId: string, provider: string): Promise<string | undefined> {
    return runs.lastExternalSessionId(this.db, sessionId, provider);
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    return runs.getRun(this.db, id);
  }

  /** Oldest first. */
  listRuns(sessionId: string): Promise<RunRecord[]> {
    return runs.listRuns(this.db, sessionId);
  }

  /**
   * What a follow-up ask remembers of a session: its newest `limit` runs, oldest first, each with
   * its final text, tool calls (results cut to their ends) and proposal fate, and how many older
   * runs were left out.
   */
  async earlierRuns(sessionId: string, limit: number): Promise<{ runs: EarlierRun[]; olderRuns: number }> {
    const recent = await runs.recentRuns(this.db, sessionId, limit);
    const ids = recent.runs.map((run) => run.id);
    const [answers, calls, fates] = await Promise.all([
      messages.answersOfRuns(this.db, ids),
      toolCalls.toolCallBriefs(this.db, ids),
      proposals.proposalFatesOfRuns(this.db, ids),
    ]);
    const own = recent.runs.map((run) => ({ run, answer: answers.get(run.id) ?? '', toolCalls: calls.get(run.id) ?? [], proposals: fates.get(run.id) ?? [] }));
    // A session that continues a teammate's starts from their turns (read-only copies).
    const continued = recent.total < limit ? (await this.getSession(sessionId))?.continuesSessionId : undefined;
    const team = continued ? teamEarlierRuns(this.sqlite, continued, limit - own.length) : { runs: [], olderRuns: 0 };
    return { runs: [...team.runs, ...own], olderRuns: recent.total - recent.runs.length + team.olderRuns };
  }

  recordToolCall(input: NewToolCall): Promise<void> {
    return toolCalls.recordToolCall(this.db, input);
  }

  /** Each run's tool calls, oldest first, with the start and end of their results only. */
  toolCallBriefsOfRuns(runIds: readonly string[]): Promise<Map<string, ToolCallBrief[]>> {
    return toolCalls.toolCallBriefs(this.db, runIds);
  }

  listToolCalls(runId: string): Promise<ToolCallRecord[]> {
    return toolCalls.listToolCalls(this.db, runId);
  }

  /** One model call's tokens (and a CLI's own cost), kept even after its session is deleted. */
  recordModelCall(input: NewModelCall): Promise<void> {
    return usage.recordModelCall(this.db, input);
  }

  /** Token sums of calls at or after `since` (ISO-8601), per key and per provider and model within it; one session's with `sessionId`. */
  usageSince(input: { since: string; by: UsageKeyKind; sessionId?: string }): Promise<UsagePart[]> {
    return usage.usageSince(this.db, input);
  }

  /** The session's newest model call, undefined before its first. */
  lastModelCall(sessionId: string): ReturnType<typeof usage.lastModelCall> {
    return usage.lastModelCall(this.db, sessionId);
  }

  /** Starts in status 'proposed'. */
  createProposal(input: {
    runId: string;
    sessionId: string;
    summary: string;
    files: ProposalFile[];
    diff: string;
    evidence?: ProposalRecord['evidence'];
  }): Promise<ProposalRecord> {
    return proposals.createProposal(this.db, input);
  }

  /** Stamps decidedAt; throws for an unknown id. */
  setProposalStatus(id: string, status: Exclude<ProposalRecord['status'], 'proposed'>, detail?: string): Promise<void> {
    return proposals.setProposalStatus(this.db, id, status, detail);
  }

  getProposal(id: string): Promise<ProposalRecord | undefined> {
    return proposals.getProposal(this.db, id);
  }

  /** Applied (or unconfirmed) proposals, most recently decided first; of one workspace or of all. */
  recentlyAppliedProposals(input: { workspaceUri?: string; limit: number }): Promise<ProposalRecord[]> {
    return proposals.recentlyAppliedProposals(this.db, input);
  }

  /** A proposal by full id or unique prefix (what `history show` prints, 8 characters). */
  findProposal(reference: string): Promise<PrefixLookup<ProposalRecord>> {
    return lookupByPrefix(reference, {
      get: (id) => proposals.getProposal(this.db, id),
      idsByPrefix: (prefix, limit) => proposals.proposalIdsByPrefix(this.db, prefix, limit),
    });
  }

  /** Oldest first; `before` (a proposal id) and `limit` select the page that ends just before it. */
  listProposals(input: { sessionId?: string; runId?: string; limit?: number; before?: string }): Promise<ProposalRecord[]> {
    return proposals.listProposals(this.db, input);
  }

  /** The applied proposals that changed the file at `fileUri`, newest applied first (default at most 50), with their runs. */
  appliedProposalsOfFile(fileUri: string, limit?: number): Promise<provenance.AppliedProposalOfFile[]> {
    return provenance.appliedProposalsOfFile(this.db, fileUri, limit);
  }

  /** Command policy of one workspace, oldest first. */
  listCommandRules(workspaceUri: string): Promise<CommandRuleRecord[]> {
    return commands.listCommandRules(this.db, workspaceUri);
  }

  /** Idempotent: adding an existing rule returns it. */
  addCommandRule(input: { workspaceUri: string; kind: 'allow' | 'deny'; argv: string[] }): Promise<CommandRuleRecord> {
    return commands.addCommandRule(this.db, input);
  }

  removeCommandRule(workspaceUri: string, id: number): Promise<boolean> {
    return commands.removeCommandRule(this.db, workspaceUri, id);
  }

  /** Append-only: entries can never be changed or deleted. */
  appendAudit(entry: AuditEntry): Promise<void> {
    return commands.appendAudit(this.db, entry);
  }

  /** Newest first; all workspaces when none is given. */
  listAudit(input: { workspaceUri?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    return commands.listAudit(this.db, input);
  }

  sessionWorkspaceUri(sessionId: string): Promise<string | undefined> {
    return commands.sessionWorkspaceUri(this.db, sessionId);
  }

  /** How tools reach this provider's model, as learned from its server (e.g. "text" after it refused tools). */
  toolModeOf(provider: string, model: string): Promise<'native' | 'text' | undefined> {
    return modelCapabilities.toolModeOf(this.db, provider, model);
  }

  setToolMode(provider: string, model: string, tools: 'native' | 'text'): Promise<void> {
    return modelCapabilities.setToolMode(this.db, provider, model, tools);
  }

  /** Stores the text as given; agent/tools/remember.ts checks and scrubs it first. */
  addMemoryFact(input: { workspaceUri: string; text: string; runId?: string }): Promise<MemoryFactRecord> {
    return memory.addMemoryFact(this.db, input);
  }

  /** The workspace's project memory, oldest first. */
  listMemoryFacts(workspaceUri: string): Promise<MemoryFactRecord[]> {
    return memory.listMemoryFacts(this.db, workspaceUri);
  }

  /** A fact of any workspace by full id or unique prefix (ids are global, as `memory rm` types them). */
  findMemoryFact(reference: string): Promise<PrefixLookup<MemoryFactRecord>> {
    return lookupByPrefix(reference, {
      get: (id) => memory.getMemoryFact(this.db, id),
      idsByPrefix: (prefix, limit) => findIdsByPrefix(this.db, 'memory_facts', prefix, limit),
    });
  }

  /**
   * Forgets the fact a full id or unique prefix names: the removed fact, or why none was (not
   * found, too short, ambiguous). There is no way to change a fact: forget it and add another.
   */
  async removeMemoryFact(reference: string): Promise<PrefixLookup<MemoryFactRecord>> {
    const found = await this.findMemoryFact(reference);
    if (found.kind !== 'found') return found;
    return (await memory.removeMemoryFact(this.db, found.item.id)) ? found : { kind: 'not-found' };
  }
}
