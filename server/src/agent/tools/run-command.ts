import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { runProcess, type ProcessResult } from '../commands/exec.js';
import { parseCommand } from '../commands/parse.js';
import type { PolicyContext } from '../commands/policy.js';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';
import { defineTool, failure, gitDirectoryRefusal, type Outcome } from './define.js';
import { plural } from './text.js';
import type { CommandChanges } from './types.js';

const schema = z.strictObject({
  command: z.string().min(1).max(8000).describe('The shell command line, e.g. "npm test" or "npx tsc --noEmit".'),
  cwd: z.string().min(1).optional().describe('Working directory relative to the workspace root (default: the root).'),
  timeout: z.number().positive().optional().describe('Time limit in seconds (default 120; capped by the user\'s configuration).'),
});

export const runCommandTool = defineTool({
  name: 'run_command',
  description: [
    'Run a command (tests, builds, linters, type checks); returns its exit code and output.',
    'The user approves each command unless their policy allows it; a denied or unanswered command does not run: do not retry it, say what you wanted to run and why.',
    'It runs in a private copy holding the edits you staged, so you can test your change before proposing it.',
    'Files it changes there (formatters, generators, snapshots) become staged edits; ignored outputs are dropped; deletions are not proposed. node_modules, .venv, target and similar are the user\'s own.',
    'Long output is cut to its start and end. Keep commands non-interactive.',
  ].join(' '),
  schema,
  activity: (args) => `running ${args.command.length > 60 ? `${args.command.slice(0, 57)}…` : args.command}`,
  async run(args, { workspace, signal, commands, commandWorkspace }) {
    const directory = resolveDirectory(workspace, args.cwd ?? '.');
    if ('error' in directory) return failure(directory.error);
    const cwd = directory.absolutePath;
    if (commands === undefined) {
      return failure('Commands cannot run in this session (there is no way to ask the user for approval). Tell the user which command to run instead.');
    }

    // Made while the policy is checked and the user is asked: the first command of a run does not
    // wait for the copy on top of the approval. A denied command leaves it for the next one.
    const copy = commandWorkspace?.prepare(signal, directory.root);
    copy?.catch(() => undefined);
    const parsed = await parseCommand(args.command);
    const policy: PolicyContext = { cwd, checkRedirectTarget: (target, from) => redirectRefusal(workspace, target, from) };
    const authorization = await commands.authorize(parsed, policy, signal);
    if (!authorization.allowed) {
      return failure(`The command was not run: ${authorization.message}. Do not run it another way; tell the user what you wanted to run and why.`);
    }

    const limits = commands.limits;
    const timeoutMs = Math.min(args.timeout === undefined ? limits.defaultTimeoutMs : args.timeout * 1000, limits.maxTimeoutMs);
    // Without a shell when the parse is the whole truth (argv = what the model wrote); with one,
    // the exact approved text goes to /bin/sh, never a re-quoted version of it.
    const run = parsed.ok && !parsed.needsShell ? { argv: parsed.commands[0]!.argv } : { script: args.command };
    let runIn = cwd;
    if (commandWorkspace !== undefined) {
      try {
        await copy;
        await commandWorkspace.sync();
        runIn = await commandWorkspace.directoryFor(directory.root, cwd, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        return failure(`The command was not run: its private copy of the workspace could not be prepared (${(error as Error).message}).`);
      }
    }
    const result = await runProcess({ run, cwd: runIn, env: commands.env, timeoutMs, outputLimit: limits.outputLimitBytes, signal });
    // The audit names the user's directory, as the approval did, and says where it really ran.
    await commands.recordRun(args.command, cwd, result, commandWorkspace ? { privateCopy: true } : {});
    const outcome = describe(result, timeoutMs, workspace.relativePath(cwd));
    if (commandWorkspace === undefined || result.spawnError) return outcome;
    const changes = await commandWorkspace.collectChanges().catch((error: unknown) => error as Error);
    if (changes instanceof Error) return { ...outcome, output: `${outcome.output}\nWhat the command changed could not be read back from the private copy (${changes.message}); nothing it changed is staged.` };
    return withChanges(outcome, changes);
  },
});

/**
 * What the command changed, appended for the model, and in `details.changedFiles` for the
 * proposal's evidence: a command that changed files is an edit (it ran on the text before).
 */
function withChanges(outcome: Outcome, changes: CommandChanges): Outcome {
  const notes: string[] = [];
  if (changes.staged.length > 0) {
    notes.push(`The command changed ${plural(changes.staged.length, 'file')}: ${listed(changes.staged)} (staged for the user's review like your edits; read_file shows the new text).`);
  }
  if (changes.skipped.length > 0) {
    notes.push(`Not taken into the proposal: ${listed(changes.skipped.map((entry) => `${entry.relativePath} (${entry.reason})`), '; ')}.`);
  }
  if (notes.length === 0) return outcome;
  return { ...outcome, output: `${outcome.output}\n${notes.join('\n')}`, details: { ...outcome.details, changedFiles: changes.staged } };
}

const MAX_LISTED_FILES = 20;

function listed(items: string[], separator = ', '): string {
  const shown = items.slice(0, MAX_LISTED_FILES).join(separator);
  return items.length > MAX_LISTED_FILES ? `${shown} and ${items.length - MAX_LISTED_FILES} more` : shown;
}

/**
 * The working directory must be an existing directory inside the workspace and outside .git, as
 * written and once symlinks are followed (`gl -> .git`, then `cwd: "gl"` would run inside .git).
 */
function resolveDirectory(workspace: WorkspaceFiles, input: string): { absolutePath: string; root: string } | { error: string } {
  const resolved = workspace.resolve(input);
  if (!resolved.ok) return { error: resolved.error };
  for (const relative of [resolved.relativePath, resolved.realRelativePath]) {
    if (gitDirectoryRefusal(relative) !== undefined) {
      const through = relative === resolved.relativePath ? '' : ` (${resolved.relativePath} leads there through a symbolic link)`;
      return { error: `${relative} is inside a .git directory${through}; commands do not run there.` };
    }
  }
  try {
    if (!statSync(resolved.absolutePath).isDirectory()) return { error: `cwd ${input} is not a directory.` };
  } catch {
    return { error: `cwd ${input} does not exist.` };
  }
  return resolved;
}

/** A redirection must stay in the workspace and out of .git, also through symlinks (`>> gl/config`). */
function redirectRefusal(workspace: WorkspaceFiles, target: string, cwd: string): string | undefined {
  const resolved = workspace.resolve(path.resolve(cwd, target));
  if (!resolved.ok) return `redirects to ${target}, which is outside the workspace`;
  for (const relative of [resolved.relativePath, resolved.realRelativePath]) {
    if (gitDirectoryRefusal(relative) !== undefined) return `redirects into ${relative} (git's internal files)${relative === resolved.relativePath ? '' : ` through the symbolic link ${resolved.relativePath}`}`;
  }
  return undefined;
}

function describe(result: ProcessResult, timeoutMs: number, where: string): Outcome {
  if (result.spawnError) return failure(`The command could not be started: ${result.spawnError}.`);
  const body = result.output.trim() === '' ? '(no output)' : result.output.trimEnd();
  const seconds = (result.durationMs / 1000).toFixed(1);
  let status: string;
  if (result.cancelled) status = 'was cancelled';
  else if (result.timedOut) status = `was stopped after the ${timeoutMs / 1000} s time limit`;
  else if (result.exitCode === undefined) status = `was killed by ${result.signal ?? 'a signal'}`;
  else status = `exited with code ${result.exitCode}`;
  return {
    output: `The command ${status} after ${seconds} s (in ${where}).\n${body}`,
    isError: result.exitCode !== 0,
    // For the proposal's evidence (proposals/evidence.ts): null when it did not finish.
    details: { exitCode: result.cancelled || result.timedOut ? null : (result.exitCode ?? null) },
  };
}

