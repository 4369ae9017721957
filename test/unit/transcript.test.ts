import { describe, expect, it } from 'vitest';
import {
  transcriptTimeline,
  transcriptToJson,
  transcriptToMarkdown,
  truncateLines,
  type Transcript,
} from '../../server/src/agent/history/transcript.js';

const at = (second: number) => `2025-03-04T10:00:${String(second).padStart(2, '0')}.000Z`;

function sample(): Transcript {
  const session = {
    id: '0f1e2d3c-aaaa-4bbb-8ccc-123456789abc',
    workspaceUri: 'file:///work/project',
    title: 'Fix the parser',
    provider: 'openai',
    createdAt: at(0),
    updatedAt: at(40),
    messageCount: 4,
    lastMessagePreview: 'Done',
  };
  const longResult = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
  return {
    session,
    messages: [
      { id: 1, sessionId: session.id, runId: 'run-1', role: 'user', content: 'Why does the parser crash?', createdAt: at(1) },
      { id: 2, sessionId: session.id, runId: 'run-1', role: 'assistant', content: 'It reads past the end.', createdAt: at(9) },
      { id: 3, sessionId: session.id, runId: 'run-2', role: 'user', content: 'Fix it please', createdAt: at(20) },
      // Same millisecond as the tool call: the agent's order (tools before the answer) must win.
      { id: 4, sessionId: session.id, runId: 'run-2', role: 'assistant', content: 'Done — see the proposal.', createdAt: at(30) },
    ],
    runs: [
      {
        id: 'run-1',
        sessionId: session.id,
        provider: 'openai',
        model: 'gpt-test',
        instruction: 'Why does the parser crash?',
        status: 'completed',
        inputTokens: 120,
        outputTokens: 40,
        startedAt: at(1),
        finishedAt: at(9),
        toolCalls: [
          {
            id: 1,
            runId: 'run-1',
            callId: 'c1',
            name: 'read_file',
            args: { path: 'src/parser.ts' },
            result: longResult,
            isError: false,
            startedAt: at(3),
            finishedAt: at(4),
          },
        ],
      },
      {
        id: 'run-2',
        sessionId: session.id,
        provider: 'openai',
        model: 'gpt-test',
        instruction: 'Fix it please',
        status: 'completed',
        startedAt: at(20),
        finishedAt: at(31),
        toolCalls: [
          {
            id: 2,
            runId: 'run-2',
            callId: 'c2',
            name: 'edit_file',
            args: { path: 'src/parser.ts', old: 'a', new: 'b' },
            result: 'old_string appears 3 times; include more context',
            isError: true,
            startedAt: at(25),
            finishedAt: at(25),
          },
          {
            id: 3,
            runId: 'run-2',
            callId: 'c3',
            name: 'edit_file',
            args: { path: 'src/parser.ts' },
            result: 'edited',
            isError: false,
            startedAt: at(30),
            finishedAt: at(30),
          },
        ],
      },
    ],
    proposals: [
      {
        id: 'p-1',
        runId: 'run-2',
        sessionId: session.id,
        status: 'conflict',
        summary: 'src/parser.ts (+1 −1)',
        files: [{ uri: 'file:///work/project/src/parser.ts', path: 'src/parser.ts', baseVersion: 3, created: false }],
        diff: '--- a/src/parser.ts\n+++ b/src/parser.ts\n@@ -1 +1 @@\n-if (i <= n)\n+if (i < n)\n',
        detail: 'the file changed under the edit',
        createdAt: at(31),
        decidedAt: at(35),
      },
    ],
  };
}

describe('transcriptTimeline', () => {
  it('keeps each run together, in the order the agent worked', () => {
    const kinds = transcriptTimeline(sample()).map((entry) => {
      switch (entry.kind) {
        case 'run':
          return `run ${entry.run.id}`;
        case 'message':
          return `${entry.message.role} ${entry.message.id}`;
        case 'tool-call':
          return `tool ${entry.call.callId}`;
        case 'proposal':
          return `proposal ${entry.proposal.id}`;
      }
    });
    expect(kinds).toEqual([
      'run run-1',
      'user 1',
      'tool c1',
      'assistant 2',
      'run run-2',
      'user 3',
      'tool c2',
      'tool c3',
      'assistant 4',
      'proposal p-1',
    ]);
  });

  it("opens a run with its instruction even when the store's clock ran ahead of the tool's", () => {
    const transcript = sample();
    transcript.messages[0] = { ...transcript.messages[0]!, createdAt: at(5) };
    const first = transcriptTimeline(transcript).slice(0, 3).map((entry) => entry.kind);
    expect(first).toEqual(['run', 'message', 'tool-call']);
  });

  it('places messages outside any run by their time', () => {
    const transcript = sample();
    transcript.messages.push({ id: 5, sessionId: transcript.session.id, role: 'system', content: 'note', createdAt: at(15) });
    const order = transcriptTimeline(transcript).map((entry) => entry.kind + (entry.kind === 'run' ? entry.index : ''));
    expect(order.indexOf('message')).toBe(1);
    expect(order.slice(4, 6)).toEqual(['message', 'run2']);
  });
});

describe('transcriptToMarkdown', () => {
  const markdown = transcriptToMarkdown(sample());
  const position = (text: string) => {
    const index = markdown.indexOf(text);
    expect(index, `missing: ${text}`).toBeGreaterThanOrEqual(0);
    return index;
  };

  it('has a header and every turn in order', () => {
    expect(markdown.startsWith('# Fix the parser\n')).toBe(true);
    expect(markdown).toContain('`0f1e2d3c-aaaa-4bbb-8ccc-123456789abc`');
    const turns = [
      '## Run 1 · openai gpt-test · completed',
      'Why does the parser crash?',
      '**Tool** `read_file` `{"path":"src/parser.ts"}`',
      'It reads past the end.',
      '## Run 2',
      'Fix it please',
      '`{"path":"src/parser.ts","old":"a","new":"b"}` — **error**',
      'old_string appears 3 times',
      'Done — see the proposal.',
      '### Proposal · conflict',
    ].map(position);
    expect([...turns].sort((a, b) => a - b)).toEqual(turns);
    expect(markdown).toContain('tokens: 120 in, 40 out');
  });

  it('truncates tool results and says how much is left out', () => {
    expect(markdown).toContain('line 6\n… 24 more lines\n```');
    expect(markdown).not.toContain('line 7\n');
  });

  it('shows each proposal with its status, decision time, detail, files and diff', () => {
    expect(markdown).toContain(`### Proposal · conflict ${at(35)}`);
    expect(markdown).toContain('> the file changed under the edit');
    expect(markdown).toContain('Files: `src/parser.ts`');
    expect(markdown).toContain('```diff\n--- a/src/parser.ts\n+++ b/src/parser.ts\n@@ -1 +1 @@\n-if (i <= n)\n+if (i < n)\n```');
  });

  it('formats times through the caller and marks undecided proposals and failed runs', () => {
    const transcript = sample();
    transcript.proposals[0] = { ...transcript.proposals[0]!, status: 'proposed', decidedAt: undefined, detail: undefined };
    transcript.runs[0] = { ...transcript.runs[0]!, status: 'failed', error: 'rate limited:\nretry later' };
    const text = transcriptToMarkdown(transcript, { formatTime: () => 'T' });
    expect(text).toContain('### Proposal · proposed, not decided');
    expect(text).toContain('> **Failed:** rate limited: retry later');
    expect(text).toContain('### User · T');
    expect(text).not.toContain('2025-03-04');
  });

  it('keeps fences intact around output that contains backticks', () => {
    const transcript = sample();
    transcript.runs[0]!.toolCalls[0]!.result = 'before\n```\nafter';
    const text = transcriptToMarkdown(transcript);
    expect(text).toContain('````text\nbefore\n```\nafter\n````');
  });

  it('says so when a session has nothing in it yet', () => {
    const empty = { ...sample(), messages: [], runs: [], proposals: [] };
    expect(transcriptToMarkdown(empty)).toContain('_No messages yet._');
  });
});

describe('transcriptToJson', () => {
  it('is versioned and nests tool calls in their runs', () => {
    const exported = JSON.parse(JSON.stringify(transcriptToJson(sample())));
    expect(exported.version).toBe(1);
    expect(exported.session.title).toBe('Fix the parser');
    expect(exported.messages).toHaveLength(4);
    expect(exported.runs.map((run: { id: string; toolCalls: unknown[] }) => [run.id, run.toolCalls.length])).toEqual([
      ['run-1', 1],
      ['run-2', 2],
    ]);
    expect(exported.proposals[0].diff).toContain('+if (i < n)');
  });
});

describe('truncateLines', () => {
  it('cuts long lines and counts hidden ones', () => {
    expect(truncateLines('abcdef\nx\ny', 2, 4)).toBe('abc…\nx\n… 1 more line');
    expect(truncateLines('  \n', 3, 10)).toBe('');
  });
});
