import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicWire } from './wire-anthropic.js';
import { ollamaShowBody, ollamaWire, type FakeModelInfo } from './wire-ollama.js';
import { openaiWire } from './wire-openai.js';
import { responsesWire } from './wire-responses.js';

/**
 * A scriptable model server on 127.0.0.1 speaking the real wire formats of OpenAI chat
 * completions (SSE), Anthropic messages (SSE) and Ollama /api/chat (NDJSON), so provider code is
 * tested through the official SDKs over real sockets. Each model request consumes the next
 * queued turn whatever its path; with an empty queue the reply is the text "ok".
 */

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is sent as JSON; a string is sent verbatim (use it for invalid JSON). */
  args: Record<string, unknown> | string;
}

export interface FakeTurn {
  /** Streamed word by word. Defaults to "ok" when neither text nor toolCalls is given. */
  text?: string;
  /** Arguments are streamed in several fragments (OpenAI, Anthropic) or whole (Ollama). */
  toolCalls?: FakeToolCall[];
  /** cachedInputTokens: how many of inputTokens were prompt-cache reads (OpenAI's cached_tokens; Anthropic's cache_read_input_tokens, its input_tokens then the rest). */
  usage?: { inputTokens: number; outputTokens: number; cachedInputTokens?: number };
  finish?: 'stop' | 'length' | 'tool-calls';
  /** Reply with this HTTP status and the wire format's error body instead of a completion. */
  status?: number;
  errorMessage?: string;
  /** Sent verbatim as text/html instead of the wire's JSON error body, like a proxy would. */
  errorBodyText?: string;
  /** The provider's error type, e.g. "overloaded_error" or "invalid_request_error". */
  errorType?: string;
  /** Extra response headers, e.g. { 'retry-after': '1' }. */
  headers?: Record<string, string>;
  /** Wait before sending response headers. */
  headersDelayMs?: number;
  /** Pause between frames. */
  chunkDelayMs?: number;
  /** Destroy the socket after this many content chunks (text pieces / argument fragments). */
  cutAfterChunks?: number;
  /** Stop sending after this many content chunks but keep the socket open. */
  stallAfterChunks?: number;
  /** Written verbatim as the streaming body, then the response ends. */
  rawChunks?: string[];
}

export type WireName = 'openai' | 'anthropic' | 'ollama' | 'responses';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when the body was empty or not JSON. */
  body: any;
  rawBody: string;
  /** Set for model requests (the ones that consume a turn). */
  wire?: WireName;
  turn?: FakeTurn;
}

export interface FakeModelServer {
  /** e.g. http://127.0.0.1:40123 — append /v1 for OpenAI-style baseURLs. */
  readonly url: string;
  /** Every request received, in order, including reachability checks. */
  readonly requests: RecordedRequest[];
  /** Only the requests that consumed a turn. */
  readonly modelRequests: RecordedRequest[];
  enqueue(...turns: FakeTurn[]): void;
  /** Turns still queued. */
  pending(): number;
  /** Forgets recorded requests and queued turns (between tests sharing one server). */
  reset(): void;
  close(): Promise<void>;
}

/** One unit written to the wire; `content` marks text pieces and argument fragments. */
export interface Frame {
  data: string;
  content: boolean;
}

export interface NormalizedTurn {
  pieces: string[];
  toolCalls: { id: string; name: string; argsText: string; argsObject: Record<string, unknown>; fragments: string[] }[];
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number };
  finish: 'stop' | 'length' | 'tool-calls';
}

export interface WireFormat {
  streamContentType: string;
  frames(turn: NormalizedTurn, model: string, body: any): Frame[];
  json(turn: NormalizedTurn, model: string): unknown;
  errorBody(status: number, message: string, type: string | undefined): unknown;
  isStream(body: any): boolean;
}

const WIRES: Record<WireName, WireFormat> = { openai: openaiWire, anthropic: anthropicWire, ollama: ollamaWire, responses: responsesWire };

export interface FakeServerOptions {
  models?: string[];
  /**
   * A model without tool support: every model request that carries tools is answered with the
   * server's 400 "… does not support tools" (Ollama's wording) without consuming a turn.
   */
  refuseTools?: boolean;
  /**
   * Ollama's POST /api/show per model name; a model not listed is described with a 32768-token
   * context and no capabilities list (as Ollama before 0.6 answers).
   */
  modelInfo?: Record<string, FakeModelInfo>;
  /** Listen on this port (e.g. one a test saw refused) instead of a free one. */
  port?: number;
}

export async function startFakeModelServer(options: FakeServerOptions = {}): Promise<FakeModelServer> {
  const models = options.models ?? ['fake-model', 'qwen2.5-coder:7b'];
  const queue: FakeTurn[] = [];
  const requests: RecordedRequest[] = [];
  let nextCallId = 1;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
        rawBody,
      };
      requests.push(record);
      const wire = routeOf(record.method, url.pathname);
      if (record.method === 'POST' && url.pathname === '/api/show') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(ollamaShowBody(String(body?.model ?? ''), options.modelInfo?.[String(body?.model ?? '')])));
      }
      if (wire === undefined) return answerOther(record, res, models);
      if (options.refuseTools && Array.isArray(body?.tools) && body.tools.length > 0) {
        record.wire = wire;
        return refuseTools(WIRES[wire], record, res);
      }
      const turn = queue.shift() ?? { text: 'ok' };
      record.wire = wire;
      record.turn = turn;
      void respond(WIRES[wire], turn, record, res, () => `call_fake_${nextCallId++}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get modelRequests() {
      return requests.filter((r) => r.wire !== undefined);
    },
    enqueue: (...turns) => void queue.push(...turns),
    pending: () => queue.length,
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function routeOf(method: string, path: string): WireName | undefined {
  if (method !== 'POST') return undefined;
  if (path.endsWith('/chat/completions')) return 'openai';
  if (path.endsWith('/v1/messages')) return 'anthropic';
  if (path.endsWith('/v1/responses')) return 'responses';
  if (path === '/api/chat') return 'ollama';
  return undefined;
}

function answerOther(record: RecordedRequest, res: ServerResponse, models: string[]): void {
  const send = (status: number, payload: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  };
  if (record.method === 'GET' && record.path === '/api/tags') {
    return send(200, { models: models.map((name) => ({ name, model: name, size: 1, digest: 'fake', details: {} })) });
  }
  if (record.method === 'GET' && record.path.endsWith('/models')) {
    return send(200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })) });
  }
  send(404, { error: { message: `fake model server: no route for ${record.method} ${record.path}` } });
}

/** Ollama's answer (on /api/chat and /v1) to tools sent to a model whose template has none. */
function refuseTools(wire: WireFormat, record: RecordedRequest, res: ServerResponse): void {
  const model = String(record.body?.model ?? 'unknown');
  const name = record.wire === 'ollama' ? `registry.ollama.ai/library/${model}` : model;
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(JSON.stringify(wire.errorBody(400, `${name} does not support tools`, 'invalid_request_error')));
}

function normalize(turn: FakeTurn, mintId: () => string): NormalizedTurn {
  const text = turn.text ?? (turn.toolCalls?.length ? '' : 'ok');
  const pieces = text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
  const toolCalls = (turn.toolCalls ?? []).map((c) => {
    const argsText = typeof c.args === 'string' ? c.args : JSON.stringify(c.args);
    const argsObject = typeof c.args === 'string' ? {} : c.args;
    const size = Math.max(1, Math.ceil(argsText.length / 3));
    const fragments: string[] = [];
    for (let i = 0; i < argsText.length; i += size) fragments.push(argsText.slice(i, i + size));
    return { id: c.id ?? mintId(), name: c.name, argsText, argsObject, fragments };
  });
  return {
    pieces,
    toolCalls,
    usage: turn.usage ?? { inputTokens: 10, outputTokens: pieces.length + toolCalls.length },
    finish: turn.finish ?? (toolCalls.length > 0 ? 'tool-calls' : 'stop'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function respond(
  wire: WireFormat,
  turn: FakeTurn,
  record: RecordedRequest,
  res: ServerResponse,
  mintId: () => string,
): Promise<void> {
  let closed = false;
  res.on('close', () => (closed = true));
  if (turn.headersDelayMs) await sleep(turn.headersDelayMs);
  if (closed) return;
  const extra = turn.headers ?? {};

  if (turn.status !== undefined && turn.status >= 400) {
    const message = turn.errorMessage ?? defaultErrorMessage(turn.status, String(record.body?.model ?? 'unknown'));
    if (turn.errorBodyText !== undefined) {
      res.writeHead(turn.status, { 'content-type': 'text/html', ...extra });
      res.end(turn.errorBodyText);
      return;
    }
    res.writeHead(turn.status, { 'content-type': 'application/json', ...extra });
    res.end(JSON.stringify(wire.errorBody(turn.status, message, turn.errorType)));
    return;
  }

  const normalized = normalize(turn, mintId);
  const model = String(record.body?.model ?? 'fake-model');
  if (!turn.rawChunks && !wire.isStream(record.body)) {
    res.writeHead(turn.status ?? 200, { 'content-type': 'application/json', ...extra });
    res.end(JSON.stringify(wire.json(normalized, model)));
    return;
  }

  res.writeHead(turn.status ?? 200, { 'content-type': wire.streamContentType, 'cache-control': 'no-cache', ...extra });
  res.flushHeaders();
  const frames: Frame[] = turn.rawChunks
    ? turn.rawChunks.map((data) => ({ data, content: false }))
    : wire.frames(normalized, model, record.body);
  const totalContent = frames.filter((f) => f.content).length;
  const stopAt = turn.cutAfterChunks ?? turn.stallAfterChunks;
  const limit = stopAt === undefined ? undefined : Math.min(stopAt, totalContent);
  let contentSent = 0;
  for (const frame of frames) {
    if (limit !== undefined && contentSent >= limit) {
      if (turn.cutAfterChunks !== undefined) {
        // Give the client time to parse what was sent, so the cut lands mid-response.
        await sleep(30);
        res.socket?.destroy();
      }
      return; // a stall: keep the socket open until the client or close() ends it
    }
    if (closed) return;
    await new Promise<void>((resolve) => res.write(frame.data, () => resolve()));
    if (frame.content) contentSent++;
    if (turn.chunkDelayMs) await sleep(turn.chunkDelayMs);
  }
  res.end();
}

function defaultErrorMessage(status: number, model: string): string {
  if (status === 401) return 'Incorrect API key provided.';
  if (status === 403) return 'Permission denied.';
  if (status === 404) return `model "${model}" not found, try pulling it first`;
  if (status === 429) return 'Rate limit reached for requests.';
  if (status >= 500) return 'The server had an error while processing your request.';
  return 'Invalid request.';
}
