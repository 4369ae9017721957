import type { Usage } from '../providers/types.js';
import type { AskRequest } from './agent.js';
import type { StagedChange } from './overlay.js';
import type { OpenDocuments } from './workspace.js';

/** What a driver (built-in loop or CLI agent) gets to work with. */
export interface RunContext {
  runId: string;
  sessionId: string;
  request: AskRequest;
  history: Array<{ role: string; content: string }>;
  documents: OpenDocuments;
  signal: AbortSignal;
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
}
