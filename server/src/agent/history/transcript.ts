import type {
  MessageRecord,
  ProposalRecord,
  RunRecord,
  SessionRecord,
  Store,
  ToolCallRecord,
} from '../../store/store.js';
import { describeEvidence } from '../proposals/evidence.js';
import { REMEMBERED_PREFIX } from '../tools/remember.js';

/**
 * A session's whole history as plain values, and its two renderings: Markdown for people, JSON for
 * tools. Nothing here knows about terminals or editors, so the CLI, a transcript file written for
 * Helix and the ACP front-end all share one reading of the store.
 */

export interface TranscriptRun extends RunRecord {
  /** Oldest first. */
  toolCalls: ToolCallRecord[];
}

export interface Transcript {
  session: SessionRecord;
  /** Oldest first. */
  messages: MessageRecord[];
  /** Oldest first. */
  runs: TranscriptRun[];
  proposals: ProposalRecord[];
}

export interface TranscriptExport extends Transcript {
  /** Bumped when a field changes meaning or disappears; new fields do not bump it. */
  version: 1;
}

export type TranscriptSource = Pick<Store, 'getSession' | 'listMessages' | 'listRuns' | 'listToolCalls' | 'listProposals'>;

/** One step of a session in the order it happened; `run` starts the steps that belong to it. */
export type TranscriptEntry =
  | { kind: 'run'; run: TranscriptRun; index: number }
  | { kind: 'message'; message: MessageRecord }
  | { kind: 'tool-call'; call: ToolCallRecord }
  | { kind: 'proposal'; proposal: ProposalRecord };

export interface MarkdownOptions {
  /** Renders a stored ISO timestamp; the default keeps it as stored (UTC), so output is stable. */
  formatTime?: (iso: string) => string;
  /** Lines of each tool result to keep; default 6. */
  maxResultLines?: number;
  /** Characters per kept result line and of the compact arguments; default 200. */
  maxLineLength?: number;
}

/** Undefined for an unknown session. */
export async function loadTranscript(store: TranscriptSource, sessionId: string): Promise<Transcript | undefined> {
  const session = await store.getSession(sessionId);
  if (!session) return undefined;
  const [messages, runs, proposals] = await Promise.all([
    store.listMessages(sessionId),
    store.listRuns(sessionId),
    store.listProposals({ sessionId }),
  ]);
  const withCalls = await Promise.all(runs.map(async (run) => ({ ...run, toolCalls: await store.listToolCalls(run.id) })));
  return { session, messages, runs: withCalls, proposals };
}

export function transcriptToJson(transcript: Transcript): TranscriptExport {
  return { version: 1, ...transcript };
}

/**
 * Order within a run. The store stamps messages with its own monotonic clock, which runs a few
 * milliseconds ahead after bursts of writes, while tool calls carry wall-clock times: so phases
 * come first (the instruction opens a run, a proposal closes it) and times only order the middle;
 * equal times fall back to the order the agent works in.
 */
const PHASE = { user: 0, system: 0, 'tool-call': 1, assistant: 1, proposal: 2 } as const;
const RANK = { user: 0, system: 0, 'tool-call': 1, assistant: 2, proposal: 3 } as const;

interface Timed {
  entry: TranscriptEntry;
  time: string;
  phase: number;
  rank: number;
  sequence: number;
}

/**
 * Every run with its own messages, tool calls and proposals kept together (even if another run of
 * the session overlapped it), runs and loose messages ordered by when they started.
 */
export function transcriptTimeline(transcript: Transcript): TranscriptEntry[] {
  let sequence = 0;
  const timed = (entry: TranscriptEntry, time: string, kind: keyof typeof PHASE): Timed => ({
    entry,
    time,
    phase: PHASE[kind],
    rank: RANK[kind],
    sequence: sequence++,
  });
  const byRun = new Map<string, Timed[]>(transcript.runs.map((run) => [run.id, []]));
  const blocks: Array<{ head?: Timed; items: Timed[] }> = [];

  for (const message of transcript.messages) {
    const item = timed({ kind: 'message', message }, message.createdAt, message.role);
    const runItems = message.runId === undefined ? undefined : byRun.get(message.runId);
    if (runItems) runItems.push(item);
    else blocks.push({ items: [item] });
  }
  for (const run of transcript.runs) {
    for (const call of run.toolCalls) byRun.get(run.id)?.push(timed({ kind: 'tool-call', call }, call.startedAt, 'tool-call'));
  }
  for (const proposal of transcript.proposals) {
    const item = timed({ kind: 'proposal', proposal }, proposal.createdAt, 'proposal');
    const runItems = byRun.get(proposal.runId);
    if (runItems) runItems.push(item);
    else blocks.push({ items: [item] });
  }
  transcript.runs.forEach((run, index) => {
    const head = { ...timed({ kind: 'run', run, index: index + 1 }, run.startedAt, 'user'), rank: -1 };
    blocks.push({ head, items: byRun.get(run.id) ?? [] });
  });

  const compare = (a: Timed, b: Timed) =>
    a.time < b.time ? -1 : a.time > b.time ? 1 : a.rank - b.rank || a.sequence - b.sequence;
  for (const block of blocks) block.items.sort((a, b) => a.phase - b.phase || compare(a, b));
  // A block starts at its earliest stamp, whichever clock wrote it.
  const startOf = (block: { head?: Timed; items: Timed[] }): Timed => {
    const [first, ...rest] = block.head ? [block.head, ...block.items] : block.items;
    const time = rest.reduce((earliest, item) => (item.time < earliest ? item.time : earliest), first!.time);
    return { ...first!, time };
  };
  return blocks
    .map((block) => ({ block, start: startOf(block) }))
    .sort((a, b) => compare(a.start, b.start))
    .flatMap(({ block }) => [...(block.head ? [block.head] : []), ...block.items].map((item) => item.entry));
}

export function transcriptToMarkdown(transcript: Transcript, options: MarkdownOptions = {}): string {
  const time = options.formatTime ?? ((iso: string) => iso);
  const maxLines = options.maxResultLines ?? 6;
  const maxLength = options.maxLineLength ?? 200;
  const { session } = transcript;
  const out: string[] = [
    `# ${oneLine(session.title) || 'Untitled session'}`,
    '',
    `- Session: ${inlineCode(session.id)}`,
    `- Workspace: ${inlineCode(session.workspaceUri)}`,
    `- Provider: ${session.provider}`,
    `- Started: ${time(session.createdAt)} · last active: ${time(session.updatedAt)}`,
    `- ${count(transcript.messages.length, 'message')} · ${count(transcript.runs.length, 'run')} · ${count(transcript.proposals.length, 'proposal')}`,
  ];
  const timeline = transcriptTimeline(transcript);
  if (timeline.length === 0) out.push('', '_No messages yet._');

  for (const entry of timeline) {
    switch (entry.kind) {
      case 'run':
        out.push('', '---', '', ...runHeader(entry.run, entry.index, time));
        break;
      case 'message':
        out.push('', `### ${roleName(entry.message.role)} · ${time(entry.message.createdAt)}`, '', entry.message.content.trimEnd() || '_(empty)_');
        break;
      case 'tool-call':
        out.push('', ...(rememberedLines(entry.call, time) ?? toolCallLines(entry.call, maxLines, maxLength)));
        break;
      case 'proposal':
        out.push('', ...proposalLines(entry.proposal, time));
        break;
    }
  }
  return `${out.join('\n')}\n`;
}

function runHeader(run: TranscriptRun, index: number, time: (iso: string) => string): string[] {
  const lines = [`## Run ${index} · ${run.provider} ${run.model} · ${run.status}`, ''];
  const facts = [`started ${time(run.startedAt)}`];
  if (run.finishedAt) facts.push(`finished ${time(run.finishedAt)}`);
  if (run.inputTokens !== undefined || run.outputTokens !== undefined) {
    facts.push(`tokens: ${run.inputTokens ?? '?'} in, ${run.outputTokens ?? '?'} out`);
  }
  if (run.toolCalls.length > 0) facts.push(count(run.toolCalls.length, 'tool call'));
  lines.push(`_${facts.join(' · ')}_`);
  if (run.error) lines.push('', `> **${run.status === 'failed' ? 'Failed' : 'Error'}:** ${oneLine(run.error)}`);
  return lines;
}

function toolCallLines(call: ToolCallRecord, maxLines: number, maxLength: number): string[] {
  const args = truncate(compactJson(call.args), maxLength);
  const head = `**Tool** ${inlineCode(call.name)} ${inlineCode(args)}${call.isError ? ' — **error**' : ''}`;
  return [head, '', ...fenced(truncateLines(call.result, maxLines, maxLength) || '(no output)', 'text')];
}

/**
 * A `remember` call that stored its fact, as what was remembered when (the run is the section it
 * sits in). The text comes from the result, which holds the fact as stored (secrets redacted),
 * not from the arguments as the model wrote them.
 */
function rememberedLines(call: ToolCallRecord, time: (iso: string) => string): string[] | undefined {
  if (call.name !== 'remember' || call.isError || !call.result.startsWith(REMEMBERED_PREFIX)) return undefined;
  const separator = call.result.indexOf(': ');
  if (separator === -1) return undefined;
  const id = call.result.slice(REMEMBERED_PREFIX.length, separator).split(' ')[0] ?? '';
  return [`**Remembered** ${inlineCode(id)} · ${time(call.finishedAt)}: ${oneLine(call.result.slice(separator + 2))}`];
}

function proposalLines(proposal: ProposalRecord, time: (iso: string) => string): string[] {
  const lines = [`### Proposal · ${proposalStatus(proposal, time)}`, '', proposal.summary.trim() || '_(no summary)_'];
  if (proposal.detail) lines.push('', `> ${oneLine(proposal.detail)}`);
  const checked = describeEvidence(proposal.evidence);
  if (checked !== undefined) lines.push('', `Checked: ${oneLine(checked)}`);
  if (proposal.files.length > 0) {
    const files = proposal.files.map((file) => `${inlineCode(file.path)}${file.created ? ' (new)' : ''}`);
    lines.push('', `Files: ${files.join(', ')}`);
  }
  // The short id `codebench undo ID` takes (a unique prefix, as for sessions).
  lines.push('', `Proposal id: ${inlineCode(proposal.id.slice(0, 8))}`);
  if (proposal.diff.trim() !== '') lines.push('', ...fenced(proposal.diff.trimEnd(), 'diff'));
  return lines;
}

function proposalStatus(proposal: ProposalRecord, time: (iso: string) => string): string {
  if (proposal.status === 'proposed') return 'proposed, not decided';
  return proposal.decidedAt ? `${proposal.status} ${time(proposal.decidedAt)}` : proposal.status;
}

function roleName(role: MessageRecord['role']): string {
  return role === 'user' ? 'User' : role === 'assistant' ? 'Assistant' : 'System';
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function compactJson(value: unknown): string {
  if (value === undefined) return '{}';
  return typeof value === 'string' ? oneLine(value) : (JSON.stringify(value) ?? String(value));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/** Keeps the first lines (each cut to `maxLength`) and says how many were left out. */
export function truncateLines(text: string, maxLines: number, maxLength: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  if (lines.length === 1 && lines[0] === '') return '';
  const kept = lines.slice(0, maxLines).map((line) => truncate(line, maxLength));
  const hidden = lines.length - kept.length;
  if (hidden > 0) kept.push(`… ${count(hidden, 'more line')}`);
  return kept.join('\n');
}

/** A fence longer than any backtick run inside, so tool output and diffs cannot close it early. */
function fenced(text: string, language: string): string[] {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${language}`, text, fence];
}

function inlineCode(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}
