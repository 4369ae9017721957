import type { CommandEvidence } from '../../store/records.js';

export type { CommandEvidence };

/** The part of a tool-call record the evidence reads. */
export interface EvidenceCall {
  name: string;
  args: unknown;
  result: string;
  isError: boolean;
  details?: Record<string, unknown>;
}

const EDIT_TOOLS = new Set(['edit_file', 'write_file']);

/**
 * The commands run after the run's last edit, oldest first, with their exit codes: what the
 * proposal was checked with. An edit is a successful edit_file / write_file, or a command that
 * changed files (its `details.changedFiles`): such a command ran on the text before its own change,
 * so it proves nothing about the result. A command that was refused or could not start did not
 * run and is no evidence. Undefined when the run ran no command at all (there is nothing to say);
 * empty when commands ran, but only before the last edit.
 */
export function evidenceOf(calls: readonly EvidenceCall[]): CommandEvidence[] | undefined {
  let ranAny = false;
  let sinceLastEdit: CommandEvidence[] = [];
  for (const call of calls) {
    if (EDIT_TOOLS.has(call.name)) {
      if (!call.isError) sinceLastEdit = [];
      continue;
    }
    if (call.name !== 'run_command') continue;
    const exitCode = exitCodeOf(call);
    if (exitCode === undefined) continue;
    ranAny = true;
    if (changedFiles(call)) {
      sinceLastEdit = [];
      continue;
    }
    const command = (call.args as { command?: unknown } | null)?.command;
    sinceLastEdit.push({ command: typeof command === 'string' ? command : '(command)', exitCode });
  }
  return ranAny ? sinceLastEdit : undefined;
}

/**
 * The exit code a command ended with: run_command's `details.exitCode` when it gives one, else read
 * from the start of its result ("The command exited with code N after …"). Null when it ran but
 * did not finish; undefined when it did not run.
 */
export function exitCodeOf(call: Pick<EvidenceCall, 'result' | 'details'>): number | null | undefined {
  const detail = call.details?.exitCode;
  if (typeof detail === 'number' || detail === null) return detail;
  const exited = /^The command exited with code (-?\d+) after/.exec(call.result);
  if (exited) return Number(exited[1]);
  if (/^The command (was stopped|was killed|was cancelled) /.test(call.result)) return null;
  return undefined;
}

function changedFiles(call: EvidenceCall): boolean {
  const changed = call.details?.changedFiles;
  return Array.isArray(changed) ? changed.length > 0 : typeof changed === 'number' && changed > 0;
}

/**
 * Collects a run's tool calls as they finish, keeping only what `evidenceOf` reads (a result's
 * start says how a command ended; whole results can be long).
 */
export class EvidenceRecorder {
  private readonly calls: EvidenceCall[] = [];

  record(call: EvidenceCall): void {
    this.calls.push({ name: call.name, args: call.args, result: call.result.slice(0, 200), isError: call.isError, details: call.details });
  }

  evidence(): CommandEvidence[] | undefined {
    return evidenceOf(this.calls);
  }
}

/** "a.ts (+1 −1); npm test passed after the last edit", or the summary alone when no command ran. */
export function withEvidence(summary: string, evidence: readonly CommandEvidence[] | undefined): string {
  const checked = describeEvidence(evidence);
  return checked === undefined ? summary : `${summary}; ${checked}`;
}

const MAX_COMMAND_CHARS = 60;
const MAX_LISTED = 5;

/**
 * The evidence in one sentence for a review: "npm test passed after the last edit", "npm test
 * failed (exit 1) after the last edit", "no command was run after the last edit"; undefined when
 * the run ran no command.
 */
export function describeEvidence(evidence: readonly CommandEvidence[] | undefined): string | undefined {
  if (evidence === undefined) return undefined;
  if (evidence.length === 0) return 'no command was run after the last edit';
  if (evidence.length === 1) return `${outcomeOf(evidence[0]!)} after the last edit`;
  const listed = evidence.slice(-MAX_LISTED).map(outcomeOf);
  const more = evidence.length - listed.length;
  return `after the last edit: ${more > 0 ? `${more} earlier command${more === 1 ? '' : 's'}, then ` : ''}${listed.join(', ')}`;
}

function outcomeOf({ command, exitCode }: CommandEvidence): string {
  const single = command.replace(/\s+/g, ' ').trim();
  const shown = single.length > MAX_COMMAND_CHARS ? `${single.slice(0, MAX_COMMAND_CHARS - 1)}…` : single;
  if (exitCode === 0) return `${shown} passed`;
  if (exitCode === null) return `${shown} did not finish`;
  return `${shown} failed (exit ${exitCode})`;
}
