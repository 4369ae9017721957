import { z } from 'zod';
import { defineTool, failure, throwIfAborted } from './define.js';
import { RegexSearcher } from './grep-search.js';
import { suggestPaths } from './suggest.js';
import { cutLine, plural, splitLines } from './text.js';
import type { Tool } from './types.js';
import { globFilter, walkFiles, type WalkedFile } from './walk.js';

const MAX_MATCHES = 200;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_LINE_LENGTH = 300;

const schema = z.strictObject({
  pattern: z.string().min(1).describe('JavaScript regular expression, matched against each line, e.g. "function\\\\s+parse" or "TODO|FIXME".'),
  path: z.string().optional().describe('File or directory to search, relative to the workspace root. Default: the whole workspace.'),
  glob: z.string().optional().describe('Only search files matching this glob, e.g. "*.ts" (any depth) or "src/**/*.py".'),
});

/** Worker time one grep may use before it is stopped as a runaway pattern. */
const SEARCH_BUDGET_MS = 10_000;
// Texts go to the worker in batches: one message per file would cost a round trip each.
const BATCH_BYTES = 512 * 1024;
const BATCH_FILES = 64;

export interface GrepToolOptions {
  searcher?: RegexSearcher;
  /** Milliseconds of matching before the search is stopped (default 10 s). */
  budgetMs?: number;
}

interface PendingFile {
  relativePath: string;
  text: string;
}

export function createGrepTool(options: GrepToolOptions = {}): Tool {
  // Constructing starts nothing: the worker thread starts with the first search.
  const searcher = options.searcher ?? new RegexSearcher();
  const budgetMs = options.budgetMs ?? SEARCH_BUDGET_MS;
  return defineTool({
    name: 'grep',
    description: [
      'Search file contents with a JavaScript regular expression, line by line. Returns matching lines as "path:line: text".',
      'Searches the unsaved editor text and your staged edits, not just disk. Skips .git, node_modules, .gitignored, binary and >1 MB files.',
      'Case-sensitive; start the pattern with (?i) for a case-insensitive search. Patterns cannot span lines.',
      `At most ${MAX_MATCHES} matches are returned. A pattern that takes over ${budgetMs / 1000} s (e.g. nested quantifiers like (a+)+) is stopped.`,
    ].join(' '),
    schema,
    activity: (args) => `searching for ${args.pattern}${args.path ? ` in ${args.path}` : ''}`,
    async run(args, { workspace, signal }) {
      const regex = compile(args.pattern);
      if (typeof regex === 'string') return failure(regex);
      const target = workspace.resolve(args.path ?? '.');
      if (!target.ok) return failure(target.error);
      const filter = globFilter(args.glob);
      if (typeof filter === 'string') return failure(filter);

      const probe = await workspace.read(target.absolutePath, { record: false });
      let files: AsyncIterable<Pick<WalkedFile, 'absolutePath' | 'relativePath'>>;
      if (probe.kind === 'missing') {
        const suggestions = await suggestPaths(workspace, target, signal);
        const hint = suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : '';
        return failure(`${target.relativePath} not found.${hint}`);
      } else if (probe.kind === 'directory') {
        files = filtered(walkFiles({ workspace, root: target.root, start: target.absolutePath, signal }), filter);
      } else {
        files = single(target);
      }

      const matches: string[] = [];
      let searched = 0;
      let skippedLarge = 0;
      let skippedProtected = 0;
      let capped = false;
      let budget = budgetMs;
      let stopped: { kind: 'timeout' } | { kind: 'crashed'; error: string } | undefined;
      let pending: PendingFile[] = [];
      let pendingBytes = 0;

      /** Matches the pending texts in the worker; false once the search must end. */
      const flush = async (): Promise<boolean> => {
        const batch = pending;
        pending = [];
        pendingBytes = 0;
        if (batch.length === 0) return true;
        const limit = MAX_MATCHES + 1 - matches.length;
        const result = await searcher.match({ source: regex.source, flags: regex.flags, texts: batch.map((file) => file.text), limit }, budget, signal);
        budget -= result.elapsedMs;
        // Never throws: a batch in flight may be abandoned when the walk is cancelled.
        if (result.status === 'cancelled') return false;
        // Files the worker finished before a timeout still count: the model gets what was found.
        batch.forEach((file, index) => {
          const found = result.lines[index];
          if (!found || found.length === 0 || capped) return;
          const lines = splitLines(file.text);
          for (const line of found) {
            if (matches.length === MAX_MATCHES) {
              capped = true;
              return;
            }
            matches.push(`${file.relativePath}:${line + 1}: ${cutLine(lines[line]!, MAX_LINE_LENGTH).text}`);
          }
        });
        if (result.status === 'timeout') stopped = { kind: 'timeout' };
        if (result.status === 'crashed') stopped = { kind: 'crashed', error: result.error ?? 'unknown error' };
        return !capped && stopped === undefined;
      };

      // One batch is matched while the next is read; never two at once (each would take a worker).
      // Batches start small and grow, so a search that hits the match cap early reads little ahead.
      let inflight: Promise<boolean> | undefined;
      let batches = 0;
      let going = true;
      for await (const file of files) {
        throwIfAborted(signal);
        const content = await workspace.read(file.absolutePath, { record: false, maxBytes: MAX_FILE_BYTES });
        if (content.kind !== 'text') {
          if (content.kind === 'unreadable' && content.bytes !== undefined) skippedLarge++;
          if (content.kind === 'unreadable' && content.protected) skippedProtected++;
          continue;
        }
        searched++;
        pending.push({ relativePath: file.relativePath, text: content.text });
        pendingBytes += content.text.length;
        if (pendingBytes >= BATCH_BYTES || pending.length >= Math.min(BATCH_FILES, 4 << batches)) {
          batches++;
          going = (await inflight) ?? true;
          if (!going) break;
          inflight = flush();
        }
      }
      if (going) going = (await inflight) ?? true;
      if (going) await flush();
      throwIfAborted(signal);

      if (stopped) return failure(stoppedMessage(args.pattern, stopped, budgetMs, matches));
      const notes: string[] = [];
      if (capped) {
        notes.push(`Stopped after ${MAX_MATCHES} matches; narrow the search with path, glob or a more specific pattern.`);
      }
      if (skippedLarge > 0) notes.push(`Skipped ${plural(skippedLarge, 'file')} over 1 MB.`);
      if (skippedProtected > 0) notes.push(`Skipped ${plural(skippedProtected, 'protected file')} (credentials such as .env are never searched).`);
      const footer = notes.length > 0 ? `\n\n(${notes.join(' ')})` : '';
      if (matches.length === 0) {
        const where = target.relativePath === '.' ? 'the workspace' : target.relativePath;
        return { output: `No matches for /${args.pattern}/ in ${where} (searched ${plural(searched, 'file')}).${footer}` };
      }
      return { output: matches.join('\n') + footer };
    },
  });
}

/** Written for the model: what went wrong, how to fix the pattern, and what was found anyway. */
function stoppedMessage(pattern: string, stopped: { kind: 'timeout' } | { kind: 'crashed'; error: string }, budgetMs: number, matches: string[]): string {
  const why =
    stopped.kind === 'timeout'
      ? `the pattern took too long (over ${budgetMs / 1000} s) — likely catastrophic backtracking such as (a+)+ or (a|aa)*`
      : `the search stopped (${stopped.error}) — the pattern is likely too expensive`;
  const advice = 'simplify it: avoid nested or overlapping quantifiers, anchor it, or search for a literal part of the text.';
  const found =
    matches.length > 0
      ? `Matches found before stopping (the search is incomplete):\n${matches.join('\n')}`
      : 'No matches were found before stopping.';
  return `grep /${pattern}/ was stopped: ${why}; ${advice} ${found}`;
}

/**
 * Models often write PCRE-style "(?i)" and escapes like "\-" that only sloppy (non-unicode) JS
 * regexes accept, so fall back to that mode rather than reject the pattern.
 */
function compile(pattern: string): RegExp | string {
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const reason = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
      return `Invalid regular expression ${JSON.stringify(pattern)}: ${reason}. The pattern is a JavaScript regular expression; escape characters such as ( ) [ ] { } . * + ? | with a backslash to match them literally.`;
    }
  }
}

async function* filtered(files: AsyncIterable<WalkedFile>, keep: (file: WalkedFile) => boolean) {
  for await (const file of files) if (keep(file)) yield file;
}

async function* single(file: { absolutePath: string; relativePath: string }) {
  yield file;
}
