import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer, type FakeTurn } from '../fakes/model-server.js';
import { faultWorkspace, startClient, WIRES, type TestClient, type Wire, type Workspace } from './fault-harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

/**
 * Provider faults end to end through `codebench lsp`, on every wire format: the SDK-level
 * classification is covered in test/integration/providers-errors.test.ts; this checks what the
 * editor sees (progress end, showMessage, history) and that the server keeps serving.
 */

/** A malformed frame after some text, per wire, so the partial text can be checked in history. */
const MALFORMED: Record<Wire, string[]> = {
  openai: [
    'data: {"id":"c1","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"partial answer"},"finish_reason":null}]}\n\n',
    'data: {not json\n\n',
  ],
  anthropic: [
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"partial answer"}}\n\n',
    'event: content_block_delta\ndata: {not json\n\n',
  ],
  ollama: [
    '{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"partial answer"},"done":false}\n',
    '{not json\n',
  ],
};

/** Ollama sends parsed arguments, so its invalid-JSON case is a string argument, as some models emit. */
const OLLAMA_BAD_ARGS = [
  '{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"read_file","arguments":"{\\"path\\": \\"main.py\\""}}]},"done":false}\n',
  '{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":1,"prompt_eval_count":1}\n',
];

interface Outcome {
  result: { status: string; summary: string; text: string; sessionId: string; error?: string };
  reports: string[];
  end: string | undefined;
  shown: string[];
  /** Undefined when the session is gone (a first ask that failed unanswered is not kept). */
  history: Array<{ role: string; content: string }> | undefined;
  elapsedMs: number;
}

describe.each(WIRES)('provider faults end to end over %s', (wire) => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = await faultWorkspace(fake, { timeoutSeconds: 1 });
    client = await startClient(workspace);
  });
  afterAll(async () => {
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  async function run(turns: FakeTurn[], provider: string = wire): Promise<Outcome> {
    fake.reset();
    fake.enqueue(...turns);
    const progressFrom = client.progress.length;
    const messagesFrom = client.messages.length;
    const started = Date.now();
    const result = await client.request(Requests.ask.method, { uri: workspace.uri('main.py'), instruction: `fault ${turns.length}`, provider });
    const elapsedMs = Date.now() - started;
    const progress = client.progress.slice(progressFrom);
    const messages = await client.request(Requests.messages.method, { sessionId: result.sessionId }).then(
      (answer) => answer.messages,
      () => undefined,
    );
    return {
      result,
      elapsedMs,
      reports: progress.filter((record) => record.value.kind === 'report').map((record) => record.value.message ?? ''),
      end: progress.find((record) => record.value.kind === 'end')?.value.message,
      shown: client.messages.slice(messagesFrom).map((message) => message.message),
      history: messages,
    };
  }

  /** A failed run: the same specific message in progress end, showMessage and the result. */
  function expectFailed(outcome: Outcome, pattern: RegExp): void {
    expect(outcome.result.status).toBe('failed');
    expect(outcome.result.summary).toMatch(pattern);
    // The progress end is the same line, shortened to fit a status line; showMessage has it whole.
    expect(outcome.end).toBeDefined();
    expect(outcome.result.summary.startsWith(outcome.end!.replace(/…$/, ''))).toBe(true);
    expect(outcome.shown).toContain(`codebench: ${outcome.result.summary}`);
  }

  const assistantText = (outcome: Outcome) => outcome.history!.filter((m) => m.role === 'assistant').map((m) => m.content).join('\n');

  it('connection refused on this machine: fails at once with what to start, and leaves no empty session', async () => {
    const outcome = await run([], `${wire}-refused`);
    expectFailed(
      outcome,
      wire === 'ollama'
        ? /is not reachable: connection refused, nothing listens on 127\.0\.0\.1:\d+\. Start Ollama with `ollama serve`/
        : /is not reachable: connection refused, nothing listens on 127\.0\.0\.1:\d+\. Start the server/,
    );
    expect(outcome.reports.filter((message) => /retrying/.test(message))).toEqual([]);
    expect(JSON.stringify([outcome.result, outcome.reports, outcome.end, outcome.shown])).not.toContain('no response');
    // Nothing was answered, so nothing is kept: no session to list, and none to read.
    expect(outcome.history).toBeUndefined();
    const { sessions } = await client.request(Requests.sessions.method, {});
    expect(sessions.map((session: { id: string }) => session.id)).not.toContain(outcome.result.sessionId);

    // The editor already holds the id (ask answers it at once); continuing with it just works.
    const followUp = await client.request(Requests.ask.method, {
      uri: workspace.uri('main.py'),
      instruction: 'again, now that it runs',
      provider: wire,
      sessionId: outcome.result.sessionId,
    });
    expect(followUp).toMatchObject({ status: 'completed', sessionId: outcome.result.sessionId, text: 'ok' });
    const { messages } = await client.request(Requests.messages.method, { sessionId: outcome.result.sessionId });
    expect(messages.map((message: { role: string; content: string }) => [message.role, message.content])).toEqual([
      ['user', 'again, now that it runs'],
      ['assistant', 'ok'],
    ]);
  });

  it('DNS failure: names the host-name problem', async () => {
    const outcome = await run([], `${wire}-dns`);
    expectFailed(outcome, /codebench-fault-test\.invalid.*(host name could not be resolved|host name lookup failed)/);
  });

  it('401: one request, names the key variable (or how to set one)', async () => {
    const outcome = await run([{ status: 401 }, { text: 'never used' }]);
    expectFailed(outcome, wire === 'ollama' ? /rejected the credentials \(HTTP 401.*Set apiKeyEnv/ : /rejected the credentials \(HTTP 401.*Check the key in the environment variable TEST_/);
    expect(fake.modelRequests).toHaveLength(1);
    expect(fake.pending()).toBe(1);
  });

  it('429 with Retry-After: waits as asked, reports the retry in progress, one retry only', async () => {
    const outcome = await run([{ status: 429, headers: { 'retry-after': '1' } }, { text: 'after the wait' }]);
    expect(outcome.result).toMatchObject({ status: 'completed', text: 'after the wait' });
    expect(outcome.reports.some((message) => /rate limited by .*retrying in 1 s/.test(message))).toBe(true);
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(950);
    expect(fake.modelRequests).toHaveLength(2);
  });

  it('429 without Retry-After: backoff retry; Retry-After beyond the budget fails at once', async () => {
    const retried = await run([{ status: 429 }, { text: 'second try' }]);
    expect(retried.result).toMatchObject({ status: 'completed', text: 'second try' });
    expect(fake.modelRequests).toHaveLength(2);
    const refused = await run([{ status: 429, headers: { 'retry-after': '600' } }, { text: 'never used' }]);
    expectFailed(refused, /rate limiting requests \(HTTP 429 and asked to wait 600 s\)/);
    expect(refused.elapsedMs).toBeLessThan(5000);
    expect(fake.modelRequests).toHaveLength(1);
  });

  it('500/503: bounded retries, then "try again later"', async () => {
    const outcome = await run([{ status: 500 }, { status: 503 }, { status: 503 }, { text: 'never used' }]);
    expectFailed(outcome, /failed on the server side \(HTTP 503.*Try again later/);
    expect(fake.modelRequests).toHaveLength(3);
    expect(outcome.reports.some((message) => /unavailable \(HTTP 50[03]\), retrying in/.test(message))).toBe(true);
  });

  it('a stream cut after text: exactly one request, partial text kept', async () => {
    const outcome = await run([{ text: 'one two three four five', cutAfterChunks: 2 }, { text: 'must not be used' }]);
    expectFailed(outcome, /closed the connection unexpectedly.*cut off: ask again/);
    expect(fake.modelRequests).toHaveLength(1);
    expect(assistantText(outcome)).toBe('one two');
  });

  it('a stream that stalls: fails after timeoutSeconds, partial text kept, not retried', async () => {
    const outcome = await run([{ text: 'one two three four', stallAfterChunks: 2 }, { text: 'must not be used' }]);
    expectFailed(outcome, /stalled: no data for 1 s mid-response \(timeoutSeconds\).*raise timeoutSeconds/);
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(900);
    expect(outcome.elapsedMs).toBeLessThan(4000);
    expect(fake.modelRequests).toHaveLength(1);
    expect(assistantText(outcome)).toBe('one two');
  });

  it('a response that never ends (all text, no final frame, socket open): fails as stalled', async () => {
    const outcome = await run([{ text: 'the whole answer', stallAfterChunks: 3 }]);
    expectFailed(outcome, /stalled/);
    expect(fake.modelRequests).toHaveLength(1);
    expect(assistantText(outcome)).toBe('the whole answer');
  });

  it('a malformed frame: says the response was malformed, partial text kept', async () => {
    const outcome = await run([{ rawChunks: MALFORMED[wire] }, { text: 'must not be used' }]);
    expectFailed(outcome, /sent a malformed response.*Ask again/);
    expect(fake.modelRequests).toHaveLength(1);
    expect(assistantText(outcome)).toBe('partial answer');
  });

  it('a tool call with invalid JSON arguments: the model is told, and the run goes on', async () => {
    const bad: FakeTurn = wire === 'ollama' ? { rawChunks: OLLAMA_BAD_ARGS } : { toolCalls: [{ name: 'read_file', args: '{"path": "main.py"' }] };
    const outcome = await run([bad, { text: 'recovered after bad arguments' }]);
    expect(outcome.result).toMatchObject({ status: 'completed', text: 'recovered after bad arguments' });
    expect(fake.modelRequests).toHaveLength(2);
    const toolResult = JSON.stringify(fake.modelRequests[1]!.body);
    expect(toolResult).toMatch(/not valid JSON/);
  });

  it('keeps serving: a normal ask afterwards works', async () => {
    const outcome = await run([{ text: 'all good' }]);
    expect(outcome.result).toMatchObject({ status: 'completed', text: 'all good' });
    expect(outcome.end).toBe('all good');
  });
});
