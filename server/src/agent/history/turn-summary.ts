import { diffLines } from 'diff';
import type { EarlierRun, ProposalStatus, ToolCallBrief } from '../../store/store.js';

/**
 * An earlier turn's tool calls and proposal in a few words each ("read src/a.ts", "edited
 * src/a.ts (+3 −1)", "ran `npm test` → exit 1", "proposal (src/a.ts) applied by the user"), and
 * the few result lines worth keeping, for follow-up.ts.
 */

/** Characters of one quoted thing (a command, a pattern, an error line, a result line). */
const QUOTE_CHARS = 160;
/** Result lines kept per call in a whole turn: the first matches of a search, the last lines of a command. */
const RESULT_LINES = 5;

const FATES: Record<ProposalStatus, string> = {
  proposed: 'not reviewed yet',
  applied: 'applied by the user',
  unconfirmed: 'applied by the user (not yet confirmed by the editor)',
  discarded: 'discarded by the user',
  conflict: 'not applied: it conflicted with the user\'s own edits',
  reverted: 'applied, then reverted by the user (undo)',
};

/** One phrase per call, in order; the same phrase in a row is said once with a count. */
export function describeCalls(calls: readonly ToolCallBrief[]): string[] {
  const phrases: Array<{ text: string; times: number }> = [];
  for (const call of calls) {
    const text = describeCall(call);
    const last = phrases.at(-1);
    if (last?.text === text) last.times++;
    else phrases.push({ text, times: 1 });
  }
  return phrases.map((phrase) => (phrase.times > 1 ? `${phrase.text} (${phrase.times}×)` : phrase.text));
}

function describeCall(call: ToolCallBrief): string {
  const path = stringArg(call.args, 'path');
  switch (call.name) {
    case 'read_file': {
      if (call.isError) return `could not read ${path}`;
      const offset = numberArg(call.args, 'offset');
      const limit = numberArg(call.args, 'limit');
      const range = offset === undefined && limit === undefined ? '' : ` (lines ${offset ?? 1}-${limit === undefined ? 'end' : (offset ?? 1) + limit - 1})`;
      return `read ${path}${range}`;
    }
    case 'grep': {
      const where = [path ? ` in ${path}` : '', stringArg(call.args, 'glob') ? ` (${stringArg(call.args, 'glob')})` : ''].join('');
      const searched = `searched /${quote(stringArg(call.args, 'pattern'))}/${where}`;
      if (call.isError) return `${searched} → failed`;
      if (call.resultHead.startsWith('No matches')) return `${searched} → no matches`;
      const matches = matchCount(call);
      return `${searched} → ${matches} match${matches === 1 ? '' : 'es'}`;
    }
    case 'list_files':
      return call.isError ? `could not list ${path || '.'}` : `listed ${path || '.'}`;
    case 'edit_file': {
      if (call.isError) return `edit of ${path} failed`;
      const { added, removed } = changedLines(stringArg(call.args, 'old_string'), stringArg(call.args, 'new_string'));
      return `edited ${path} (+${added} −${removed})`;
    }
    case 'write_file':
      return call.isError ? `creating ${path} failed` : `created ${path} (${lineCount(stringArg(call.args, 'content'))} lines)`;
    case 'run_command':
      return `ran \`${quote(stringArg(call.args, 'command'))}\` → ${commandStatus(call)}`;
    case 'remember':
      return call.isError ? 'remembering a fact failed' : `remembered "${quote(stringArg(call.args, 'fact'))}"`;
    default: {
      const target = ['path', 'pattern', 'command', 'file_path', 'query'].map((key) => stringArg(call.args, key)).find((value) => value !== '');
      return `${call.name}${target ? ` ${quote(target)}` : ''}${call.isError ? ' → failed' : ''}`;
    }
  }
}

/** "exit 1", "timed out", or why it did not run (denied, refused). */
function commandStatus(call: ToolCallBrief): string {
  const first = firstLine(call.resultHead);
  const exit = /^The command exited with code (-?\d+)/.exec(first);
  if (exit) return `exit ${exit[1]}`;
  if (first.startsWith('The command was stopped after')) return 'timed out';
  if (first.startsWith('The command was cancelled')) return 'cancelled';
  const killed = /^The command was killed by (\S+)/.exec(first);
  if (killed) return `killed by ${killed[1]}`;
  return `not run: ${quote(first)}`;
}

/** The proposal's fate, or why the run ended without one. */
export function describeFate(turn: EarlierRun): string[] {
  if (turn.proposals.length > 0) {
    return turn.proposals.map((proposal) => `proposal (${proposal.files.map((file) => file.path).join(', ')}) ${fateOf(proposal)}`);
  }
  const edited = editedPaths(turn.toolCalls);
  const unproposed = edited.length > 0 ? `; its edits to ${edited.join(', ')} were never proposed` : '';
  switch (turn.run.status) {
    case 'failed':
      return [`the run failed: ${quote(firstLine(turn.run.error ?? 'unknown error'))}${unproposed}`];
    case 'cancelled':
      return [`the run was cancelled${unproposed}`];
    case 'interrupted':
      return [`the run was interrupted (the server stopped)${unproposed}`];
    case 'running':
      return ['still running when this ask began'];
    case 'completed':
      return [];
  }
}

/** What a turn shortened to its outcome keeps besides its final text: the files it changed, and their fate. */
export function filesChanged(turn: EarlierRun): string {
  if (turn.proposals.length > 0) {
    return turn.proposals.map((proposal) => `changed ${proposal.files.map((file) => file.path).join(', ')} → proposal ${fateOf(proposal)}`).join('; ');
  }
  const [fate] = describeFate(turn);
  return fate ?? 'no files changed';
}

function fateOf(proposal: EarlierRun['proposals'][number]): string {
  const detail = proposal.status === 'conflict' && proposal.detail ? ` (${quote(proposal.detail)})` : '';
  return `${FATES[proposal.status]}${detail}`;
}

/** The result lines worth keeping, under the call they belong to; '' when there are none. */
export function describeResults(calls: readonly ToolCallBrief[]): string {
  const blocks: string[] = [];
  for (const call of calls) {
    let lines: string[] = [];
    if (call.name === 'grep' && !call.isError) lines = matchLines(call).slice(0, RESULT_LINES);
    else if (call.name === 'run_command') lines = outputLines(call).slice(-RESULT_LINES);
    else if (call.isError) lines = [firstLine(call.resultHead)];
    if (lines.length === 0) continue;
    blocks.push(`- ${describeCall(call)}:\n${lines.map((line) => `    ${quote(line)}`).join('\n')}`);
  }
  return blocks.length === 0 ? '' : `results:\n${blocks.join('\n')}`;
}

/** grep's "path:line: text" lines (its notes and the cut-off part of a long result left out). */
function matchLines(call: ToolCallBrief): string[] {
  return call.resultHead.split('\n').filter((line) => /^[^\s:][^:]*:\d+: /.test(line));
}

/**
 * How many lines grep matched: counted in the head when it holds the whole result, else the
 * result's lines less grep's closing note ("\n\n(Stopped after … matches …)").
 */
function matchCount(call: ToolCallBrief): number {
  if (call.resultTail === '') return matchLines(call).length;
  return call.resultLines - (/\n\n\([^\n]*\)\s*$/.test(call.resultTail) ? 2 : 0);
}

/** A command's output after its status line, blank lines left out; from the tail when the result was long. */
function outputLines(call: ToolCallBrief): string[] {
  const lines = call.resultTail !== '' ? call.resultTail.split('\n').slice(1) : call.resultHead.split('\n').slice(1);
  return lines.filter((line) => line.trim() !== '');
}

function editedPaths(calls: readonly ToolCallBrief[]): string[] {
  const paths = calls
    .filter((call) => !call.isError && (call.name === 'edit_file' || call.name === 'write_file'))
    .map((call) => stringArg(call.args, 'path'))
    .filter((path) => path !== '');
  return [...new Set(paths)];
}

function changedLines(before: string, after: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    if (part.added) added += part.count ?? 0;
    else if (part.removed) removed += part.count ?? 0;
  }
  return { added, removed };
}

function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function stringArg(args: unknown, key: string): string {
  const value = typeof args === 'object' && args !== null ? (args as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : '';
}

function numberArg(args: unknown, key: string): number | undefined {
  const value = typeof args === 'object' && args !== null ? (args as Record<string, unknown>)[key] : undefined;
  return typeof value === 'number' ? value : undefined;
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '') ?? '';
}

/** One line, at most QUOTE_CHARS characters. */
function quote(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > QUOTE_CHARS ? `${line.slice(0, QUOTE_CHARS - 1)}…` : line;
}
