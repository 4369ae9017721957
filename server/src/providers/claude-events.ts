import { isAbsolute, normalize, relative, sep } from 'node:path';
import type { ExternalEvent, Usage } from './types.js';

/**
 * Reads the JSON lines of `claude -p --output-format stream-json --verbose
 * --include-partial-messages` into ExternalEvents. Pure: the runner feeds it parsed lines and
 * reads the outcome fields afterwards, so it is unit-tested on recorded output.
 */

export interface ClaudeResult {
  isError: boolean;
  /** `success`, `error_during_execution`, `error_max_turns`, … */
  subtype: string;
  /** The final answer, or the CLI's own words about what failed. */
  text: string;
  /** Messages from the `errors` array (e.g. "No conversation found with session ID: …"). */
  errors: string[];
  apiErrorStatus?: number;
  /** e.g. `completed`, `api_error`. */
  terminalReason?: string;
}

export interface ClaudeRetry {
  attempt: number;
  maxRetries?: number;
  status?: number;
  error?: string;
  delayMs?: number;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export class ClaudeStreamParser {
  sessionId: string | undefined;
  model: string | undefined;
  result: ClaudeResult | undefined;
  usage: Usage | undefined;
  costUsd: number | undefined;
  /** Set from the CLI's synthetic assistant message for a failed API call ("Not logged in · Please run /login"). */
  apiError: { text: string; kind?: string } | undefined;
  lastRetry: ClaudeRetry | undefined;
  /** Lines that looked like the CLI's protocol; zero means the command was not speaking it. */
  recognised = 0;
  private streamed = '';
  /** Whether text deltas arrived for the message in flight, so its final copy is not repeated. */
  private streamingMessage = false;
  private readonly tools = new Map<string, { name: string; activity: string }>();
  private readonly roots: string[];

  constructor(cwd: string) {
    this.roots = [cwd];
  }

  /** Everything the user saw streamed, in order. */
  get streamedText(): string {
    return this.streamed;
  }

  /** The answer: the CLI's final message when it succeeded, otherwise what streamed before the failure. */
  get text(): string {
    if (this.result && !this.result.isError && this.result.text) return this.result.text;
    return this.streamed;
  }

  push(line: unknown): ExternalEvent[] {
    if (!isObject(line) || typeof line.type !== 'string') return [];
    const events: ExternalEvent[] = [];
    switch (line.type) {
      case 'system':
        this.recognised++;
        this.system(line, events);
        break;
      case 'stream_event':
        this.recognised++;
        if (line.parent_tool_use_id == null) this.streamEvent(line.event, events);
        break;
      case 'assistant':
        this.recognised++;
        this.assistant(line, events);
        break;
      case 'user':
        this.recognised++;
        this.user(line, events);
        break;
      case 'result':
        this.recognised++;
        this.finish(line);
        break;
      default:
        // Newer CLI versions add line types (hooks, rate-limit info); none of them matter here.
        break;
    }
    return events;
  }

  private system(line: Json, events: ExternalEvent[]): void {
    if (line.subtype === 'init') {
      this.sessionId = str(line.session_id) ?? this.sessionId;
      this.model = str(line.model) ?? this.model;
      // The CLI reports its cwd after resolving symlinks (/tmp → /private/tmp on macOS).
      const cwd = str(line.cwd);
      if (cwd && !this.roots.includes(cwd)) this.roots.push(cwd);
      return;
    }
    if (line.subtype === 'api_retry') {
      const retry: ClaudeRetry = {
        attempt: num(line.attempt) ?? 1,
        maxRetries: num(line.max_retries),
        status: num(line.error_status),
        error: str(line.error),
        delayMs: num(line.retry_delay_ms),
      };
      this.lastRetry = retry;
      const what = [retry.status !== undefined ? `HTTP ${retry.status}` : undefined, retry.error].filter(Boolean).join(', ');
      const of = retry.maxRetries !== undefined ? ` of ${retry.maxRetries}` : '';
      const wait = retry.delayMs !== undefined ? ` in ${(retry.delayMs / 1000).toFixed(1)} s` : '';
      events.push({ type: 'notice', message: `API call failed (${what || 'error'}); retry ${retry.attempt}${of}${wait}` });
    }
  }

  private streamEvent(event: unknown, events: ExternalEvent[]): void {
    if (!isObject(event)) return;
    if (event.type === 'message_start') {
      this.streamingMessage = false;
      return;
    }
    if (event.type !== 'content_block_delta' || !isObject(event.delta)) return;
    if (event.delta.type !== 'text_delta') return; // thinking and tool-argument fragments are not shown
    const text = str(event.delta.text);
    if (!text) return;
    this.streamingMessage = true;
    this.streamed += text;
    events.push({ type: 'text-delta', text });
  }

  private assistant(line: Json, events: ExternalEvent[]): void {
    const message = isObject(line.message) ? line.message : {};
    if (line.is_api_error_message === true || message.model === '<synthetic>') {
      const text = blocksText(message.content);
      if (text) this.apiError = { text, kind: str(line.error) };
      return;
    }
    if (!Array.isArray(message.content)) return;
    const topLevel = line.parent_tool_use_id == null;
    for (const block of message.content) {
      if (!isObject(block)) continue;
      if (block.type === 'text' && topLevel && !this.streamingMessage) {
        // Only without --include-partial-messages: then this is the first time the text is seen.
        const text = str(block.text);
        if (text) {
          this.streamed += text;
          events.push({ type: 'text-delta', text });
        }
      } else if (block.type === 'tool_use') {
        const callId = str(block.id) ?? `tool-${this.tools.size + 1}`;
        const name = str(block.name) ?? 'tool';
        const activity = describeTool(name, block.input, this.roots);
        this.tools.set(callId, { name, activity });
        events.push({ type: 'tool-started', callId, name, activity, args: block.input ?? {} });
      }
    }
  }

  private user(line: Json, events: ExternalEvent[]): void {
    const message = isObject(line.message) ? line.message : {};
    if (!Array.isArray(message.content)) return;
    for (const block of message.content) {
      if (!isObject(block) || block.type !== 'tool_result') continue;
      const callId = str(block.tool_use_id) ?? '';
      const tool = this.tools.get(callId) ?? { name: 'tool', activity: 'using a tool' };
      this.tools.delete(callId);
      events.push({
        type: 'tool-finished',
        callId,
        name: tool.name,
        activity: tool.activity,
        result: toolResultText(block.content),
        isError: block.is_error === true,
      });
    }
  }

  private finish(line: Json): void {
    this.sessionId = str(line.session_id) ?? this.sessionId;
    const usage = isObject(line.usage) ? line.usage : undefined;
    if (usage) {
      // Cached prompt tokens are still tokens the model read; the CLI reports them apart.
      const input = (num(usage.input_tokens) ?? 0) + (num(usage.cache_creation_input_tokens) ?? 0) + (num(usage.cache_read_input_tokens) ?? 0);
      const cached = num(usage.cache_read_input_tokens) ?? 0;
      this.usage = { inputTokens: input, outputTokens: num(usage.output_tokens) ?? 0, ...(cached > 0 ? { cachedInputTokens: cached } : {}) };
    }
    this.costUsd = num(line.total_cost_usd) ?? this.costUsd;
    const errors = Array.isArray(line.errors) ? line.errors.map((error) => (typeof error === 'string' ? error : JSON.stringify(error))) : [];
    this.result = {
      isError: line.is_error === true || (typeof line.subtype === 'string' && line.subtype.startsWith('error')),
      subtype: str(line.subtype) ?? 'unknown',
      text: str(line.result) ?? '',
      errors,
      apiErrorStatus: num(line.api_error_status),
      terminalReason: str(line.terminal_reason),
    };
  }
}

function blocksText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block) => (isObject(block) && block.type === 'text' ? (str(block.text) ?? '') : isObject(block) && block.type === 'image' ? '[image]' : ''))
    .filter(Boolean)
    .join('\n');
}

function toolResultText(content: unknown): string {
  // The CLI wraps refusals in <tool_use_error> for the model; people read them without the tag.
  return blocksText(content).replace(/<\/?tool_use_error>/g, '').trim();
}

/** A file path as the user knows it: relative to the workspace when it is inside. */
export function displayPath(path: string, roots: string[]): string {
  if (!isAbsolute(path)) return normalize(path).split(sep).join('/');
  for (const root of roots) {
    const inside = relative(root, path);
    if (!inside.startsWith('..') && !isAbsolute(inside)) return inside === '' ? '.' : inside.split(sep).join('/');
  }
  return path;
}

function clip(text: string, max = 60): string {
  const line = text.split('\n')[0]!.trim();
  return line.length > max || text.includes('\n') ? `${line.slice(0, max).trimEnd()}…` : line;
}

/** What a tool call is doing, as a person would say it: `editing src/a.ts`, `running npm test`. */
export function describeTool(name: string, input: unknown, roots: string[]): string {
  const args = isObject(input) ? input : {};
  const path = (key: string) => {
    const value = str(args[key]);
    return value ? displayPath(value, roots) : undefined;
  };
  const where = (key: string) => {
    const value = path(key);
    return value && value !== '.' ? ` in ${value}` : '';
  };
  switch (name) {
    case 'Read':
      return `reading ${path('file_path') ?? 'a file'}`;
    case 'Edit':
    case 'MultiEdit':
      return `editing ${path('file_path') ?? 'a file'}`;
    case 'NotebookEdit':
      return `editing ${path('notebook_path') ?? 'a notebook'}`;
    case 'Write':
      return `writing ${path('file_path') ?? 'a file'}`;
    case 'Grep':
      return `searching "${clip(str(args.pattern) ?? '')}"${where('path')}`;
    case 'Glob':
      return `finding files matching ${clip(str(args.pattern) ?? '*')}${where('path')}`;
    case 'LS':
      return `listing ${path('path') ?? 'files'}`;
    case 'Bash':
    case 'PowerShell':
      return `running ${clip(str(args.command) ?? 'a command')}`;
    case 'WebFetch':
      return `fetching ${clip(str(args.url) ?? 'a web page', 80)}`;
    case 'WebSearch':
      return `searching the web for "${clip(str(args.query) ?? '')}"`;
    case 'Task':
    case 'Agent':
      return `delegating: ${clip(str(args.description) ?? 'a subtask')}`;
    case 'TodoWrite':
      return 'updating its to-do list';
    default: {
      const mcp = /^mcp__(.+?)__(.+)$/.exec(name);
      return mcp ? `using ${mcp[2]} (${mcp[1]})` : `using ${name}`;
    }
  }
}
