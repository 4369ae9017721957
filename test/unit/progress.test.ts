import { describe, expect, it } from 'vitest';
import { RunProgress, type ProgressSink } from '../../server/src/lsp/progress.js';

/** A virtual clock: timers fire only when the test advances time. */
function recordingSink(runEvents = true) {
  let now = 0;
  const timers: Array<{ at: number; callback: () => void; cancelled: boolean }> = [];
  const sent: Array<{ token: string; value: any }> = [];
  const batches: any[] = [];
  const sink: ProgressSink = {
    createToken: async () => true,
    progress: (token, value) => sent.push({ token, value }),
    runEvents: runEvents ? (params) => batches.push(params) : undefined,
    setTimer: (callback, ms) => {
      const timer = { at: now + ms, callback, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
    now: () => now,
  };
  const advance = (ms: number) => {
    const target = now + ms;
    for (;;) {
      const next = timers.filter((timer) => !timer.cancelled && timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      now = next.at;
      next.cancelled = true;
      next.callback();
    }
    now = target;
  };
  return { sink, sent, batches, advance };
}

describe('RunProgress coalescing', () => {
  it('sends at most one report per 250 ms, only when the text changed, and ends with the summary', async () => {
    const { sink, sent, advance } = recordingSink();
    const progress = new RunProgress(sink, 'token-1', { title: 'codebench', useProgress: true });
    progress.begin('starting');
    await new Promise((resolve) => setImmediate(resolve));
    for (let index = 0; index < 200; index++) {
      progress.handle({ type: 'text', text: `word${index} ` });
      advance(5);
    }
    progress.handle({ type: 'tool-started', callId: '1', name: 'read_file', activity: 'reading src/a.ts' });
    advance(300);
    progress.handle({ type: 'tool-started', callId: '2', name: 'read_file', activity: 'reading src/a.ts' });
    advance(300);
    await progress.end('proposed changes to src/a.ts (+1 −1)');
    const kinds = sent.map((record) => record.value.kind);
    expect(kinds[0]).toBe('begin');
    expect(kinds.at(-1)).toBe('end');
    const reports = sent.filter((record) => record.value.kind === 'report');
    // 1000 ms of streaming at 5 ms per token: about four reports, not two hundred.
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.length).toBeLessThanOrEqual(6);
    expect(reports.at(-1)!.value.message).toBe('reading src/a.ts');
    expect(reports.filter((record) => record.value.message === 'reading src/a.ts')).toHaveLength(1);
    expect(sent.at(-1)!.value.message).toBe('proposed changes to src/a.ts (+1 −1)');
  });

  it('batches streamed text into few runEvents notifications, flushing before the end', async () => {
    const { sink, batches, advance } = recordingSink();
    const progress = new RunProgress(sink, 't', { title: 'codebench', useProgress: false });
    progress.handle({ type: 'text', text: 'early ' });
    progress.attach('run-1', 'session-1');
    for (let index = 0; index < 100; index++) {
      progress.handle({ type: 'text', text: 'x' });
      advance(2);
    }
    progress.handle({ type: 'finished', status: 'completed', summary: 'done' });
    await progress.end('done');
    expect(batches.length).toBeLessThanOrEqual(6);
    const events = batches.flatMap((batch) => batch.events);
    expect(events.filter((event) => event.type === 'text').map((event) => event.text).join('')).toBe(`early ${'x'.repeat(100)}`);
    expect(events.at(-1)).toEqual({ type: 'finished', status: 'completed', summary: 'done' });
    expect(batches.every((batch) => batch.runId === 'run-1' && batch.sessionId === 'session-1')).toBe(true);
  });

  it('sends the first streamed token at once, then batches', async () => {
    const { sink, batches, advance } = recordingSink();
    const progress = new RunProgress(sink, 't', { title: 'codebench', useProgress: false });
    progress.attach('run-1', 'session-1');
    progress.handle({ type: 'text', text: 'first' });
    expect(batches).toHaveLength(1);
    progress.handle({ type: 'text', text: ' second' });
    progress.handle({ type: 'text', text: ' third' });
    expect(batches).toHaveLength(1);
    advance(80);
    expect(batches).toHaveLength(2);
    expect(batches[1].events).toEqual([{ type: 'text', text: ' second third' }]);
  });

  it('sends nothing to a client without progress support', async () => {
    const { sink, sent } = recordingSink(false);
    const progress = new RunProgress(sink, 't', { title: 'codebench', useProgress: false });
    progress.begin('starting');
    progress.handle({ type: 'notice', message: 'retrying' });
    await progress.end('done');
    expect(sent).toEqual([]);
  });
});
