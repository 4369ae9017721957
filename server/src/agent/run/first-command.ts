import { exitCodeOf } from '../proposals/evidence.js';
import { runCall, type CallOptions } from './loop.js';
import type { AskContext } from './prompt.js';

/**
 * A project action's command (a preset's `run`, `AskParams.run`, `codebench ask --run`), run
 * before the model's first turn through the run_command tool itself: the same policy, approval,
 * time limit, output cap, audit record and progress events as a command the model asks for, and
 * recorded as the run's first tool call. What it printed (or why it did not run) goes to the model
 * with the instruction.
 */
export async function runFirstCommand(command: string, options: CallOptions, now: () => Date = () => new Date()): Promise<NonNullable<AskContext['firstCommand']>> {
  const result = await runCall(options, { id: 'first_command', name: 'run_command', args: { command } }, now);
  const exitCode = exitCodeOf({ result: result.output, details: result.details });
  return exitCode === undefined ? { command, ran: false, output: result.output } : { command, ran: true, exitCode, output: result.output };
}
