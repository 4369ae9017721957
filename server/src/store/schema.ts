import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Row shapes exactly as SQLite stores them (snake_case, 0/1 booleans, JSON as text). Only the
 * repositories see these; everything outside `store/` uses the camelCase records in records.ts.
 *
 * Timestamps are ISO-8601 UTC strings with millisecond precision, so text order is time order.
 */

export type MessageRole = 'user' | 'assistant' | 'system';
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
/** `reverted`: applied, then taken back with undo (migration 0010); it can be applied again. */
export type ProposalStatus = 'proposed' | 'applied' | 'unconfirmed' | 'discarded' | 'conflict' | 'reverted';

export interface WorkspacesTable {
  id: Generated<number>;
  uri: string;
  created_at: string;
  /** The team identity (normalised git remote) while the workspace is shared; null otherwise (0008). */
  team_identity: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SessionsTable {
  id: string;
  workspace_id: number;
  title: string;
  provider: string;
  created_at: string;
  updated_at: string;
  /** Kept on the row (not counted from messages) so listing sessions never scans messages. */
  message_count: Generated<number>;
  last_message_preview: Generated<string>;
  /** The teammate's session this one continues (a team_sessions id), if any (0008). */
  continues_session_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MessagesTable {
  id: Generated<number>;
  session_id: string;
  run_id: string | null;
  role: MessageRole;
  content: string;
  created_at: string;
  /** Global id (UUID) the team server knows the message by (0008). */
  uid: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface RunsTable {
  id: string;
  session_id: string;
  provider: string;
  model: string;
  instruction: string;
  status: RunStatus;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  started_at: string;
  first_token_at: string | null;
  finished_at: string | null;
  /**
   * PID of the server process that started the run, so start-up recovery in one editor window
   * does not mark another live window's run as interrupted.
   */
  owner_pid: number | null;
  /** The CLI datasource's own session id (claude, codex), to resume it on a follow-up. */
  external_session_id: string | null;
}

export interface ToolCallsTable {
  id: Generated<number>;
  run_id: string;
  call_id: string;
  name: string;
  /** JSON text. */
  arguments: string;
  result: string;
  is_error: ColumnType<0 | 1, 0 | 1, 0 | 1>;
  started_at: string;
  finished_at: string;
}

export interface ProposalsTable {
  id: string;
  run_id: string;
  session_id: string;
  status: ProposalStatus;
  summary: string;
  /** JSON text: ProposalFile[]. */
  files: string;
  /** Unified diff. */
  diff: string;
  detail: string | null;
  created_at: string;
  decided_at: string | null;
  /** JSON text: CommandEvidence[]; null when the run ran no command (migration 0007). */
  evidence: ColumnType<string | null, string | null | undefined, string | null>;
}

export type AuditKind = 'command-asked' | 'command-approved' | 'command-denied' | 'command-run' | 'proposal-applied';

export interface CommandRulesTable {
  id: Generated<number>;
  workspace_uri: string;
  kind: 'allow' | 'deny';
  /** JSON text: string[]. */
  argv: string;
  created_at: string;
}

/** Append-only (triggers refuse UPDATE and DELETE). */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  workspace_uri: string;
  kind: AuditKind;
  session_id: string | null;
  run_id: string | null;
  subject: string;
  /** JSON text. */
  detail: string;
}

/** Keyed by provider name and model. */
export interface ModelCapabilitiesTable {
  provider: string;
  model: string;
  /** How tools reach this model: "text" once its server refused tools. */
  tools: 'native' | 'text';
  noted_at: string;
}

/** Project memory: one row per fact; rows are inserted and deleted, never updated (a trigger refuses). */
export interface MemoryFactsTable {
  id: string;
  workspace_uri: string;
  text: string;
  /** The run whose `remember` call stored it; null for a fact the user added. */
  run_id: string | null;
  created_at: string;
}

export type SyncKind = 'session' | 'run' | 'message' | 'proposal';

/** One queued change of a shared workspace's record (filled by triggers, migration 0008). */
export interface SyncOutboxTable {
  seq: Generated<number>;
  kind: SyncKind;
  /** sessions/runs/proposals id, or messages.uid. */
  record_id: string;
  op: 'upsert' | 'delete';
}

export interface SyncStateTable {
  key: string;
  value: string;
}

/** Teammates' records as pulled: read-only copies, no foreign keys (they arrive in any order). */
export interface TeamSessionsTable {
  id: string;
  workspace: string;
  author: string;
  title: string;
  provider: string;
  continues_session_id: string | null;
  message_count: number;
  created_at: string;
  updated_at: string;
}

export interface TeamRunsTable {
  id: string;
  session_id: string;
  author: string;
  provider: string;
  model: string;
  instruction: string;
  status: string;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  started_at: string;
  first_token_at: string | null;
  finished_at: string | null;
}

export interface TeamMessagesTable {
  id: string;
  session_id: string;
  run_id: string | null;
  author: string;
  role: string;
  content: string;
  created_at: string;
}

export interface TeamProposalsTable {
  id: string;
  run_id: string;
  session_id: string;
  author: string;
  status: string;
  summary: string;
  /** JSON text. */
  files: string;
  diff: string;
  detail: string | null;
  /** JSON text or null. */
  evidence: string | null;
  created_at: string;
  decided_at: string | null;
}

/** One model call's tokens (0009); no foreign keys, so spend outlives a deleted session. */
export interface ModelCallsTable {
  id: Generated<number>;
  run_id: string;
  session_id: string;
  workspace_uri: string;
  provider: string;
  model: string;
  /** Every prompt token, cached ones included. */
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  /** A CLI's own cost figure (claude's total_cost_usd); null when codebench prices the call. */
  reported_cost_usd: number | null;
  at: string;
}

export interface Database {
  workspaces: WorkspacesTable;
  sessions: SessionsTable;
  messages: MessagesTable;
  runs: RunsTable;
  tool_calls: ToolCallsTable;
  proposals: ProposalsTable;
  command_rules: CommandRulesTable;
  audit_log: AuditLogTable;
  model_capabilities: ModelCapabilitiesTable;
  memory_facts: MemoryFactsTable;
  sync_outbox: SyncOutboxTable;
  sync_state: SyncStateTable;
  team_sessions: TeamSessionsTable;
  team_runs: TeamRunsTable;
  team_messages: TeamMessagesTable;
  team_proposals: TeamProposalsTable;
  model_calls: ModelCallsTable;
}

export type WorkspaceRow = Selectable<WorkspacesTable>;
export type SessionRow = Selectable<SessionsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type RunRow = Selectable<RunsTable>;
export type ToolCallRow = Selectable<ToolCallsTable>;
export type ProposalRow = Selectable<ProposalsTable>;
export type NewRun = Insertable<RunsTable>;
