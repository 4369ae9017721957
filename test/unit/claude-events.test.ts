import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClaudeStreamParser, describeTool, displayPath } from '../../server/src/providers/claude-events.js';
import type { ExternalEvent } from '../../server/src/providers/types.js';
import { REPO } from '../e2e/harness.js';

/** Recorded from the real claude CLI 2.1.329 against the fake server (test/fixtures/claude/record.ts). */
const CWD = '/tmp/codebench-claude-fixture/project';

function lines(name: string): unknown[] {
  return readFileSync(join(REPO, 'test', 'fixtures', 'claude', `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

function parse(name: string, filter: (line: any) => boolean = () => true): { parser: ClaudeStreamParser; events: ExternalEvent[] } {
  const parser = new ClaudeStreamParser(CWD);
  const events = lines(name).filter(filter).flatMap((line) => parser.push(line));
  return { parser, events };
}

const textOf = (events: ExternalEvent[]) => events.flatMap((event) => (event.type === 'text-delta' ? [event.text] : [])).join('');

describe('ClaudeStreamParser on recorded output', () => {
  it('streams text deltas once, and reads the session id, usage and cost', () => {
    const { parser, events } = parse('text');
    expect(textOf(events)).toBe('Hello from the fake model.');
    expect(events.filter((event) => event.type === 'text-delta').length).toBeGreaterThan(1);
    expect(events.every((event) => event.type === 'text-delta')).toBe(true);
    const init = lines('text').find((line: any) => line.type === 'system' && line.subtype === 'init') as any;
    expect(parser.sessionId).toBe(init.session_id);
    expect(parser.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parser.usage).toEqual({ inputTokens: 10, outputTokens: expect.any(Number) });
    expect(parser.usage!.outputTokens).toBeGreaterThan(0);
    expect(parser.costUsd).toBeGreaterThan(0);
    expect(parser.result).toMatchObject({ isError: false, subtype: 'success' });
    expect(parser.text).toBe('Hello from the fake model.');
  });

  it('turns tool use into started/finished pairs with readable activities and workspace-relative paths', () => {
    const { parser, events } = parse('edit');
    const tools = events.filter((event) => event.type !== 'text-delta');
    expect(tools).toEqual([
      { type: 'tool-started', callId: 'toolu_read_1', name: 'Read', activity: 'reading src/a.ts', args: { file_path: `${CWD}/src/a.ts` } },
      expect.objectContaining({ type: 'tool-finished', callId: 'toolu_read_1', name: 'Read', activity: 'reading src/a.ts', isError: false }),
      expect.objectContaining({ type: 'tool-started', callId: 'toolu_edit_1', name: 'Edit', activity: 'editing src/a.ts' }),
      expect.objectContaining({ type: 'tool-finished', callId: 'toolu_edit_1', activity: 'editing src/a.ts', isError: false }),
    ]);
    const read = tools[1] as Extract<ExternalEvent, { type: 'tool-finished' }>;
    expect(read.result).toContain('export const answer = 1;');
    expect((tools[3] as Extract<ExternalEvent, { type: 'tool-finished' }>).result).toContain('updated successfully');
    // Text before the tool call arrives first, the final answer after the last result.
    expect(events[0]).toEqual({ type: 'text-delta', text: expect.any(String) });
    expect(events.at(-1)).toEqual({ type: 'text-delta', text: expect.any(String) });
    expect(parser.streamedText).toBe('Reading it first.Changed the answer to 2.');
    expect(parser.text).toBe('Changed the answer to 2.');
    // Usage is the CLI's total over the three model calls.
    expect(parser.usage?.inputTokens).toBe(30);
  });

  it('reports denied and out-of-workspace tool calls as failed, in the CLI\'s words without its tags', () => {
    const { events } = parse('denied');
    const started = events.filter((event) => event.type === 'tool-started').map((event) => event.activity);
    expect(started).toEqual([
      'running npm test && touch MARKER',
      'searching "answer" in src',
      'finding files matching **/*.ts',
      'writing /tmp/codebench-claude-fixture/outside.txt',
    ]);
    const finished = new Map(events.flatMap((event) => (event.type === 'tool-finished' ? [[event.callId, event] as const] : [])));
    expect(finished.get('toolu_bash_1')).toMatchObject({ isError: true, name: 'Bash', result: expect.stringMatching(/^Error: No such tool available: Bash/) });
    expect(finished.get('toolu_bash_1')!.result).not.toContain('<tool_use_error>');
    expect(finished.get('toolu_grep_1')).toMatchObject({ isError: false, activity: 'searching "answer" in src', result: expect.stringContaining('src/a.ts') });
    expect(finished.get('toolu_write_1')).toMatchObject({ isError: true, result: expect.stringContaining('--restricted confines the file tools') });
  });

  it('reads a "not logged in" failure from the synthetic message and the error result, without showing it as text', () => {
    const { parser, events } = parse('not-logged-in');
    expect(events).toEqual([]);
    expect(parser.apiError).toEqual({ text: 'Not logged in · Please run /login', kind: 'authentication_failed' });
    expect(parser.result).toMatchObject({ isError: true, terminalReason: 'api_error' });
    expect(parser.text).toBe('');
  });

  it('turns API retries into notices and keeps the final HTTP status', () => {
    const { parser, events } = parse('api-401');
    expect(events).toEqual([{ type: 'notice', message: expect.stringMatching(/^API call failed \(HTTP 401, authentication_failed\); retry 1 of 1 in \d+\.\d s$/) }]);
    expect(parser.lastRetry).toMatchObject({ attempt: 1, status: 401 });
    expect(parser.result).toMatchObject({ isError: true, apiErrorStatus: 401, text: expect.stringContaining('Incorrect API key') });
  });

  it('keeps the errors array of a failed resume', () => {
    const { parser } = parse('resume-missing');
    expect(parser.result).toMatchObject({ isError: true, subtype: 'error_during_execution' });
    expect(parser.result!.errors).toEqual([expect.stringContaining('No conversation found with session ID')]);
  });

  it('falls back to assistant messages for text when partial messages are off', () => {
    const { parser, events } = parse('edit', (line) => line.type !== 'stream_event');
    expect(textOf(events)).toBe('Reading it first.Changed the answer to 2.');
    expect(parser.text).toBe('Changed the answer to 2.');
  });

  it('ignores garbage and unknown line types', () => {
    const parser = new ClaudeStreamParser(CWD);
    const garbage: unknown[] = [null, 42, 'text', [1, 2], {}, { type: 7 }, { type: 'rate_limit_event', info: {} }, { type: 'assistant' }, { type: 'user', message: 'x' }];
    expect(garbage.flatMap((line) => parser.push(line))).toEqual([]);
    expect(parser.result).toBeUndefined();
    expect(parser.sessionId).toBeUndefined();
    // Only the two lines typed like the CLI's protocol count; the runner reports "no stream-json" on zero.
    expect(parser.recognised).toBe(2);
  });
});

describe('tool activities', () => {
  const roots = ['/work/project'];
  it.each([
    ['Edit', { file_path: '/work/project/src/a.ts' }, 'editing src/a.ts'],
    ['MultiEdit', { file_path: './src/../src/b.ts' }, 'editing src/b.ts'],
    ['Read', { file_path: '/etc/hosts' }, 'reading /etc/hosts'],
    ['Write', { file_path: '/work/project-other/x.ts' }, 'writing /work/project-other/x.ts'],
    ['Bash', { command: 'npm test' }, 'running npm test'],
    ['Bash', { command: 'echo one\necho two' }, 'running echo one…'],
    ['Grep', { pattern: 'foo', path: '/work/project' }, 'searching "foo"'],
    ['LS', { path: '/work/project/src' }, 'listing src'],
    ['WebSearch', { query: 'vitest' }, 'searching the web for "vitest"'],
    ['mcp__github__create_issue', {}, 'using create_issue (github)'],
    ['SomethingNew', undefined, 'using SomethingNew'],
  ])('%s %j → %s', (name, input, activity) => {
    expect(describeTool(name, input, roots)).toBe(activity);
  });

  it('maps the workspace root itself to "."', () => {
    expect(displayPath('/work/project', roots)).toBe('.');
  });
});
