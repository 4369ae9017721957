/**
 * What a run reports while it works. Front-ends (LSP progress, the opt-in stream notification,
 * ACP, the terminal client) all render this one stream; the core never formats for an editor.
 */

import type { CommandEvidence } from './proposals/evidence.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export type RunEvent =
  /** Model text; consecutive deltas may be coalesced by front-ends. */
  | { type: 'text'; text: string }
  | { type: 'tool-started'; callId: string; name: string; activity: string }
  | { type: 'tool-finished'; callId: string; name: string; activity: string; isError: boolean }
  /** Retries, waits and other things worth a line in progress but not in history. */
  | { type: 'notice'; message: string }
  /** `evidence`: the commands run after the last edit (see `evidenceOf`); absent when the run ran none. */
  | { type: 'proposal'; proposalId: string; summary: string; files: string[]; evidence?: CommandEvidence[] }
  | { type: 'finished'; status: Exclude<RunStatus, 'running'>; summary: string; error?: string };
