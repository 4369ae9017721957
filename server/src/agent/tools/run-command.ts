import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { runProcess, type ProcessResult } from '../commands/exec.js';
import { parseCommand } from '../commands/parse.js';
import type { PolicyContext } from '../commands/policy.js';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';
import { defineTool, failure, gitDirectoryRefusal, type Outcome } from './define.js';

const schema = z.strictObject({
  command: z.string().min(1).max(8000).describe('The shell command line, e.g. "npm test" or "npx tsc --noEmit".'),
  cwd: z.string().min(1).optional().describe('Working directory relative to the workspace root (default: the root).'),
  timeout: z.number().positive().optional().describe('Time limit in seconds (default 120; capped by the user\'s configuration).'),
});

export const runCommandTool = defineTool({
  name: 'run_command',
  description: [
    'Run a command in the workspace (tests, builds, linters, type checks) and get its exit code and output.',
    'The user approves each command unless their policy already allows it; a denied or unanswered command does not run, so do not retry it: say what you wanted to run and why.',
    'Commands see the files on disk, not the edits you staged in this run.',
    'Long output is shortened to its beginning and end. Keep commands non-interactive (no prompts, no watchers).',
  ].join(' '),
  schema,
  activity: (args) => `running ${args.command.length > 60 ? `${args.command.slice(0, 57)}…` : args.command}`,
  async run(args, { workspace, signal, commands }) {
    const cwd = resolveDirectory(workspace, args.cwd ?? '.');
    if (typeof cwd !== 'string') return failure(cwd.error);
    if (commands === undefined) {
      return failure('Commands cannot run in this session (there is no way to ask the user for approval). Tell the user which command to run instead.');
    }

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
    const result = await runProcess({ run, cwd, env: commands.env, timeoutMs, outputLimit: limits.outputLimitBytes, signal });
    await commands.recordRun(args.command, cwd, result);
    return describe(result, timeoutMs, workspace.relativePath(cwd));
  },
});

/**
 * The working directory must be an existing directory inside the workspace and outside .git, as
 * written and once symlinks are followed (`gl -> .git`, then `cwd: "gl"` would run inside .git).
 */
function resolveDirectory(workspace: WorkspaceFiles, input: string): string | { error: string } {
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
  return resolved.absolutePath;
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
  };
}

