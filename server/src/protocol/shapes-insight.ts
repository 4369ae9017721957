/**
 * Shapes of undo, provenance and usage (issue 18): what an agent change can be taken back with,
 * who wrote a line, what the model calls cost. Part of shapes.ts (re-exported there).
 */

/** `codebench.undo` arguments[0]. */
export interface UndoParams {
  /** Default: the most recently applied proposal of the workspace (of the active document, else the first folder). */
  proposalId?: string;
}

export interface UndoResult {
  /** `nothing`: no applied proposal to undo (or it is already reverted). */
  status: 'reverted' | 'conflict' | 'nothing';
  proposalId?: string;
  /** Workspace-relative paths the revert changed (or would have, for a conflict). */
  files?: string[];
  /** One line for the user: what was reverted, or which file and lines conflict. */
  message: string;
}

export interface ProvenanceParams {
  uri: string;
  /** 0-based, as in LSP. */
  line: number;
}

export interface ProvenanceInfo {
  instruction: string;
  sessionId: string;
  runId: string;
  proposalId: string;
  provider: string;
  model: string;
  appliedAt: string;
}

export interface ProvenanceResult {
  provenance: ProvenanceInfo | null;
}

export type UsageGrouping = 'provider' | 'model' | 'day' | 'session';

export interface UsageParams {
  /** `7d`, `24h`, `90m`, or an ISO-8601 date or time; default `30d`. */
  since?: string;
  /** Default `day` (UTC days). */
  by?: UsageGrouping;
}

export interface UsageFigures {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** USD, unrounded; 0 for local providers and for providers without a configured price. */
  costUsd: number;
}

export interface UsageRow extends UsageFigures {
  /** The provider name, `provider/model`, the UTC day (`2026-12-01`) or the session id. */
  key: string;
}

export interface UsageResult {
  /** Ordered by key (days oldest first); only keys with at least one model call. */
  rows: UsageRow[];
  totals: UsageFigures;
}

/** `codebench/runs`: what each run of a session did, for a reopened transcript. */
export interface RunsParams {
  sessionId: string;
}

export interface RunSteps {
  id: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
  /** Oldest first: one phrase per tool call ("read src/a.ts", "ran `npm test` → exit 1"); repeats counted. */
  steps: string[];
}

export interface RunsResult {
  /** Oldest first; empty for a teammate's session (tool calls are not shared). */
  runs: RunSteps[];
}

/** `codebench/providers`: the configured providers, from the config alone (no network). */
export type ProvidersParams = Record<string, never>;

export interface ProviderInfo {
  name: string;
  kind: string;
  /** The configured model; absent for a CLI datasource that uses its own default. */
  model?: string;
}

export interface ProvidersResult {
  defaultProvider: string;
  providers: ProviderInfo[];
}
