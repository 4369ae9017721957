import type { ChatMessage, ToolCall, ToolSpec } from './types.js';

/**
 * How the embedded model answers with tools: one JSON object per turn, constrained by a grammar
 * built from the tools' schemas — either `{"tool": NAME, "arguments": {…}}` or `{"answer": "…"}` —
 * so even a small model's calls parse. Also the chat history in node-llama-cpp's shape and the
 * streaming of an answer's text while its JSON string is still open. No node-llama-cpp import here.
 */

type Schema = Record<string, unknown>;

/**
 * A tool's JSON Schema reduced to what node-llama-cpp's grammar supports: there every property is
 * required, so an optional one becomes "value or null" (nulls are dropped from the parsed call).
 */
export function toGrammarSchema(schema: unknown): Schema {
  const source = (typeof schema === 'object' && schema !== null ? schema : {}) as Schema;
  if (Array.isArray(source.enum) && source.enum.length > 0) return { enum: source.enum };
  if (source.const !== undefined) return { const: source.const };
  const variants = (source.anyOf ?? source.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) return { oneOf: variants.map(toGrammarSchema) };
  const type = source.type;
  if (Array.isArray(type)) return { oneOf: type.map((single) => toGrammarSchema({ ...source, type: single })) };
  switch (type) {
    case 'string':
      return { type: 'string' };
    case 'integer':
      return { type: 'integer' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'null':
      return { type: 'null' };
    case 'array':
      return { type: 'array', items: toGrammarSchema(source.items) };
    case 'object':
    case undefined: {
      const properties = (source.properties ?? {}) as Record<string, unknown>;
      if (type === undefined && source.properties === undefined) return { type: 'string' };
      const required = new Set(Array.isArray(source.required) ? (source.required as string[]) : []);
      const converted: Record<string, Schema> = {};
      for (const [name, property] of Object.entries(properties)) {
        const inner = toGrammarSchema(property);
        converted[name] = required.has(name) ? inner : { oneOf: [inner, { type: 'null' }] };
      }
      return { type: 'object', properties: converted };
    }
    default:
      return { type: 'string' };
  }
}

/** The grammar's schema: a call of one of the tools, or an answer. */
export function envelopeSchema(tools: ToolSpec[]): Schema {
  return {
    oneOf: [
      ...tools.map((tool) => ({ type: 'object', properties: { tool: { const: tool.name }, arguments: toGrammarSchema(tool.parameters) } })),
      { type: 'object', properties: { answer: { type: 'string' } } },
    ],
  };
}

/** Appended to the system prompt so the model knows what the grammar holds it to. */
export function envelopeInstructions(tools: ToolSpec[]): string {
  const list = tools.map((tool) => `- ${tool.name}: ${tool.description}\n  arguments: ${JSON.stringify(tool.parameters)}`).join('\n');
  return [
    'Reply with exactly one JSON object and nothing else.',
    'To use a tool: {"tool": "<name>", "arguments": {...}}. The result comes back in the next message.',
    'When you are done: {"answer": "<your final reply to the user>"}.',
    `Tools:\n${list}`,
  ].join('\n');
}

/** The object the grammar produced, as a tool call or an answer; undefined when it is cut short. */
export function parseEnvelope(text: string, id: string): { call: ToolCall } | { answer: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const object = (value ?? {}) as { tool?: unknown; arguments?: unknown; answer?: unknown };
  if (typeof object.tool === 'string') {
    const args: Record<string, unknown> = {};
    for (const [key, argument] of Object.entries((object.arguments ?? {}) as Record<string, unknown>)) if (argument !== null) args[key] = argument;
    return { call: { id, name: object.tool, args } };
  }
  if (typeof object.answer === 'string') return { answer: object.answer };
  return undefined;
}

/**
 * Streams the text of `{"answer": "…"}` while it is generated: each call gets the whole output so
 * far and returns the newly decoded characters (nothing until the answer's string has opened).
 */
export class AnswerStreamer {
  private emitted = 0;

  next(output: string): string {
    const open = /^\s*\{\s*"answer"\s*:\s*"/.exec(output);
    if (!open) return '';
    let body = output.slice(open[0].length);
    const close = closingQuote(body);
    if (close >= 0) body = body.slice(0, close);
    // Leave an escape that is still being written for the next chunk.
    body = body.replace(/\\(u[0-9a-fA-F]{0,3})?$/, '');
    let decoded: string;
    try {
      decoded = JSON.parse(`"${body}"`) as string;
    } catch {
      return '';
    }
    const fresh = decoded.slice(this.emitted);
    this.emitted = decoded.length;
    return fresh;
  }
}

function closingQuote(body: string): number {
  for (let index = 0; index < body.length; index++) {
    if (body[index] === '\\') index++;
    else if (body[index] === '"') return index;
  }
  return -1;
}

/** node-llama-cpp's ChatHistoryItem, declared here so this file does not import the module. */
export type HistoryItem = { type: 'system'; text: string } | { type: 'user'; text: string } | { type: 'model'; response: string[] };

/**
 * Our messages as node-llama-cpp history: a turn's tool calls as the JSON the grammar made, tool
 * results as the following user message (merged with whatever user text comes next).
 */
export function toChatHistory(system: string, messages: ChatMessage[]): HistoryItem[] {
  const history: HistoryItem[] = [{ type: 'system', text: system }];
  const pushUser = (text: string) => {
    const last = history[history.length - 1];
    if (last?.type === 'user') last.text = `${last.text}\n\n${text}`;
    else history.push({ type: 'user', text });
  };
  for (const message of messages) {
    if (message.role === 'user') pushUser(message.content);
    else if (message.role === 'tool') pushUser(`Result of ${message.toolName}${message.isError ? ' (error)' : ''}:\n${message.content}`);
    else {
      const calls = (message.toolCalls ?? []).map((call) => JSON.stringify({ tool: call.name, arguments: call.args }));
      const text = calls.length > 0 ? calls.join('\n') : message.content;
      history.push({ type: 'model', response: [text] });
    }
  }
  if (history[history.length - 1]?.type !== 'user') history.push({ type: 'user', text: 'Continue.' });
  return history;
}
