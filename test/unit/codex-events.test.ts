import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CodexEventParser, unwrapShell } from '../../server/src/providers/codex-events.js';
import type { ExternalEvent } from '../../server/src/providers/types.js';

/** Lines recorded from the real codex 0.169 by test/fixtures/codex/record.ts, with this cwd. */
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'codex');
const CWD = '/tmp/codebench-codex-fixture/project';

function parse(lines: string[], roots = [CWD]) {
  const events: ExternalEvent[] = [];
  const parser = new CodexEventParser(roots, (event) => events.push(event));
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      parser.push(JSON.parse(line));
    } catch {
      parser.pushOther(line);
    }
  }
  return { events, summary: parser.summary };
}

const fixture = (name: string) => parse(readFileSync(join(FIXTURES, `${name}.jsonl`), 'utf8').split('\n'));

describe('codex exec --json parser', () => {
  it('reads the agent message, the thread id and the usage of a plain answer', () => {
    const { events, summary } = fixture('text');
    expect(events).toEqual([{ type: 'text-delta', text: 'Hello from codex.' }]);
    expect(summary).toMatchObject({ text: 'Hello from codex.', turnCompleted: true, turnFailed: false, sawEvents: true });
    expect(summary.threadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(summary.usage).toEqual({ inputTokens: 10, outputTokens: 3 });
    expect(summary.failure).toBeUndefined();
  });

  it('turns a patch into started/finished events with a cwd-relative activity, between two messages', () => {
    const { events, summary } = fixture('edit');
    expect(events).toEqual([
      { type: 'text-delta', text: 'I will edit the file.' },
      {
        type: 'tool-started',
        callId: 'item_1',
        name: 'apply_patch',
        activity: 'editing src/a.ts',
        args: { changes: [{ path: 'src/a.ts', kind: 'update' }] },
      },
      { type: 'tool-finished', callId: 'item_1', name: 'apply_patch', activity: 'editing src/a.ts', result: 'M src/a.ts', isError: false },
      { type: 'text-delta', text: '\n\nChanged a to 2.' },
    ]);
    expect(summary.text).toBe('I will edit the file.\n\nChanged a to 2.');
    expect(summary.usage).toEqual({ inputTokens: 20, outputTokens: 10 });
  });

  it('names every kind of change in a multi-file patch', () => {
    const started = fixture('edit-multi').events.find((event) => event.type === 'tool-started');
    expect(started).toMatchObject({ activity: 'deleting README.md, creating src/b.ts' });
    const finished = fixture('edit-multi').events.find((event) => event.type === 'tool-finished');
    expect(finished).toMatchObject({ result: 'D README.md\nA src/b.ts', isError: false });
  });

  it('shows commands as a person would type them, with exit codes and output', () => {
    // codex runs parallel calls concurrently, so the recorded order of the two commands varies.
    const tools = fixture('commands').events.filter((event) => event.type !== 'text-delta');
    const byCommand = (command: string) => {
      const started = tools.find((event) => event.type === 'tool-started' && (event.args as { command: string }).command === command);
      const callId = started?.type === 'tool-started' ? started.callId : undefined;
      return tools.filter((event) => event.type !== 'notice' && event.callId === callId);
    };
    expect(tools).toHaveLength(4);
    expect(byCommand('echo hi')).toEqual([
      { type: 'tool-started', callId: expect.stringMatching(/^item_/), name: 'shell', activity: 'running echo hi', args: { command: 'echo hi' } },
      { type: 'tool-finished', callId: expect.stringMatching(/^item_/), name: 'shell', activity: 'running echo hi', result: 'exit code 0\nhi', isError: false },
    ]);
    expect(byCommand('cat nope.txt')).toEqual([
      { type: 'tool-started', callId: expect.stringMatching(/^item_/), name: 'shell', activity: 'running cat nope.txt', args: { command: 'cat nope.txt' } },
      {
        type: 'tool-finished',
        callId: expect.stringMatching(/^item_/),
        name: 'shell',
        activity: 'running cat nope.txt',
        result: 'exit code 1\ncat: nope.txt: No such file or directory',
        isError: true,
      },
    ]);
  });

  it('reports reasoning as a notice and a web search as a tool', () => {
    const { events, summary } = fixture('reasoning-search');
    expect(events).toEqual([
      { type: 'notice', message: 'thinking: Looking up docs' },
      expect.objectContaining({ type: 'tool-started', name: 'web_search', activity: 'searching the web for "vitest fake timers"' }),
      expect.objectContaining({ type: 'tool-finished', name: 'web_search', isError: false }),
    ]);
    expect(summary.text).toBe('');
    expect(summary.turnCompleted).toBe(true);
  });

  it('passes codex warnings on as notices', () => {
    const { events, summary } = fixture('fallback-model');
    expect(events[0]).toEqual({ type: 'notice', message: expect.stringContaining('Model metadata for `fake-model` not found') });
    expect(summary.text).toBe('Still works.');
  });

  it('keeps the thread id of a resumed session', () => {
    const first = fixture('resume-first').summary.threadId;
    expect(fixture('resume').summary.threadId).toBe(first);
  });

  it('sees a refused key at the first retry, and the failed turn', () => {
    const lines = readFileSync(join(FIXTURES, 'auth-failed.jsonl'), 'utf8').split('\n');
    const early = parse(lines.slice(0, 3));
    expect(early.summary.authFailure).toBe('unexpected status 401 Unauthorized: Incorrect API key provided., url: http://127.0.0.1:PORT/v1/responses');
    expect(early.events).toEqual([{ type: 'notice', message: expect.stringMatching(/^reconnecting 1\/5 \(unexpected status 401/) }]);
    expect(early.summary.turnFailed).toBe(false);

    const { summary } = fixture('auth-failed');
    expect(summary).toMatchObject({ turnFailed: true, turnCompleted: false, text: '' });
    expect(summary.failure).toContain('401 Unauthorized');
  });

  it('treats a missing key variable as an authentication failure', () => {
    const { summary } = fixture('no-key');
    expect(summary.authFailure).toBe('Missing environment variable: `TEST_OPENAI_KEY`.');
    expect(summary.turnFailed).toBe(true);
  });

  it('handles the items the fake cannot make codex emit: MCP calls, plans, declined commands', () => {
    const { events } = parse([
      JSON.stringify({ type: 'item.started', item: { id: 'item_0', type: 'todo_list', items: [{ text: 'Read the code', completed: false }, { text: 'Fix it', completed: false }] } }),
      JSON.stringify({ type: 'item.updated', item: { id: 'item_0', type: 'todo_list', items: [{ text: 'Read the code', completed: true }, { text: 'Fix it', completed: false }] } }),
      JSON.stringify({ type: 'item.started', item: { id: 'item_1', type: 'mcp_tool_call', server: 'docs', tool: 'lookup', arguments: { q: 'x' }, result: null, error: null, status: 'in_progress' } }),
      JSON.stringify({ type: 'item.completed', item: { id: 'item_1', type: 'mcp_tool_call', server: 'docs', tool: 'lookup', arguments: { q: 'x' }, result: { content: [{ type: 'text', text: 'found' }] }, error: null, status: 'completed' } }),
      JSON.stringify({ type: 'item.completed', item: { id: 'item_2', type: 'mcp_tool_call', server: 'docs', tool: 'lookup', arguments: null, result: null, error: { message: 'boom' }, status: 'failed' } }),
      JSON.stringify({ type: 'item.completed', item: { id: 'item_3', type: 'command_execution', command: `bash -lc 'rm -rf ${CWD}/build'`, aggregated_output: '', exit_code: null, status: 'declined' } }),
    ]);
    expect(events).toEqual([
      { type: 'notice', message: 'plan: 0/2 done — next: Read the code' },
      { type: 'notice', message: 'plan: 1/2 done — next: Fix it' },
      { type: 'tool-started', callId: 'item_1', name: 'docs.lookup', activity: 'calling docs lookup', args: { q: 'x' } },
      { type: 'tool-finished', callId: 'item_1', name: 'docs.lookup', activity: 'calling docs lookup', result: 'found', isError: false },
      { type: 'tool-started', callId: 'item_2', name: 'docs.lookup', activity: 'calling docs lookup', args: null },
      { type: 'tool-finished', callId: 'item_2', name: 'docs.lookup', activity: 'calling docs lookup', result: 'boom', isError: true },
      { type: 'tool-started', callId: 'item_3', name: 'shell', activity: 'running rm -rf build', args: { command: 'rm -rf build' } },
      { type: 'tool-finished', callId: 'item_3', name: 'shell', activity: 'running rm -rf build', result: 'declined', isError: true },
    ]);
  });

  it('maps paths through the real path of the cwd too', () => {
    const line = JSON.stringify({ type: 'item.completed', item: { id: 'item_0', type: 'file_change', changes: [{ path: '/private/tmp/p/a.ts', kind: 'add' }, { path: '/elsewhere/b.ts', kind: 'add' }], status: 'failed' } });
    const { events } = parse([line], ['/tmp/p', '/private/tmp/p']);
    expect(events.at(-1)).toMatchObject({ activity: 'creating a.ts, /elsewhere/b.ts', result: 'failed to apply:\nA a.ts\nA /elsewhere/b.ts', isError: true });
  });

  it('keeps garbage lines for the error message and says no events were seen', () => {
    const { events, summary } = parse(['Welcome to not-codex 1.0', '{"not": "an event"}', '{broken json', 'plain text']);
    expect(events).toEqual([]);
    expect(summary.sawEvents).toBe(false);
    expect(summary.otherLines).toEqual(['Welcome to not-codex 1.0', '{broken json', 'plain text']);
  });

  it('unwraps the shell codex runs commands through', () => {
    expect(unwrapShell(`/bin/bash -lc 'echo '\\''quoted'\\'''`)).toBe(`echo 'quoted'`);
    expect(unwrapShell('/usr/bin/zsh -c "npm test -- \\"a b\\""')).toBe('npm test -- "a b"');
    expect(unwrapShell('npm test')).toBe('npm test');
  });
});
