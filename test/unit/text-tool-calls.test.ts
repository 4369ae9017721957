import { describe, expect, it } from 'vitest';
import { extractTextToolCalls, type TextToolCall } from '../../server/src/agent/run/text-tool-calls.js';

const OFFERED = new Set(['read_file', 'edit_file', 'write_file', 'grep']);

/** A small seeded generator, so a failing variant can be reproduced from its index. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

/** Argument values that break naive parsers: braces and tags inside strings, escapes, line breaks. */
const TRICKY = [
  'plain',
  'if (a) { return "}"; }',
  '{{nested}} } {',
  'say "hi" \\ there',
  'line one\nline two\n',
  '</tool_call> inside a string',
  '<tool_call>{"name": "edit_file"}</tool_call>',
  'ünïcödé 🌍',
  '```json\n{}\n```',
];
const SPACES = ['', ' ', '\n', '\n\n  ', '\t'];
const PROSE = ['', 'I will change the file.', 'Let me read it first:\n', 'Done thinking.\n\n'];

function makeCall(next: () => number): TextToolCall {
  const name = pick(next, ['read_file', 'edit_file', 'write_file', 'grep']);
  if (name === 'edit_file') return { name, args: { path: 'src/a.ts', old_string: pick(next, TRICKY), new_string: pick(next, TRICKY) } };
  if (name === 'write_file') return { name, args: { path: 'src/new.ts', content: pick(next, TRICKY) } };
  if (name === 'grep') return { name, args: { pattern: pick(next, TRICKY) } };
  return { name, args: { path: 'src/a.ts', offset: Math.floor(next() * 100) } };
}

/** How a model might write the call: key for the arguments, object or JSON string, spacing, fence. */
function writeCall(call: TextToolCall, next: () => number): string {
  const key = pick(next, ['arguments', 'arguments', 'parameters']);
  const args = next() < 0.3 ? JSON.stringify(JSON.stringify(call.args)) : JSON.stringify(call.args, null, next() < 0.5 ? 2 : undefined);
  const json = next() < 0.5 ? `{"name": "${call.name}", "${key}": ${args}}` : `{\n  "${key}": ${args},\n  "name": "${call.name}"\n}`;
  return next() < 0.2 ? `\`\`\`json\n${json}\n\`\`\`` : json;
}

describe('tool calls written as text', () => {
  it.each(Array.from({ length: 300 }, (_, index) => index))('recognises generated <tool_call> variant %i and keeps the text around it', (seed) => {
    const next = random(seed + 1);
    const count = 1 + Math.floor(next() * 3);
    const calls = Array.from({ length: count }, () => makeCall(next));
    const before = pick(next, PROSE);
    const after = pick(next, PROSE);
    // The last call sometimes lacks its closing tag: models stop right after the JSON.
    const unclosed = after === '' && next() < 0.3;
    const spans = calls.map((call, index) => {
      const close = unclosed && index === count - 1 ? '' : '</tool_call>';
      return `<tool_call>${pick(next, SPACES)}${writeCall(call, next)}${pick(next, SPACES)}${close}`;
    });
    const reply = `${before}${pick(next, SPACES)}${spans.join(pick(next, SPACES))}${pick(next, SPACES)}${after}`;

    const result = extractTextToolCalls(reply, OFFERED);
    expect(result.calls).toEqual(calls);
    // Only the calls are gone: what is left is the prose, give or take the spacing where they stood.
    const squeeze = (text: string) => text.replace(/\s+/g, '');
    expect(squeeze(result.text)).toBe(squeeze(before + after));
    expect(result.text).toBe(result.text.trim());
    if (before.trim()) expect(result.text.startsWith(before.trim())).toBe(true);
    if (after.trim()) expect(result.text.endsWith(after.trim())).toBe(true);
  });

  it.each(Array.from({ length: 100 }, (_, index) => index))('recognises generated bare JSON reply variant %i', (seed) => {
    const next = random(seed + 1000);
    const call = makeCall(next);
    const json = JSON.stringify({ name: call.name, arguments: next() < 0.5 ? call.args : JSON.stringify(call.args) }, null, next() < 0.5 ? 2 : undefined);
    const fence = pick(next, ['', '```json\n', '```\n', '```JSON\n']);
    const reply = `${pick(next, SPACES)}${fence}${json}${fence ? '\n```' : ''}${pick(next, SPACES)}`;
    expect(extractTextToolCalls(reply, OFFERED)).toEqual({ text: '', calls: [call] });
  });

  const stays: Array<[string, string]> = [
    ['malformed JSON in a tag', '<tool_call>{"name": "read_file", "arguments": {"path": "a.ts"</tool_call>'],
    ['a trailing comma', '<tool_call>{"name": "read_file", "arguments": {"path": "a.ts",}}</tool_call>'],
    ['single quotes', "<tool_call>{'name': 'read_file', 'arguments': {'path': 'a.ts'}}</tool_call>"],
    ['an unknown tool in a tag', '<tool_call>{"name": "delete_everything", "arguments": {}}</tool_call>'],
    ['no name', '<tool_call>{"arguments": {"path": "a.ts"}}</tool_call>'],
    ['arguments that are an array', '<tool_call>{"name": "read_file", "arguments": ["a.ts"]}</tool_call>'],
    ['arguments as an invalid JSON string', '<tool_call>{"name": "read_file", "arguments": "{path: a.ts}"}</tool_call>'],
    ['text after an unclosed tag', '<tool_call>{"name": "read_file", "arguments": {"path": "a.ts"}} and then more'],
    ['an unknown tool as bare JSON', '{"name": "delete_everything", "arguments": {}}'],
    ['bare JSON with prose around it', 'Call this: {"name": "read_file", "arguments": {"path": "a.ts"}}'],
    ['bare JSON that is not a call', '{"path": "a.ts", "lines": 3}'],
    ['a JSON array', '[{"name": "read_file", "arguments": {"path": "a.ts"}}]'],
    ['two bare objects', '{"name": "read_file", "arguments": {}}\n{"name": "grep", "arguments": {}}'],
    ['plain prose', 'The function returns {a: 1} when called.'],
  ];
  it.each(stays)('leaves %s as text', (_label, reply) => {
    expect(extractTextToolCalls(reply, OFFERED)).toEqual({ text: reply, calls: [] });
  });

  it('runs the recognised calls and keeps an unrecognised tag as written', () => {
    const reply = 'A <tool_call>{"name": "nope", "arguments": {}}</tool_call> B <tool_call>{"name": "grep", "arguments": {"pattern": "x"}}</tool_call> C';
    expect(extractTextToolCalls(reply, OFFERED)).toEqual({
      text: 'A <tool_call>{"name": "nope", "arguments": {}}</tool_call> B  C',
      calls: [{ name: 'grep', args: { pattern: 'x' } }],
    });
  });

  it('only recognises tools that were offered', () => {
    const reply = '<tool_call>{"name": "run_command", "arguments": {"command": "rm -rf /"}}</tool_call>';
    expect(extractTextToolCalls(reply, OFFERED).calls).toEqual([]);
    expect(extractTextToolCalls(reply, new Set(['run_command'])).calls).toEqual([{ name: 'run_command', args: { command: 'rm -rf /' } }]);
  });
});
