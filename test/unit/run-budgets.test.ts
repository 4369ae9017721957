import { describe, expect, it } from 'vitest';
import { capOutput, MAX_TOOL_OUTPUT_CHARS } from '../../server/src/agent/tools/define.js';
import { shortenOldToolResults } from '../../server/src/agent/run/prompt-budget.js';
import { canonicalJson, RepeatedFailureGuard } from '../../server/src/agent/run/repeat-guard.js';
import { estimateRequestTokens } from '../../server/src/providers/token-estimate.js';
import type { ChatMessage } from '../../server/src/providers/types.js';

describe('RepeatedFailureGuard', () => {
  it('stops at the third identical failing call in a row, whatever the key order', () => {
    const guard = new RepeatedFailureGuard();
    expect(guard.record('edit_file', { path: 'a', old_string: 'x' }, true)).toBeUndefined();
    expect(guard.record('edit_file', { old_string: 'x', path: 'a' }, true)).toBeUndefined();
    expect(guard.record('edit_file', { path: 'a', old_string: 'x' }, true)).toBe('stopped: the model sent the same failing edit_file call 3 times in a row');
  });

  it('starts over after a success or a different call', () => {
    const guard = new RepeatedFailureGuard();
    guard.record('grep', { pattern: 'a' }, true);
    guard.record('grep', { pattern: 'a' }, true);
    expect(guard.record('grep', { pattern: 'a' }, false)).toBeUndefined();
    guard.record('grep', { pattern: 'a' }, true);
    guard.record('grep', { pattern: 'a' }, true);
    expect(guard.record('grep', { pattern: 'b' }, true)).toBeUndefined();
    expect(guard.record('grep', { pattern: 'a' }, true)).toBeUndefined();
  });

  it('writes canonical JSON with keys sorted at every depth', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});

describe('capOutput', () => {
  it('keeps head and tail at line breaks and says how much was cut', () => {
    const lines = Array.from({ length: 5000 }, (_, index) => `line ${index} ${'x'.repeat(20)}`);
    const output = capOutput(lines.join('\n'));
    expect(output.length).toBeLessThan(MAX_TOOL_OUTPUT_CHARS + 400);
    expect(output.startsWith('line 0 ')).toBe(true);
    expect(output.endsWith('line 4999 xxxxxxxxxxxxxxxxxxxx')).toBe(true);
    const note = /\n\[… (\d+) lines \((\d+) characters\) cut from the middle of this output[^\n]*\]\n/.exec(output);
    expect(note).not.toBeNull();
    const kept = output.replace(note![0], '\n').split('\n');
    // Every line kept is whole, and kept + cut is every line.
    expect(kept.every((line) => /^line \d+ x{20}$/.test(line))).toBe(true);
    expect(kept.length + Number(note![1])).toBe(5000);
  });

  it('leaves output under the cap alone', () => {
    expect(capOutput('short\n')).toBe('short\n');
  });
});

describe('shortenOldToolResults', () => {
  const file = (name: string) => Array.from({ length: 420 }, (_, index) => `${name} line ${index}`).join('\n');
  const conversation = (): ChatMessage[] => [
    { role: 'user', content: 'Request: fix it' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'read_file', args: { path: 'src/a.ts' } }] },
    { role: 'tool', toolCallId: 'c1', toolName: 'read_file', content: file('a') },
    { role: 'assistant', content: '', toolCalls: [{ id: 'c2', name: 'read_file', args: { path: 'src/b.ts' } }] },
    { role: 'tool', toolCallId: 'c2', toolName: 'read_file', content: file('b') },
  ];

  it('shortens the oldest tool result first, to a one-line stub, until the request fits', () => {
    const messages = conversation();
    const request = { system: 'system', tools: [], messages };
    const budget = Math.ceil(estimateRequestTokens(request) * 0.8);
    const { shortened, fits } = shortenOldToolResults(request, budget);
    expect({ shortened, fits }).toEqual({ shortened: 1, fits: true });
    expect(messages[2]).toMatchObject({ role: 'tool', content: '[output of read_file src/a.ts shortened: 420 lines]' });
    expect(messages[4]!.content).toBe(file('b'));
  });

  it('keeps a shortened result shortened, so later requests repeat the same prefix', () => {
    const messages = conversation();
    const request = { system: 'system', tools: [], messages };
    const budget = Math.ceil(estimateRequestTokens(request) * 0.8);
    shortenOldToolResults(request, budget);
    const prefix = JSON.stringify(messages);
    messages.push({ role: 'assistant', content: 'done' });
    expect(shortenOldToolResults(request, budget)).toEqual({ shortened: 0, fits: true });
    expect(JSON.stringify(messages).startsWith(prefix.slice(0, -1))).toBe(true);
  });

  it('says when even every stub does not fit', () => {
    const messages = conversation();
    expect(shortenOldToolResults({ system: 'x'.repeat(10_000), tools: [], messages }, 100)).toEqual({ shortened: 2, fits: false });
  });

  it('changes nothing when the request fits', () => {
    const messages = conversation();
    const before = JSON.stringify(messages);
    expect(shortenOldToolResults({ system: '', tools: [], messages }, 1_000_000)).toEqual({ shortened: 0, fits: true });
    expect(JSON.stringify(messages)).toBe(before);
  });
});
