import type { Usage } from '../../providers/types.js';
import type { Approver } from '../commands/approvals.js';
import type { AskContext } from './prompt.js';
import type { CommandGate } from '../commands/gate.js';
import type { EarlierTurn } from '../history/follow-up.js';
import type { ProjectMemory } from '../tools/types.js';
import type { StagedChange } from '../workspace/overlay.js';
import type { SensitiveFiles } from '../workspace/secrets.js';
import type { OpenDocuments } from '../workspace/workspace-files.js';

/** One ask, as every front-end makes it (Agent.ask's input). */
export interface AskRequest {
  /** Identifies the workspace in history (an LSP folder URI, or a file URI of the directory). */
  workspaceUri: string;
  roots: string[];
  instruction: string;
  filePath?: string;
  selection?: AskContext['selection'];
  diagnostics?: AskContext['diagnostics'];
  provider?: string;
  sessionId?: string;
  /** With no sessionId: the new session continues this teammate's session (team sync's read-only copy). */
  continuesSessionId?: string;
  /** Asks the user before run_command runs something no rule allows; absent ⇒ such commands are denied. */
  approver?: Approver;
  /** A command to run before the first turn (a preset's `run`); its output goes to the model with the instruction. */
  run?: string;
}

/** One model call's tokens, by the provider and model that actually answered (for `codebench usage`). */
export interface ModelCall {
  provider: string;
  model: string;
  usage: Usage;
  /** A CLI's own cost figure (claude's total_cost_usd). */
  costUsd?: number;
}

/** What a driver (built-in loop or CLI agent) gets to work with. */
export interface RunContext {
  runId: string;
  sessionId: string;
  request: AskRequest;
  /** The session's earlier turns (the newest MAX_HISTORY_TURNS), oldest first; empty for its first ask. */
  history: EarlierTurn[];
  /** Turns older than `history`, not loaded: the model is told they are left out. */
  olderTurns?: number;
  documents: OpenDocuments;
  signal: AbortSignal;
  /** Policy, approval and audit for run_command (built-in driver only). */
  commands?: CommandGate;
  /** Where run_command's private copy lives and which dependency directories it shares (built-in driver only). */
  commandCopy?: { shadowsDirectory: string; sharedDirectories?: readonly string[] };
  /**
   * The workspace's project memory (facts the user or the `remember` tool stored), oldest first,
   * read from the store at each ask and rendered into every ask's context message.
   */
  memoryFacts?: Array<{ id: string; text: string }>;
  /** Where the `remember` tool stores facts (built-in driver only); without it the tool refuses. */
  memory?: ProjectMemory;
  /** Files the agent never reads or copies (config `sensitiveFiles` + built-ins); built-ins when absent. */
  sensitive?: SensitiveFiles;
  /** Told once per model call (never per token); records usage, and must not throw. */
  onModelCall?: (call: ModelCall) => void;
}

/** What a driver hands back; the agent turns it into history and a proposal the same way. */
export interface DriverResult {
  status: 'completed' | 'failed' | 'cancelled';
  text: string;
  error?: string;
  usage: Usage;
  firstTokenAt?: string;
  changes: StagedChange[];
  /** Appended to the summary, e.g. "stopped after 25 steps". */
  note?: string;
  externalSessionId?: string;
  /** "redacted 2 secrets (…) before sending to the model", recorded as a system message. */
  redactionNote?: string;
  /** Another provider of the fallback chain answered: it becomes the run's provider, `note` (why) a system message. */
  answeredBy?: { provider: string; model: string; note: string };
}
