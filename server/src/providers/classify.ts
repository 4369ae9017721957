import { ProviderError, type ProviderErrorKind } from './errors.js';
import { redactSecrets } from './secret-patterns.js';
import type { ProviderKind } from './types.js';

/**
 * Turns anything an SDK or fetch can throw into one ProviderError, so nothing above the provider
 * layer parses messages or status codes. SDK errors are recognised by status, error code (also
 * down the `cause` chain) and `name`, not `instanceof`, because the SDKs are loaded lazily and
 * this module must not pull them in.
 */

export interface ClassifyContext {
  providerName: string;
  kind: ProviderKind;
  model: string;
  /** The endpoint actually used, shown so the user can tell which server failed. */
  baseURL: string;
  /** Environment variable the key came from, named in auth errors. */
  apiKeyEnv?: string;
  /** Where the key came from when not an environment variable ("the OS keychain entry …"). */
  keyLocation?: string;
  /** Values that must never appear in a message (the API key). */
  secrets?: string[];
}

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name could not be resolved',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'the connection was closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out waiting for response data',
  UND_ERR_SOCKET: 'the connection dropped mid-response',
  UND_ERR_CLOSED: 'the connection was closed',
};

/** OpenSSL and Node TLS failures: a wrong scheme or a certificate problem, which a retry cannot fix. */
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(VERIFY|GET)_|EPROTO$)/;

const CONTEXT_OVERFLOW =
  /context[ _-]?(length|window)|too many tokens|prompt is too long|maximum context|exceeds? the (model'?s? )?(context|maximum)|input length .* exceed|num_ctx|reduce the length/i;

/** ProviderError.reason of a server refusing the request's tools: the agent retries in text mode. */
export const NO_TOOL_SUPPORT_REASON = 'no-tool-support';

/**
 * Ollama: "registry.ollama.ai/library/gemma:2b does not support tools"; llama.cpp: "tools param
 * requires --jinja flag" or "Unsupported param: tools"; vLLM: '"auto" tool choice requires
 * --enable-auto-tool-choice and --tool-call-parser to be set'; others: "tools are not supported".
 */
const NO_TOOL_SUPPORT =
  /does not support (tools|tool use|tool calling|function calling)|tools param requires --jinja|unsupported param: tools|tool choice requires --enable-auto-tool-choice|\b(tools|tool use|tool calling|function calling) (is |are )?not supported/i;

export function classifyError(error: unknown, ctx: ClassifyContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const label = `${ctx.providerName} (${ctx.kind} at ${ctx.baseURL})`;
  const redact = (text: string): string => {
    let out = text;
    for (const secret of ctx.secrets ?? []) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    // Servers echo partly masked keys ("Incorrect API key provided: sk-ab***yz"); drop those too.
    out = out.replace(/\b(sk|pk|key|sess)-[A-Za-z0-9_*.-]{6,}/g, '[redacted]');
    // Other key formats (ghp_…, AIza…, Bearer …) a proxy or server might echo back.
    return redactSecrets(out);
  };
  const make = (
    kind: ProviderErrorKind,
    message: string,
    extra: { statusCode?: number; retryAfterSeconds?: number; reason?: string; retryable?: boolean } = {},
  ) =>
    new ProviderError({
      kind,
      message: redact(message),
      providerName: ctx.providerName,
      ...extra,
      // An auth failure's cause may carry the server's echo of the key: keep it out of logs.
      cause: kind === 'auth' ? undefined : error,
    });

  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  // `name`, never `constructor.name`: a bundler renames classes (esbuild turned the Anthropic
  // SDK's APIConnectionError into APIConnectionError2), while the SDKs set `name` themselves
  // (Anthropic) or openai.ts sets it by `instanceof` on the classes it imports.
  const name = typeof e.name === 'string' ? e.name : '';
  const status = numberOr(e.status) ?? numberOr(e.status_code);
  const detail = serverMessage(error);

  if (name === 'AbortError' || name === 'APIUserAbortError') {
    return make('cancelled', `The request to ${label} was cancelled.`);
  }

  if (status !== undefined) {
    const http = `HTTP ${status}`;
    if (status === 401 || status === 403) {
      const env = ctx.apiKeyEnv;
      const hint = ctx.keyLocation
        ? `Check the key in ${ctx.keyLocation}.`
        : env
        ? `Check the key in the environment variable ${env}.`
        : `Set apiKeyEnv in this provider's config to the name of an environment variable holding a valid key.`;
      return make('auth', `${label} rejected the credentials (${http}: ${detail}). ${hint}`, { statusCode: status });
    }
    if (status === 429) {
      const retryAfterSeconds = retryAfter(e.headers);
      const wait = retryAfterSeconds !== undefined ? ` and asked to wait ${formatSeconds(retryAfterSeconds)} s` : '';
      return make('rate-limited', `${label} is rate limiting requests (${http}${wait}): ${detail}`, {
        statusCode: status,
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      });
    }
    // Before the 5xx branch: llama.cpp answers 500 "tools param requires --jinja flag", which no retry fixes.
    if ((status === 400 || status === 500) && NO_TOOL_SUPPORT.test(detail)) {
      return make(
        'bad-request',
        `Model ${ctx.model} on ${label} does not support tools (${http}: ${detail}). Set "tools": "auto" or "text" for this provider in the codebench config to use edit blocks instead.`,
        { statusCode: status, reason: NO_TOOL_SUPPORT_REASON, retryable: false },
      );
    }
    if ((status === 400 || status === 413) && CONTEXT_OVERFLOW.test(detail)) {
      return make(
        'context-overflow',
        `The conversation is too long for model ${ctx.model} on ${label} (${http}: ${detail}). Start a new session or include less context.`,
        { statusCode: status },
      );
    }
    if (status === 408 || status >= 500) {
      const why = status === 529 ? 'is overloaded' : 'failed on the server side';
      return make('unavailable', `${label} ${why} (${http}: ${detail}). Try again later, or pick another provider.`, {
        statusCode: status,
      });
    }
    if (status === 404 && ctx.kind === 'ollama' && /model .*not found|not found.*model/i.test(detail)) {
      return make(
        'bad-request',
        `${label} does not have the model ${ctx.model} (${detail}). Download it with \`ollama pull ${ctx.model}\`, or change "model" in the config.`,
        { statusCode: status },
      );
    }
    if (status === 404) {
      return make(
        'bad-request',
        `${label} answered ${http} (${detail}). Check "baseURL" and "model" (${ctx.model}) in the config.`,
        { statusCode: status },
      );
    }
    return make('bad-request', `${label} rejected the request (${http}: ${detail}).`, { statusCode: status });
  }

  // Errors reported inside an open stream (an SSE `error` event) carry a type but no status.
  const errorType = streamErrorType(error);
  if (errorType === 'overloaded_error' || errorType === 'api_error' || errorType === 'server_error') {
    return make('unavailable', `${label} reported an error mid-stream (${errorType}: ${detail}). Try again later.`, { reason: errorType });
  }
  if (errorType === 'rate_limit_error') {
    return make('rate-limited', `${label} is rate limiting requests: ${detail}`);
  }

  const code = connectionCode(error);
  if (code !== undefined && TLS_CODE.test(code)) {
    // OpenSSL says "80EC…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:<source path>".
    const openssl = rootCauseMessage(error) ?? detail;
    const root = /SSL routines:[^:]*:([^:]+)/.exec(openssl)?.[1]?.trim() ?? firstLine(openssl);
    const plainHttp = /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|^EPROTO$/.test(code) || /wrong version number|packet length too long/i.test(root);
    const hint = plainHttp
      ? `The server at ${hostAndPort(ctx.baseURL)} does not seem to speak HTTPS: if it is a plain HTTP server, make "baseURL" start with http://.`
      : `Check the server's certificate, or "baseURL" in the config.`;
    return make('unavailable', `${label} failed the TLS handshake (${code}: ${root}). ${hint}`, { reason: 'TLS handshake failed', retryable: false });
  }
  if (code !== undefined) {
    const what = CONNECTION_CODES[code] ?? code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
      return make('unavailable', `${label} closed the connection unexpectedly: ${what}. The response was cut off: ask again.`, { reason: what });
    }
    // Nothing listening on this machine is not a hiccup: waiting a second will not start it.
    if (code === 'ECONNREFUSED' && isLoopback(ctx.baseURL)) {
      const start = ctx.kind === 'ollama' ? 'Start Ollama with `ollama serve`' : 'Start the server';
      return make(
        'unavailable',
        `${label} is not reachable: connection refused, nothing listens on ${hostAndPort(ctx.baseURL)}. ${start}, or correct "baseURL", or set another defaultProvider in the codebench config.`,
        { reason: what, retryable: false },
      );
    }
    const hint =
      ctx.kind === 'ollama'
        ? `Start it with \`ollama serve\`, or set another defaultProvider in the codebench config.`
        : `Check that the server is running and that "baseURL" is right, or set another defaultProvider in the codebench config.`;
    return make('unavailable', `${label} is not reachable: ${what}. ${hint}`, { reason: what });
  }
  if (name === 'APIConnectionTimeoutError' || /timed? ?out/i.test(detail)) {
    return make('unavailable', `${label} timed out: ${detail}`, { reason: 'timed out' });
  }
  if (name === 'APIConnectionError' || /fetch failed|terminated|socket|connection error/i.test(detail)) {
    const root = rootCauseMessage(error);
    const why = root && root !== detail ? `${detail} (${firstLine(root)})` : detail;
    return make('unavailable', `${label} connection failed: ${why}. Check "baseURL" in the config.`, { reason: 'connection failed' });
  }
  if (error instanceof SyntaxError || /did not receive done|unexpected end|json/i.test(detail)) {
    return make('bad-response', `${label} sent a malformed response: ${detail}. Ask again; if it persists, check that "kind" and "baseURL" match the server's API.`);
  }
  return make('bad-response', `${label} failed unexpectedly: ${detail}`);
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The server's own words without the SDK's "401 " prefix, falling back to the error message. */
function serverMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const e = error as { error?: unknown; message?: unknown };
  const body = e.error as { message?: unknown; error?: { message?: unknown } } | string | undefined;
  const fromBody =
    typeof body === 'string' ? body : typeof body?.error?.message === 'string' ? body.error.message : body?.message;
  const text = typeof fromBody === 'string' && fromBody ? fromBody : typeof e.message === 'string' ? e.message : '';
  return text.replace(/^\d{3}\s+/, '').trim() || 'no details';
}

function streamErrorType(error: unknown): string | undefined {
  const body = (error as { error?: { type?: unknown; error?: { type?: unknown } } } | null)?.error;
  const type = body?.error?.type ?? body?.type;
  return typeof type === 'string' ? type : undefined;
}

/** Walks the `cause` chain (fetch wraps socket errors, SDKs wrap fetch errors) for a socket code. */
function connectionCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const c = current as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof c.code === 'string' && (c.code in CONNECTION_CODES || /^E[A-Z]+$/.test(c.code) || TLS_CODE.test(c.code))) return c.code;
    const inner = c.errors?.[0] as { code?: unknown } | undefined;
    if (typeof inner?.code === 'string') return inner.code;
    current = c.cause;
  }
  return undefined;
}

/** fetch reports "fetch failed" and hides the reason in a chain of causes. */
function rootCauseMessage(error: unknown): string | undefined {
  let message: string | undefined;
  let current = (error as { cause?: unknown } | null)?.cause;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    message = current.message;
    current = current.cause;
  }
  return message;
}

/** OpenSSL's messages run on with a source path and a newline; the first line says it. */
function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? text).trim();
}

/** This machine: where a refused connection means the server is simply not running. */
function isLoopback(baseURL: string): boolean {
  const host = hostOf(baseURL);
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || host === '0.0.0.0' || /^127\./.test(host);
}

function hostOf(baseURL: string): string {
  try {
    return new URL(baseURL).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return '';
  }
}

function hostAndPort(baseURL: string): string {
  try {
    const url = new URL(baseURL);
    return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return baseURL;
  }
}

function retryAfter(headers: unknown): number | undefined {
  const get = (name: string): string | undefined => {
    if (!headers || typeof headers !== 'object') return undefined;
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const ms = Number.parseFloat(get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const raw = get('retry-after');
  if (raw === undefined) return undefined;
  const seconds = Number(raw.trim());
  if (raw.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

export function formatSeconds(seconds: number): string {
  return seconds >= 10 || Number.isInteger(seconds) ? String(Math.round(seconds)) : seconds.toFixed(1);
}
