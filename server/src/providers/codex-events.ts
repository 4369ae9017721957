import { isAbsolute, relative, sep } from 'node:path';
import type { ExternalEvent, Usage } from './types.js';

/**
 * Reads the JSON lines of `codex exec --json` (thread.started, turn.*, item.* and error events)
 * into codebench's ExternalEvents and what the run came to. No I/O: the runner feeds it lines.
 * Shapes were checked against codex 0.169 (see test/fixtures/codex); unknown events and item types
 * are ignored so a newer codex degrades to less progress detail, not a failure.
 */

export interface CodexSummary {
  threadId?: string;
  /** The agent messages, in order. */
  text: string;
  usage?: Usage;
  /** Whether a turn ended well (`turn.completed`) and whether one failed (`turn.failed`). */
  turnCompleted: boolean;
  turnFailed: boolean;
  /** codex's own words for the last failure or error event. */
  failure?: string;
  /** Set as soon as an error says the credentials were refused: retrying cannot help. */
  authFailure?: string;
  /** Whether any codex event arrived; none means the binary is not codex (or too old). */
  sawEvents: boolean;
  /** The first stdout lines that were not JSON, for error messages. */
  otherLines: string[];
}

type Item = Record<string, unknown> & { id?: unknown; type?: unknown };

const TOOL_ITEMS = new Set(['command_execution', 'file_change', 'mcp_tool_call', 'web_search']);
const AUTH = /\b(401|403)\b|unauthori[sz]ed|forbidden|missing environment variable|not logged in|log ?in again|codex login|invalid api key|incorrect api key/i;
const RECONNECT = /^Reconnecting\.\.\.\s*(.*)$/s;
const MAX_OTHER_LINES = 5;
const MAX_RESULT = 4000;

export class CodexEventParser {
  private readonly summaryState: CodexSummary = { text: '', turnCompleted: false, turnFailed: false, sawEvents: false, otherLines: [] };
  private readonly started = new Map<string, { name: string; activity: string }>();
  private lastPlan = '';

  /** `roots`: the cwd codex ran in, and its real path if different; paths inside are shown relative. */
  constructor(
    private readonly roots: string[],
    private readonly emit: (event: ExternalEvent) => void,
  ) {}

  get summary(): CodexSummary {
    return this.summaryState;
  }

  pushOther(line: string): void {
    if (this.summaryState.otherLines.length < MAX_OTHER_LINES) this.summaryState.otherLines.push(line.slice(0, 300));
  }

  push(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const event = value as Record<string, unknown>;
    const state = this.summaryState;
    switch (event.type) {
      case 'thread.started':
        state.sawEvents = true;
        if (typeof event.thread_id === 'string') state.threadId = event.thread_id;
        return;
      case 'turn.started':
        state.sawEvents = true;
        return;
      case 'turn.completed':
        state.sawEvents = true;
        state.turnCompleted = true;
        this.addUsage(event.usage);
        return;
      case 'turn.failed': {
        state.sawEvents = true;
        const message = stringOr((event.error as { message?: unknown } | undefined)?.message, 'the turn failed');
        state.turnFailed = true;
        state.failure = message;
        if (AUTH.test(message)) state.authFailure ??= message;
        return;
      }
      case 'error': {
        state.sawEvents = true;
        const message = stringOr(event.message, 'unknown error');
        const reconnect = RECONNECT.exec(message);
        if (AUTH.test(message)) state.authFailure ??= (reconnect?.[1] ?? message).replace(/^\d+\/\d+\s*\((.*)\)$/s, '$1');
        if (reconnect) this.emit({ type: 'notice', message: `reconnecting ${reconnect[1]}` });
        else state.failure = message;
        return;
      }
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        state.sawEvents = true;
        if (typeof event.item === 'object' && event.item !== null) this.item(event.type, event.item as Item);
        return;
      default:
        return;
    }
  }

  private item(phase: string, item: Item): void {
    const id = stringOr(item.id, `item_${this.started.size}`);
    const type = String(item.type);
    if (type === 'agent_message') {
      if (phase !== 'item.completed') return;
      const text = stringOr(item.text, '');
      if (!text) return;
      const state = this.summaryState;
      const piece = state.text ? `\n\n${text}` : text;
      state.text += piece;
      this.emit({ type: 'text-delta', text: piece });
      return;
    }
    if (type === 'reasoning') {
      const headline = firstLine(stringOr(item.text, ''));
      if (phase === 'item.completed' && headline) this.emit({ type: 'notice', message: `thinking: ${headline}` });
      return;
    }
    if (type === 'todo_list') {
      const plan = planNotice(item.items);
      if (plan && plan !== this.lastPlan) this.emit({ type: 'notice', message: plan });
      this.lastPlan = plan;
      return;
    }
    if (type === 'error') {
      if (phase === 'item.completed') this.emit({ type: 'notice', message: stringOr(item.message, 'warning') });
      return;
    }
    if (!TOOL_ITEMS.has(type)) return;
    const { name, activity, args } = this.describe(type, item);
    if (!this.started.has(id)) {
      this.started.set(id, { name, activity });
      this.emit({ type: 'tool-started', callId: id, name, activity, args });
    }
    if (phase !== 'item.completed') return;
    const { result, isError } = this.result(type, item);
    this.emit({ type: 'tool-finished', callId: id, name, activity, result, isError });
  }

  private describe(type: string, item: Item): { name: string; activity: string; args: unknown } {
    switch (type) {
      case 'command_execution': {
        const command = this.shorten(unwrapShell(stringOr(item.command, '')));
        return { name: 'shell', activity: `running ${ellipsis(command, 60)}`, args: { command } };
      }
      case 'file_change': {
        const changes = this.changes(item.changes);
        return { name: 'apply_patch', activity: changeActivity(changes), args: { changes } };
      }
      case 'mcp_tool_call': {
        const server = stringOr(item.server, 'mcp');
        const tool = stringOr(item.tool, 'tool');
        return { name: `${server}.${tool}`, activity: `calling ${server} ${tool}`, args: item.arguments ?? null };
      }
      default: {
        const query = stringOr(item.query, stringOr((item.action as { query?: unknown } | undefined)?.query, ''));
        return { name: 'web_search', activity: query ? `searching the web for "${ellipsis(query, 50)}"` : 'searching the web', args: { query } };
      }
    }
  }

  private result(type: string, item: Item): { result: string; isError: boolean } {
    const status = stringOr(item.status, 'completed');
    switch (type) {
      case 'command_execution': {
        const exitCode = typeof item.exit_code === 'number' ? item.exit_code : undefined;
        const output = tail(stringOr(item.aggregated_output, ''));
        if (status === 'declined') return { result: 'declined', isError: true };
        const head = exitCode === undefined ? status : `exit code ${exitCode}`;
        return { result: output ? `${head}\n${output}` : head, isError: status !== 'completed' || (exitCode ?? 0) !== 0 };
      }
      case 'file_change': {
        const lines = this.changes(item.changes).map((change) => `${KIND_LETTER[change.kind] ?? '?'} ${change.path}`);
        return { result: status === 'failed' ? `failed to apply:\n${lines.join('\n')}` : lines.join('\n'), isError: status === 'failed' };
      }
      case 'mcp_tool_call': {
        const error = (item.error as { message?: unknown } | null | undefined)?.message;
        if (typeof error === 'string' || status === 'failed') return { result: stringOr(error, 'failed'), isError: true };
        return { result: tail(mcpText(item.result)), isError: false };
      }
      default:
        return { result: status, isError: status === 'failed' };
    }
  }

  private changes(value: unknown): Array<{ path: string; kind: string }> {
    if (!Array.isArray(value)) return [];
    return value.map((change: { path?: unknown; kind?: unknown }) => ({
      path: this.relativePath(stringOr(change?.path, '?')),
      kind: stringOr(change?.kind, 'update'),
    }));
  }

  private relativePath(path: string): string {
    if (!isAbsolute(path)) return path;
    for (const root of this.roots) {
      const rel = relative(root, path);
      if (rel === '') return '.';
      if (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)) return rel;
    }
    return path;
  }

  /** Absolute paths under the cwd read better relative, as a person would type them. */
  private shorten(command: string): string {
    let out = command;
    for (const root of this.roots) out = out.split(`${root}${sep}`).join('').split(root).join('.');
    return out;
  }

  /** codex reports input_tokens with the cached ones included and cached_input_tokens apart, as OpenAI does. */
  private addUsage(value: unknown): void {
    const usage = value as { input_tokens?: unknown; output_tokens?: unknown; cached_input_tokens?: unknown } | undefined;
    if (typeof usage?.input_tokens !== 'number' && typeof usage?.output_tokens !== 'number') return;
    const previous = this.summaryState.usage ?? { inputTokens: 0, outputTokens: 0 };
    const cached = (previous.cachedInputTokens ?? 0) + (typeof usage.cached_input_tokens === 'number' ? usage.cached_input_tokens : 0);
    this.summaryState.usage = {
      inputTokens: previous.inputTokens + (typeof usage.input_tokens === 'number' ? usage.input_tokens : 0),
      outputTokens: previous.outputTokens + (typeof usage.output_tokens === 'number' ? usage.output_tokens : 0),
      ...(cached > 0 ? { cachedInputTokens: cached } : {}),
    };
  }
}

const KIND_VERB: Record<string, string> = { add: 'creating', delete: 'deleting', update: 'editing' };
const KIND_LETTER: Record<string, string> = { add: 'A', delete: 'D', update: 'M' };

function changeActivity(changes: Array<{ path: string; kind: string }>): string {
  if (changes.length === 0) return 'editing files';
  if (changes.length > 3) return `changing ${changes.length} files`;
  const kinds = new Set(changes.map((change) => change.kind));
  if (kinds.size === 1) return `${KIND_VERB[changes[0]!.kind] ?? 'editing'} ${changes.map((change) => change.path).join(', ')}`;
  return changes.map((change) => `${KIND_VERB[change.kind] ?? 'editing'} ${change.path}`).join(', ');
}

/** codex runs commands as `/bin/bash -lc '…'`; the user wants to see the `…`. */
export function unwrapShell(command: string): string {
  const single = /^(?:\S*\/)?(?:ba|z|da)?sh\s+-l?c\s+'((?:[^']|'\\'')*)'$/s.exec(command);
  if (single) return single[1]!.split(`'\\''`).join(`'`);
  const double = /^(?:\S*\/)?(?:ba|z|da)?sh\s+-l?c\s+"((?:[^"\\]|\\.)*)"$/s.exec(command);
  if (double) return double[1]!.replace(/\\(.)/g, '$1');
  return command;
}

function planNotice(items: unknown): string {
  if (!Array.isArray(items) || items.length === 0) return '';
  const steps = items as Array<{ text?: unknown; completed?: unknown }>;
  const done = steps.filter((step) => step.completed === true).length;
  const next = steps.find((step) => step.completed !== true);
  const nextText = typeof next?.text === 'string' ? ` — next: ${ellipsis(next.text, 60)}` : '';
  return `plan: ${done}/${steps.length} done${nextText}`;
}

function mcpText(result: unknown): string {
  const content = (result as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(content)) return result === undefined || result === null ? '' : JSON.stringify(result);
  return content
    .map((block: { type?: unknown; text?: unknown }) => (typeof block?.text === 'string' ? block.text : `[${String(block?.type ?? 'content')}]`))
    .join('\n');
}

function firstLine(text: string): string {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  return ellipsis(line.replace(/\*\*/g, '').trim(), 80);
}

function ellipsis(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function tail(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed.length > MAX_RESULT ? `…${trimmed.slice(-MAX_RESULT)}` : trimmed;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
