import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamPart } from '../../server/src/providers/types.js';
import { startFakeModelServer, type FakeModelServer, type FakeTurn } from '../fakes/model-server.js';
import {
  closedPortURL,
  collect,
  errorOf,
  KEY_ENV,
  KEYS,
  KINDS,
  modelFor,
  ofType,
  simpleRequest,
  textOf,
} from './provider-harness.js';

/** Failure paths: classification, the single retry layer, timeouts and cancellation. */

let server: FakeModelServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

/** A malformed frame in each wire format. */
const MALFORMED: Record<(typeof KINDS)[number], string[]> = {
  openai: ['data: {not json\n\n'],
  'openai-compatible': ['data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n', 'data: {not json\n\n'],
  anthropic: ['event: message_start\ndata: {not json\n\n'],
  ollama: ['{not json\n'],
};

describe.each(KINDS)('%s failures', (kind) => {
  const secret = KEYS[kind];
  const allText = (parts: StreamPart[]) => JSON.stringify(parts.map((p) => (p.type === 'error' ? p.error.message : p)));

  it('401 -> auth error naming the env var, without the key', async () => {
    server.enqueue({ status: 401, errorMessage: `Incorrect API key provided: ${secret}.` });
    const parts = await collect(modelFor(kind, server, { apiKeyEnv: KEY_ENV[kind] }).model);
    const error = errorOf(parts);
    expect(error.kind).toBe('auth');
    expect(error.statusCode).toBe(401);
    expect(error.message).toContain(KEY_ENV[kind]);
    expect(error.message).toContain(server.url);
    expect(allText(parts)).not.toContain(secret);
    expect(error.cause).toBeUndefined();
    expect(server.modelRequests).toHaveLength(1);
  });

  it('missing API key -> config error naming the env var, no request sent', async () => {
    const parts = await collect(modelFor(kind, server, { apiKeyEnv: KEY_ENV[kind] }, {}, {}).model);
    const error = errorOf(parts);
    expect(error.kind).toBe('config');
    expect(error.message).toContain(KEY_ENV[kind]);
    expect(server.modelRequests).toHaveLength(0);
  });

  it('429 with Retry-After is retried after the asked wait, with a notice', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '1' } }, { text: 'after the wait' });
    const { model, waits } = modelFor(kind, server);
    const parts = await collect(model);
    expect(textOf(parts)).toBe('after the wait');
    expect(waits).toEqual([1000]);
    const notices = ofType(parts, 'notice').map((n) => n.message);
    expect(notices).toEqual([`rate limited by test-${kind}, retrying in 1 s (attempt 2/3)`]);
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(server.modelRequests).toHaveLength(2);
  });

  it('429 whose Retry-After exceeds the budget fails at once', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '120' } });
    const { model, waits } = modelFor(kind, server);
    const parts = await collect(model);
    const error = errorOf(parts);
    expect(error.kind).toBe('rate-limited');
    expect(error.retryAfterSeconds).toBe(120);
    expect(error.message).toMatch(/120 s/);
    expect(waits).toEqual([]);
    expect(ofType(parts, 'notice')).toEqual([]);
    expect(server.modelRequests).toHaveLength(1);
  });

  it('500 is retried with backoff, then fails as unavailable after bounded attempts', async () => {
    server.enqueue({ status: 500 }, { status: 502 }, { status: 503 }, { text: 'never reached' });
    const { model, waits } = modelFor(kind, server);
    const parts = await collect(model);
    const error = errorOf(parts);
    expect(error.kind).toBe('unavailable');
    expect(error.statusCode).toBe(503);
    expect(waits).toEqual([500, 1000]);
    expect(ofType(parts, 'notice').map((notice) => notice.message)).toEqual([
      `test-${kind} unavailable (HTTP 500), retrying in 0.5 s (attempt 2/3)`,
      `test-${kind} unavailable (HTTP 502), retrying in 1 s (attempt 3/3)`,
    ]);
    expect(server.modelRequests).toHaveLength(3);
    expect(server.pending()).toBe(1);
    await collect(modelFor(kind, server).model);
  });

  it('connection refused on this machine -> unavailable, not retried, naming what to start', async () => {
    const url = await closedPortURL();
    const { model, waits } = modelFor(kind, url);
    const parts = await collect(model);
    const error = errorOf(parts);
    expect(error.kind).toBe('unavailable');
    expect(error.isRetryable).toBe(false);
    expect(error.reason).toBe('connection refused');
    expect(error.message).toContain(`not reachable: connection refused, nothing listens on ${url.replace('http://', '')}.`);
    expect(error.message).toContain(url);
    expect(error.message).toContain(`test-${kind}`);
    expect(error.message).toContain(kind === 'ollama' ? 'Start Ollama with `ollama serve`' : 'Start the server');
    // A server that is not running will not be in 0.5 s: fail at once, and never "no response".
    expect(waits).toEqual([]);
    expect(ofType(parts, 'notice')).toEqual([]);
    expect(allText(parts)).not.toContain('no response');
  });

  it('https:// at a plain HTTP server -> a TLS failure saying to use http://, not retried', async () => {
    const { model, waits } = modelFor(kind, server.url.replace('http://', 'https://'));
    const error = errorOf(await collect(model));
    expect(error.kind).toBe('unavailable');
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/failed the TLS handshake \(ERR_SSL_WRONG_VERSION_NUMBER: wrong version number\)\. The server at 127\.0\.0\.1:\d+ does not seem to speak HTTPS/);
    expect(waits).toEqual([]);
    expect(server.modelRequests).toHaveLength(0);
  });

  it('a stream cut after text is reported and not retried', async () => {
    server.enqueue({ text: 'one two three four five', cutAfterChunks: 2 }, { text: 'must not be used' });
    const parts = await collect(modelFor(kind, server).model);
    expect(ofType(parts, 'text-delta').length).toBeGreaterThan(0);
    expect(['unavailable', 'bad-response']).toContain(errorOf(parts).kind);
    expect(server.modelRequests).toHaveLength(1);
    expect(server.pending()).toBe(1);
  });

  it('a malformed frame -> bad-response', async () => {
    server.enqueue({ rawChunks: MALFORMED[kind] });
    const parts = await collect(modelFor(kind, server).model);
    const error = errorOf(parts);
    expect(error.kind).toBe('bad-response');
    expect(error.message).toContain(`test-${kind}`);
    expect(server.modelRequests).toHaveLength(1);
  });

  it('a stall mid-stream -> unavailable within timeoutSeconds', async () => {
    server.enqueue({ text: 'one two three', stallAfterChunks: 1 });
    const started = Date.now();
    const parts = await collect(modelFor(kind, server, { timeoutSeconds: 0.5 }).model);
    const elapsed = Date.now() - started;
    const error = errorOf(parts);
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/stalled/);
    expect(textOf(parts)).toBe('one ');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
    expect(server.modelRequests).toHaveLength(1);
  });

  it('no response bytes at all -> unavailable "did not respond"', async () => {
    server.enqueue({ headersDelayMs: 5000 });
    const started = Date.now();
    const parts = await collect(modelFor(kind, server, { timeoutSeconds: 0.3 }, { maxAttempts: 1 }).model);
    const error = errorOf(parts);
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/did not respond within 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('abort mid-stream -> cancelled within 100 ms', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    server.enqueue({ text: words, chunkDelayMs: 200 });
    const controller = new AbortController();
    const parts: StreamPart[] = [];
    let abortedAt = 0;
    let endedAt = 0;
    for await (const part of modelFor(kind, server).model.stream(simpleRequest, controller.signal)) {
      parts.push(part);
      if (part.type === 'text-delta' && abortedAt === 0) {
        abortedAt = performance.now();
        controller.abort();
      }
      if (part.type === 'error') endedAt = performance.now();
    }
    expect(errorOf(parts).kind).toBe('cancelled');
    expect(endedAt - abortedAt).toBeLessThan(100);
    expect(ofType(parts, 'text-delta')).toHaveLength(1);
    expect(server.modelRequests).toHaveLength(1);
  });

  it('abort before the response arrives -> cancelled promptly', async () => {
    server.enqueue({ headersDelayMs: 2000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const parts = await collect(modelFor(kind, server).model, simpleRequest, controller.signal);
    expect(errorOf(parts).kind).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('classification details', () => {
  const overflow: Record<string, FakeTurn> = {
    openai: { status: 400, errorMessage: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens." },
    anthropic: { status: 400, errorMessage: 'prompt is too long: 210000 tokens > 200000 maximum' },
    ollama: { status: 400, errorMessage: 'input length exceeds the context length' },
  };
  it.each(Object.keys(overflow) as ('openai' | 'anthropic' | 'ollama')[])('%s: context overflow is recognised', async (kind) => {
    server.enqueue(overflow[kind]!);
    const error = errorOf(await collect(modelFor(kind, server).model));
    expect(error.kind).toBe('context-overflow');
    expect(server.modelRequests).toHaveLength(1);
  });

  it('ollama: a missing model says how to pull it', async () => {
    server.enqueue({ status: 404 });
    const error = errorOf(await collect(modelFor('ollama', server).model));
    expect(error.kind).toBe('bad-request');
    expect(error.message).toContain('ollama pull fake-model');
  });

  it.each(KINDS)('%s: a proxy\'s HTML error page is classified and nothing reaches stdout', async (kind) => {
    server.enqueue({ status: 502, errorBodyText: '<html><body>502 Bad Gateway</body></html>' });
    // console.log/info/debug write to stdout, which is the LSP channel in the real server.
    const spies = (['log', 'info', 'debug'] as const).map((method) => vi.spyOn(console, method));
    const stdout = vi.spyOn(process.stdout, 'write');
    try {
      const error = errorOf(await collect(modelFor(kind, server, {}, { maxAttempts: 1 }).model));
      expect(error.kind).toBe('unavailable');
      expect(error.statusCode).toBe(502);
      expect(error.message).toContain('502');
      for (const spy of [...spies, stdout]) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of [...spies, stdout]) spy.mockRestore();
    }
  });

  it('anthropic: 529 overloaded is retried as unavailable', async () => {
    server.enqueue({ status: 529 }, { text: 'recovered' });
    const { model, waits } = modelFor('anthropic', server);
    const parts = await collect(model);
    expect(textOf(parts)).toBe('recovered');
    expect(waits).toEqual([500]);
    expect(ofType(parts, 'notice')[0]!.message).toMatch(/unavailable \(HTTP 529\)/);
  });

  it('anthropic: an error event mid-stream before any text is retried', async () => {
    server.enqueue(
      { rawChunks: ['event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'] },
      { text: 'second try' },
    );
    const parts = await collect(modelFor('anthropic', server).model);
    expect(textOf(parts)).toBe('second try');
    expect(server.modelRequests).toHaveLength(2);
  });

  it('429 Retry-After as an HTTP date and retry-after-ms are honoured', async () => {
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    server.enqueue({ status: 429, headers: { 'retry-after': inTwoSeconds } }, { status: 429, headers: { 'retry-after-ms': '250' } });
    const { model, waits } = modelFor('openai', server);
    await collect(model);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThan(500);
    expect(waits[0]).toBeLessThanOrEqual(2000);
    expect(waits[1]).toBe(250);
  });

  it('an abort during a retry wait ends the turn at once', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '5' } }, { text: 'not reached' });
    const { model } = modelFor('anthropic', server, {}, { sleep: undefined }); // the real, abortable sleep
    const controller = new AbortController();
    const parts: StreamPart[] = [];
    let abortedAt = 0;
    for await (const part of model.stream(simpleRequest, controller.signal)) {
      parts.push(part);
      if (part.type === 'notice') {
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort();
        }, 50);
      }
    }
    expect(errorOf(parts).kind).toBe('cancelled');
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(server.modelRequests).toHaveLength(1);
  });

  it('a timeout that used up the retry budget is not retried', async () => {
    server.enqueue({ headersDelayMs: 2000 }, { text: 'not reached' });
    const { model, waits } = modelFor('openai', server, { timeoutSeconds: 0.3 }, { maxTotalDelayMs: 500 });
    const error = errorOf(await collect(model));
    expect(error.kind).toBe('unavailable');
    expect(waits).toEqual([]); // 300 ms spent + 500 ms backoff > 500 ms budget
    expect(server.modelRequests).toHaveLength(1);
  });

  it('retries stop once the total wait budget would be exceeded', async () => {
    server.enqueue({ status: 503 }, { status: 503 }, { status: 503 });
    const { model, waits } = modelFor('openai', server, {}, { maxAttempts: 5, baseDelayMs: 400, maxTotalDelayMs: 1000 });
    const error = errorOf(await collect(model));
    expect(error.kind).toBe('unavailable');
    expect(waits).toEqual([400]); // 400 + 800 would exceed 1000
    expect(server.modelRequests).toHaveLength(2);
  });
});
