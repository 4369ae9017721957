import { z } from 'zod';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';
import type { Tool, ToolContext, ToolResult } from './types.js';

/** What a tool's body returns; the wrapper adds the activity text. */
export interface Outcome {
  output: string;
  isError?: boolean;
  /** Passed through as the result's `details`. */
  details?: Record<string, unknown>;
}

export function failure(output: string): Outcome {
  return { output, isError: true };
}

interface Definition<S extends z.ZodObject> {
  name: string;
  description: string;
  schema: S;
  activity(args: z.output<S>): string;
  run(args: z.output<S>, context: ToolContext): Promise<Outcome>;
}

/**
 * Wraps a tool body so that argument validation, cancellation and unexpected exceptions all come
 * back as results the model can read; the agent loop never has to catch anything.
 */
export function defineTool<S extends z.ZodObject>(definition: Definition<S>): Tool {
  const { name, schema } = definition;
  const accepted = Object.keys(schema.shape);
  return {
    name,
    description: definition.description,
    parameters: jsonSchemaOf(schema),
    async execute(rawArgs: unknown, context: ToolContext): Promise<ToolResult> {
      // Providers hand over unparseable argument text as `{ __invalidJson }` (parseToolArguments):
      // say so, rather than "unknown argument __invalidJson", so the model can resend it whole.
      const invalidJson = (rawArgs as { __invalidJson?: unknown } | null)?.__invalidJson;
      if (typeof invalidJson === 'string') {
        const shown = invalidJson.length > 200 ? `${invalidJson.slice(0, 200)}…` : invalidJson;
        return {
          output: `Invalid arguments for ${name}: they were not valid JSON (${JSON.stringify(shown)}). Call ${name} again with the arguments as one complete JSON object.`,
          isError: true,
          activity: `${name}: invalid arguments`,
        };
      }
      const parsed = schema.safeParse(normalizeArgs(rawArgs));
      if (!parsed.success) {
        return {
          output: `Invalid arguments for ${name}: ${formatIssues(parsed.error.issues, accepted)}`,
          isError: true,
          activity: `${name}: invalid arguments`,
        };
      }
      const activity = definition.activity(parsed.data);
      const cancelled = { output: `${name} was cancelled`, isError: true, activity };
      if (context.signal.aborted) return cancelled;
      try {
        const outcome = await definition.run(parsed.data, context);
        return { output: capOutput(outcome.output), isError: outcome.isError ?? false, activity, ...(outcome.details ? { details: outcome.details } : {}) };
      } catch (error) {
        if (context.signal.aborted) return cancelled;
        const message = error instanceof Error ? error.message : String(error);
        return { output: `${name} failed: ${message}`, isError: true, activity };
      }
    },
  };
}

/**
 * Most a tool result may put in front of the model (about 8,000 tokens): one grep over a large
 * tree or one long read must not push the request out of a local model's context.
 */
export const MAX_TOOL_OUTPUT_CHARS = 30_000;

/**
 * Head and tail of an output over the cap, cut at line breaks, with a note of what was left out
 * and how to see it: the start says what the output is, the end usually how it ended.
 */
export function capOutput(output: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  if (output.length <= max) return output;
  const headEnd = lineBreakBefore(output, Math.floor(max * 0.7));
  const tailStart = lineBreakAfter(output, output.length - Math.floor(max * 0.3));
  if (tailStart <= headEnd) return output;
  const cut = output.slice(headEnd, tailStart);
  const lines = cut.split('\n').length - 1;
  const note = `[… ${lines} lines (${cut.length} characters) cut from the middle of this output to keep the context small; to see them, ask for less at once (read_file with offset and limit, a narrower grep pattern or path) …]`;
  const head = output.slice(0, headEnd);
  return `${head}${head.endsWith('\n') ? '' : '\n'}${note}\n${output.slice(tailStart)}`;
}

/** Offset just after the last line break before `at` (or `at` when the line is very long). */
function lineBreakBefore(text: string, at: number): number {
  const index = text.lastIndexOf('\n', at);
  return index > at / 2 ? index + 1 : at;
}

/** Offset just after the first line break at or after `at`. */
function lineBreakAfter(text: string, at: number): number {
  const index = text.indexOf('\n', at);
  return index === -1 || index - at > 2000 ? at : index + 1;
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('cancelled');
}

// Some providers hand over the raw JSON text, and a call without arguments may arrive as null.
function normalizeArgs(rawArgs: unknown): unknown {
  if (rawArgs === undefined || rawArgs === null) return {};
  if (typeof rawArgs === 'string') {
    try {
      return JSON.parse(rawArgs) as unknown;
    } catch {
      return rawArgs;
    }
  }
  return rawArgs;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], accepted: string[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((key) => `"${key}"`).join(', ');
        return `unknown argument ${keys}; this tool accepts: ${accepted.join(', ')}`;
      }
      if (field === '') return `the arguments must be a JSON object (${issue.message})`;
      if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
        return `"${field}" is required (${issue.expected})`;
      }
      return `"${field}": ${issue.message}`;
    })
    .join('; ');
}

function jsonSchemaOf(schema: z.ZodObject): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  return stripSafeIntegerBounds(json) as Record<string, unknown>;
}

// `.int()` adds ±2^53 bounds that only add noise to the prompt.
function stripSafeIntegerBounds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSafeIntegerBounds);
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if ((key === 'maximum' || key === 'minimum') && Math.abs(inner as number) === Number.MAX_SAFE_INTEGER) continue;
    result[key] = stripSafeIntegerBounds(inner);
  }
  return result;
}

/**
 * Tools may read git's internals but never stage changes to them. Every spelling of the path is
 * judged: as written and, when given, as it resolves through symlinks (`gl/config` with
 * `gl -> .git` is `.git/config`).
 */
export function gitDirectoryRefusal(relativePath: string, realRelativePath?: string): string | undefined {
  if (isInGitDirectory(relativePath)) return `${relativePath} is inside a .git directory; the agent does not change git's internal files.`;
  if (realRelativePath !== undefined && isInGitDirectory(realRelativePath)) {
    return `${relativePath} leads through a symbolic link to ${realRelativePath}, inside a .git directory; the agent does not change git's internal files.`;
  }
  return undefined;
}

/**
 * Case-insensitive (on macOS and Windows `.GIT/hooks` is `.git/hooks`), and trailing dots and
 * spaces are ignored as Windows ignores them (`.git.` names `.git` there).
 */
function isInGitDirectory(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((segment) => segment.toLowerCase().replace(/[. ]+$/, '') === '.git');
}

/**
 * Why a resolved path may not be staged, or undefined: inside .git (as written or as resolved),
 * a protected file (by name or through a link), or a file with several hard links.
 */
export function stagingRefusal(workspace: WorkspaceFiles, target: { absolutePath: string; relativePath: string; realPath: string; realRelativePath: string }): string | undefined {
  return (
    gitDirectoryRefusal(target.relativePath, target.realRelativePath) ??
    workspace.protectedReason(target.absolutePath) ??
    workspace.writeRefusal(target.realPath)
  );
}
