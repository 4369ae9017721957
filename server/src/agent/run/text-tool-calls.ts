/**
 * Tool calls a model wrote into its text instead of the API's tool-call field. Many local models
 * do this (a chat template without tool support, or a server that does not parse the model's
 * native call format), so the call would otherwise reach the user as JSON and nothing would run.
 *
 * Two forms are recognised, and only for tools codebench offered (anything else stays text):
 * - Hermes/Qwen: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, one or several, anywhere
 *   in the reply; the text around them stays the assistant's text.
 * - A reply that is nothing but one JSON object `{"name": …, "arguments": …}`, bare or fenced.
 *
 * Pure: no I/O, no ids (the loop mints those).
 */

export interface TextToolCall {
  name: string;
  args: Record<string, unknown>;
}

export interface TextToolCalls {
  /** The reply without the recognised calls (trimmed); the whole reply when none was recognised. */
  text: string;
  calls: TextToolCall[];
}

const OPEN_TAG = '<tool_call>';
const CLOSE_TAG = '</tool_call>';

export function extractTextToolCalls(reply: string, offered: ReadonlySet<string>): TextToolCalls {
  const tagged = extractTagged(reply, offered);
  if (tagged.calls.length > 0) return tagged;
  const bare = bareCall(reply, offered);
  return bare ? { text: '', calls: [bare] } : { text: reply, calls: [] };
}

/** Every `<tool_call>` span whose content is a call of an offered tool; the others stay as written. */
function extractTagged(reply: string, offered: ReadonlySet<string>): TextToolCalls {
  const calls: TextToolCall[] = [];
  const kept: string[] = [];
  let cursor = 0;
  for (let open = reply.indexOf(OPEN_TAG); open !== -1; open = reply.indexOf(OPEN_TAG, cursor)) {
    const span = taggedSpan(reply, open + OPEN_TAG.length);
    const call = span && toCall(span.json, offered);
    if (!span || !call) {
      // Not a call we run: leave the tag in the text and look for the next one after it.
      kept.push(reply.slice(cursor, open + OPEN_TAG.length));
      cursor = open + OPEN_TAG.length;
      continue;
    }
    kept.push(reply.slice(cursor, open));
    calls.push(call);
    cursor = span.end;
  }
  kept.push(reply.slice(cursor));
  return calls.length > 0 ? { text: tidy(kept.join('')), calls } : { text: reply, calls: [] };
}

/**
 * The JSON object after an opening tag (optionally inside a ``` fence) and the end of the span:
 * after `</tool_call>`, or at the end of the reply when a model stopped before closing the tag.
 */
function taggedSpan(reply: string, from: number): { json: string; end: number } | undefined {
  let index = skipWhitespace(reply, from);
  const fence = /^```[\w-]*[ \t]*\r?\n/.exec(reply.slice(index));
  if (fence) index += fence[0].length;
  index = skipWhitespace(reply, index);
  const end = objectEnd(reply, index);
  if (end === undefined) return undefined;
  let after = skipWhitespace(reply, end);
  if (fence && reply.startsWith('```', after)) after = skipWhitespace(reply, after + 3);
  if (reply.startsWith(CLOSE_TAG, after)) return { json: reply.slice(index, end), end: after + CLOSE_TAG.length };
  if (after === reply.length) return { json: reply.slice(index, end), end: after };
  return undefined;
}

/** A reply that is only a call: `{…}`, or ```json\n{…}\n``` with nothing else around it. */
function bareCall(reply: string, offered: ReadonlySet<string>): TextToolCall | undefined {
  let body = reply.trim();
  const fenced = /^```[\w-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```$/.exec(body);
  if (fenced) body = fenced[1]!.trim();
  if (!body.startsWith('{') || objectEnd(body, 0) !== body.length) return undefined;
  return toCall(body, offered);
}

/** `{"name", "arguments"}` (or Llama's "parameters"), arguments an object or a JSON string of one. */
function toCall(json: string, offered: ReadonlySet<string>): TextToolCall | undefined {
  const value = parseObject(json);
  if (!value || typeof value.name !== 'string' || !offered.has(value.name)) return undefined;
  const raw = 'arguments' in value ? value.arguments : 'parameters' in value ? value.parameters : {};
  const args = typeof raw === 'string' ? parseObject(raw) : isObject(raw) ? raw : undefined;
  return args ? { name: value.name, args } : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Where the JSON object starting at `start` ends (exclusive), counting braces outside strings so
 * that `"}"` inside an argument does not end it; undefined when it never closes.
 */
function objectEnd(text: string, start: number): number | undefined {
  if (text[start] !== '{') return undefined;
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{') depth++;
    else if (char === '}' && --depth === 0) return index + 1;
  }
  return undefined;
}

function skipWhitespace(text: string, index: number): number {
  while (index < text.length && /\s/.test(text[index]!)) index++;
  return index;
}

/** Removing a call can leave a run of blank lines where it stood. */
function tidy(text: string): string {
  return text.replace(/\n[ \t]*\n(?:[ \t]*\n)+/g, '\n\n').trim();
}
