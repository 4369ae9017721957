import { closeSync, fchmodSync, openSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option } from 'commander';
import { loadTranscript, transcriptToJson, transcriptToMarkdown, type Transcript } from '../agent/history/transcript.js';
import { lookupSession, MIN_SESSION_PREFIX } from '../store/session-lookup.js';
import { SNIPPET_CLOSE, SNIPPET_OPEN, type SessionRecord, type Store } from '../store/store.js';
import { CliError, type CliContext } from './context.js';
import { registerAudit } from './policy.js';
import { listTeamSessions } from './team-history.js';
import { positiveInteger, type Register } from './subcommand.js';
import { colorDiff, colorsFor, type Colors } from './render.js';
import { terminalSafeJson, visible } from './terminal-text.js';

const ID_HELP = `session id, or a unique prefix of at least ${MIN_SESSION_PREFIX} characters`;
const START_HINT = 'start one with: codebench ask "…"';

function sessionReference(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length < MIN_SESSION_PREFIX) throw new InvalidArgumentError(`give a ${ID_HELP}`);
  return trimmed;
}

export const registerHistory: Register = (program, context) => {
  const history = program.command('history').description('browse, search, export and delete past sessions (default: list)');
  registerAudit(history, context);
  history
    .command('list', { isDefault: true })
    .description('list sessions of this workspace, most recently active first')
    .option('-a, --all', 'sessions of every workspace')
    .option('-n, --limit <n>', 'at most N sessions (default 50)', positiveInteger)
    .option('--json', 'print the session records as JSON')
    .option('--team', "teammates' sessions pulled by team sync (codebench sync), with their authors")
    .action((options: { all?: boolean; limit?: number; json?: boolean; team?: boolean }) => (options.team ? listTeamSessions(context, options) : listSessions(context, options)));
  history
    .command('show')
    .description('print a session as a Markdown transcript: messages, tool calls, proposals')
    .argument('<id>', ID_HELP, sessionReference)
    .action(async (id: string) => {
      const colors = colorsFor(context.io.stdout, context.env);
      const markdown = transcriptToMarkdown(await transcriptOf(context, id), { formatTime: transcriptTime });
      // `show` is for reading, so control characters are always made visible, in a pipe too
      // (`| less`, `| cat` end at a terminal); `export` is the faithful copy.
      context.io.stdout.write(colors.isColorSupported ? colorMarkdown(markdown, colors) : visible(markdown));
    });
  history
    .command('search')
    .description('full-text search over messages, newest first (exit status 1 when nothing matches)')
    .argument('<query...>', 'words that must all occur; end one with * to match a prefix')
    .option('-a, --all', 'search every workspace, not just this one')
    .option('-n, --limit <n>', 'at most N hits (default 20)', positiveInteger)
    .action((words: string[], options: { all?: boolean; limit?: number }) => searchMessages(context, words.join(' '), options));
  history
    .command('export')
    .description('write a session as Markdown or JSON, to stdout or a private (0600) file')
    .argument('<id>', ID_HELP, sessionReference)
    .addOption(new Option('-f, --format <format>', 'output format').choices(['md', 'json']).default('md'))
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(async (id: string, options: { format: 'md' | 'json'; output?: string }) => {
      const transcript = await transcriptOf(context, id);
      // JSON escapes what a terminal would act on (the same value); Markdown stays as written in a
      // file or a pipe, and is made visible only when it is going straight to a terminal.
      const text =
        options.format === 'json'
          ? terminalSafeJson(`${JSON.stringify(transcriptToJson(transcript), null, 2)}\n`)
          : transcriptToMarkdown(transcript, { formatTime: transcriptTime });
      if (options.output === undefined) {
        context.io.stdout.write(context.io.stdout.isTTY && options.format === 'md' ? visible(text) : text);
        return;
      }
      const file = resolve(context.cwd, options.output);
      writePrivateFile(file, text);
      context.io.stderr.write(`wrote ${file}\n`);
    });
  history
    .command('delete')
    .description('delete a session with its messages, runs, tool calls and proposals')
    .argument('<id>', ID_HELP, sessionReference)
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .action((id: string, options: { yes?: boolean }) => deleteSession(context, id, options));
};

/**
 * A session by full id or unique prefix (what `history list` prints); a CliError that says why
 * otherwise. With `flag` (`--session`, `/session`) the error is one line naming it, status 2 (a
 * usage mistake); without, an ambiguous prefix lists the candidates one per line.
 */
export async function resolveSession(store: Store, reference: string, flag?: string): Promise<SessionRecord> {
  const found = await lookupSession(store, reference);
  const fail = (message: string) => new CliError(flag ? `${flag}: ${message}` : message, flag ? 2 : 1);
  switch (found.kind) {
    case 'found':
      return found.session;
    case 'too-short':
      throw fail(`no session "${visible(reference)}": give a full id or a prefix of at least ${MIN_SESSION_PREFIX} characters`);
    case 'not-found':
      throw fail(`no session matches "${visible(reference)}" (see codebench history list --all)`);
    case 'ambiguous': {
      if (flag) {
        const ids = found.candidates.map((session) => shortId(session.id)).join(', ');
        throw fail(`"${visible(reference)}" matches several sessions (${ids}${found.more ? ', …' : ''}); give more characters`);
      }
      const lines = found.candidates.map((session) => `  ${sessionLine(session)}`);
      if (found.more) lines.push('  …');
      throw fail(`"${reference}" matches several sessions; give more characters:\n${lines.join('\n')}`);
    }
  }
}

async function transcriptOf(context: CliContext, reference: string): Promise<Transcript> {
  const store = await context.runtime().store();
  const session = await resolveSession(store, reference);
  const transcript = await loadTranscript(store, session.id);
  if (!transcript) throw new CliError(`session ${shortId(session.id)} was deleted meanwhile`);
  return transcript;
}

async function listSessions(context: CliContext, options: { all?: boolean; limit?: number; json?: boolean }): Promise<void> {
  const store = await context.runtime().store();
  const sessions = await store.listSessions({ workspaceUri: options.all ? undefined : context.workspaceUri(), limit: options.limit });
  if (options.json) {
    context.io.stdout.write(terminalSafeJson(`${JSON.stringify(sessions, null, 2)}\n`));
    return;
  }
  if (sessions.length === 0) {
    const where = options.all ? '' : ` for ${context.workspaceRoot()} (--all shows every workspace)`;
    context.io.stderr.write(`No history yet${where}; ${START_HINT}\n`);
    return;
  }
  const colors = colorsFor(context.io.stdout, context.env);
  const rows = sessions.map((session) => [shortId(session.id), localTime(session.updatedAt), String(session.messageCount), visible(session.provider), visible(oneLine(session.title))]);
  const header = ['ID', 'UPDATED', 'MSGS', 'PROVIDER', 'TITLE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const used = widths.slice(0, 4).reduce((sum, width) => sum + width + 2, 0);
  // Long titles wrap into an unreadable table on a terminal; in a pipe, keep them whole.
  const titleWidth = context.io.stdout.isTTY && context.io.stdout.columns ? Math.max(20, context.io.stdout.columns - used) : Infinity;
  const format = (row: string[]) =>
    row
      .map((cell, column) => (column === 4 ? clip(cell, titleWidth) : column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ');
  const lines = [colors.dim(format(header)), ...rows.map(format)];
  context.io.stdout.write(`${lines.join('\n')}\n`);
  if (sessions.length === (options.limit ?? 50)) context.io.stderr.write(colors.dim(`showing the ${sessions.length} most recent; --limit N shows more\n`));
}

async function searchMessages(context: CliContext, query: string, options: { all?: boolean; limit?: number }): Promise<void> {
  if (query.trim() === '') throw new CliError('search: give at least one word to look for', 2);
  const store = await context.runtime().store();
  const hits = await store.searchMessages({ query, limit: options.limit, workspaceUri: options.all ? undefined : context.workspaceUri() });
  if (hits.length === 0) {
    context.io.stderr.write(`No messages match "${query}"${options.all ? '' : ' in this workspace (--all searches every workspace)'}\n`);
    process.exitCode = 1;
    return;
  }
  const colors = colorsFor(context.io.stdout, context.env);
  const roleWidth = Math.max(...hits.map((hit) => hit.role.length));
  const lines: string[] = [];
  let previous: string | undefined;
  for (const hit of hits) {
    if (hit.sessionId !== previous) lines.push(`${colors.cyan(shortId(hit.sessionId))}  ${colors.bold(visible(oneLine(hit.sessionTitle)))}`);
    previous = hit.sessionId;
    lines.push(`  ${colors.dim(localTime(hit.createdAt))}  ${hit.role.padEnd(roleWidth)}  ${highlight(visible(hit.snippet), colors)}`);
  }
  context.io.stdout.write(`${lines.join('\n')}\n`);
}

async function deleteSession(context: CliContext, reference: string, options: { yes?: boolean }): Promise<void> {
  const store = await context.runtime().store();
  const session = await resolveSession(store, reference);
  if (!options.yes) {
    if (!context.isInteractive) throw new CliError(`not deleting session ${shortId(session.id)} without confirmation: pass --yes`, 2);
    if (!(await confirm(context, `Delete session ${sessionLine(session)}? [y/N] `))) {
      context.io.stderr.write('nothing deleted\n');
      return;
    }
  }
  await store.deleteSession(session.id);
  context.io.stderr.write(`deleted session ${shortId(session.id)} (${plural(session.messageCount, 'message')})\n`);
}

/** Only an explicit yes deletes: Enter, Ctrl-C and end of input all keep the session. */
async function confirm(context: CliContext, question: string): Promise<boolean> {
  const readline = createInterface({ input: context.io.stdin, output: context.io.stderr });
  const abort = new AbortController();
  readline.on('SIGINT', () => abort.abort());
  readline.on('close', () => abort.abort());
  try {
    const answer = (await readline.question(question, { signal: abort.signal })).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  } catch {
    return false;
  } finally {
    readline.close();
  }
}

/** History holds prompts and code: an export is as private as the database it came from. */
function writePrivateFile(file: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'w', 0o600);
  } catch (error) {
    throw new CliError(`cannot write ${file}: ${(error as Error).message}`);
  }
  try {
    // The mode argument only applies to a new file; tighten one that already existed.
    fchmodSync(fd, 0o600);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Markdown with headings, metadata and diffs tinted (when colours are on) and control characters
 * visible; the words stay as written. Each line is sanitized exactly once, before its colour.
 */
function colorMarkdown(markdown: string, colors: Colors): string {
  let fence: { marker: string; diff: boolean } | undefined;
  let header = true;
  return markdown
    .split('\n')
    .map((raw) => {
      const line = visible(raw, colors);
      if (fence) {
        if (raw === fence.marker) {
          fence = undefined;
          return colors.dim(line);
        }
        return fence.diff ? colorDiff(raw, colors) : colors.dim(line);
      }
      const opening = /^(`{3,})(\w*)$/.exec(raw);
      if (opening) {
        fence = { marker: opening[1]!, diff: opening[2] === 'diff' };
        return colors.dim(line);
      }
      if (raw.startsWith('# ')) return colors.bold(colors.underline(line.slice(2)));
      if (raw === '---' || raw.startsWith('## ') || raw.startsWith('### ')) header = false;
      if (raw.startsWith('## ')) return colors.bold(colors.cyan(line));
      if (raw.startsWith('### ')) return colors.bold(line);
      if (raw.startsWith('**Tool** ')) return raw.endsWith(' — **error**') ? colors.red(line) : colors.yellow(line);
      if (raw.startsWith('**Remembered** ')) return colors.green(line);
      if (raw === '---' || /^_.*_$/.test(raw) || (header && raw.startsWith('- '))) return colors.dim(line);
      return line;
    })
    .join('\n');
}

/** On a terminal the markers become highlighting; in a pipe they stay, so matches remain visible. */
function highlight(snippet: string, colors: Colors): string {
  if (!colors.isColorSupported) return snippet;
  return snippet.replace(new RegExp(`${SNIPPET_OPEN}([^${SNIPPET_CLOSE}]*)${SNIPPET_CLOSE}`, 'gu'), (_, term: string) => colors.bold(colors.yellow(term)));
}

function sessionLine(session: SessionRecord): string {
  const where = session.workspaceUri.startsWith('file:') ? fileURLToPath(session.workspaceUri) : session.workspaceUri;
  return `${shortId(session.id)}  ${localTime(session.updatedAt)}  ${clip(visible(oneLine(session.title)), 60)}  (${visible(where)})`;
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Local wall-clock time to the minute, e.g. 2025-03-04 17:05 (with `seconds`, 17:05:09). */
export function localTime(iso: string, seconds = false): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}${seconds ? `:${pad(date.getSeconds())}` : ''}`;
}

/** A turn often lasts seconds, so transcripts keep them. */
const transcriptTime = (iso: string) => localTime(iso, true);

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
