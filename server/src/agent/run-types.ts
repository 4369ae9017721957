import type { Usage } from '../providers/types.js';
import type { AskRequest } from './agent.js';
import type { CommandGate } from './command-gate.js';
import type { StagedChange } from './overlay.js';
import type { SensitiveFiles } from './secrets.js';
import type { OpenDocuments } from './workspace.js';

/** What a driver (built-in loop or CLI agent) gets to work with. */
export interface RunContext {
  runId: string;
  sessionId: string;
  request: AskRequest;
  history: Array<{ role: string; content: string }>;
  documents: OpenDocuments;
  signal: AbortSignal;
  /** Policy, approval and audit for run_command (built-in driver only). */
  commands?: CommandGate;
  /** Files the agent never reads or copies (config `sensitiveFiles` + built-ins); built-ins when absent. */
  sensitive?: SensitiveFiles;
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
}
