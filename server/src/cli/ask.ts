import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { AskRequest } from '../agent/agent.js';
import { confirmApply } from './approve-prompt.js';
import { CliError, type CliContext } from './context.js';
import { sessionToContinue } from './continue-session.js';
import type { Register } from './subcommand.js';
import { RunRenderer } from './render.js';
import { applyAndReport, printProposal, runTurn, sigintRouter } from './turn.js';

interface AskOptions {
  file?: string;
  lines?: { start: number; end: number };
  provider?: string;
  session?: string;
  yes?: boolean;
  run?: string;
}

function parseLines(value: string): { start: number; end: number } {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected A:B (1-based line numbers), e.g. 10:25');
  const start = Number(match[1]);
  const end = Number(match[2] ?? match[1]);
  if (start < 1 || end < start) throw new InvalidArgumentError('expected 1 <= A <= B');
  return { start, end };
}

export const registerAsk: Register = (program, context) => {
  program
    .command('ask')
    .description('run one agent turn on the workspace in the current directory and review its proposal')
    .argument('<instruction...>', 'what the agent should do')
    .option('-f, --file <path>', 'the file the request is about (given to the model as context)')
    .option('-l, --lines <A:B>', 'the selected lines of --file, 1-based and inclusive', parseLines)
    .option('-p, --provider <name>', 'a configured provider (default: defaultProvider)')
    .option('-s, --session <id>', 'continue a stored session')
    .option('-y, --yes', 'apply the proposal without asking')
    .option('-r, --run <command>', 'run this command first (under the command policy) and give its output to the agent')
    .action(async (words: string[], options: AskOptions) => {
      const instruction = words.join(' ');
      // `ask ""` would otherwise cost a model call and leave an untitled session behind.
      if (instruction.trim() === '') throw new CliError('ask: the instruction is empty; say what the agent should do, e.g. codebench ask "explain main.py"', 2);
      process.exitCode = await runAsk(context, instruction, options);
    });
};

function selectionOf(filePath: string, lines: { start: number; end: number }): AskRequest['selection'] {
  const text = readFileSync(filePath, 'utf8').split('\n');
  // A final newline ends the last line; it does not start another one.
  if (text.length > 1 && text.at(-1) === '') text.pop();
  if (lines.start > text.length) throw new CliError(`--lines: ${filePath} has only ${text.length} lines`, 2);
  const end = Math.min(lines.end, text.length);
  return { startLine: lines.start - 1, endLine: end - 1, text: text.slice(lines.start - 1, end).join('\n') };
}

async function runAsk(context: CliContext, instruction: string, options: AskOptions): Promise<number> {
  let filePath: string | undefined;
  if (options.file) {
    filePath = resolve(context.cwd, options.file);
    try {
      if (!statSync(filePath).isFile()) throw new Error('not a file');
    } catch {
      throw new CliError(`--file: ${options.file} is not a readable file`, 2);
    }
  } else if (options.lines) {
    throw new CliError('--lines needs --file', 2);
  }
  if (options.run !== undefined && options.run.trim() === '') throw new CliError('--run: the command is empty; give the command to run first, e.g. --run "npm test"', 2);
  // Short ids, as `history list` prints them, work here too; the agent wants the full id.
  const session = options.session === undefined ? {} : await sessionToContinue(context, await context.runtime().store(), options.session, '--session');
  const renderer = new RunRenderer(context.io, context.env);
  const interrupts = sigintRouter(() => process.exit(130));
  try {
    const outcome = await runTurn(
      context,
      {
        instruction,
        filePath,
        selection: filePath && options.lines ? selectionOf(filePath, options.lines) : undefined,
        provider: options.provider,
        ...session,
        ...(options.run !== undefined ? { run: options.run } : {}),
      },
      renderer,
      interrupts,
    );
    // A first ask that failed unanswered leaves no session behind: no id to print.
    if (!outcome.discardedSession) context.io.stderr.write(renderer.colors.dim(`session ${outcome.sessionId}\n`));
    if (outcome.status === 'cancelled') return 130;
    if (outcome.status === 'failed') return 1;
    if (!outcome.proposal) return 0;
    printProposal(context, renderer, outcome.proposal);
    if (options.yes) return (await applyAndReport(context, outcome.proposal)) ? 0 : 1;
    if (!context.isInteractive) {
      await context.runtime().agent.proposals.settle(outcome.proposal.id, 'discarded', 'not applied: no terminal to confirm and no --yes');
      context.io.stderr.write('not applied (no terminal to confirm); rerun with --yes to apply\n');
      return 0;
    }
    // The default is said out loud: Enter alone discards.
    const answer = await confirmApply(context, 'Apply these changes? [a]pply / [d]iscard (default: discard): ');
    if (answer) return (await applyAndReport(context, outcome.proposal)) ? 0 : 1;
    await context.runtime().agent.proposals.settle(outcome.proposal.id, 'discarded');
    context.io.stderr.write('discarded\n');
    return 0;
  } finally {
    interrupts.dispose();
  }
}

