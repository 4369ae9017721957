import type { HttpProviderConfig, ProviderConfig } from '../config/schema.js';
import { classifyError, formatSeconds, type ClassifyContext } from './classify.js';
import { ProviderError } from './errors.js';
import { keyEnvFor, resolveApiKey } from './keys.js';
import { createLlamaCppModel } from './llama-cpp.js';
import { LlamaRuntime } from './llama-runtime.js';
import { DefaultLocalModel, isBuiltInLocalProvider } from './default-local.js';
import { FallbackModel, fallbackChain, ProviderCooldowns } from './fallback.js';
import { capabilitiesOf, contextOverflowError, loadOllamaModelInfo, ModelInfoCache, planContext, type ModelInfo } from './model-info.js';
import { RetryingModel, type RetryOptions } from './retry.js';
import { estimateRequestTokens } from './token-estimate.js';
import type { ProviderCall } from './transport.js';
import type { LanguageModel, ModelRequest, ProviderKind, StreamPart } from './types.js';

/**
 * Picks the transport for a provider config and wraps it in the behaviour every transport
 * shares: API-key lookup at call time, lazy SDK loading, timeouts, cancellation, error
 * classification and retry. Transports themselves only translate wire formats and may throw.
 */

type HttpKind = HttpProviderConfig['kind'];

/** A transport: yields parts, throws on failure (the guard classifies what it throws). */
export type ProviderStream = (call: ProviderCall) => AsyncIterable<StreamPart>;

export interface CreateModelOptions {
  retry?: RetryOptions;
  /** What /api/show said, shared across asks; a model gets a private cache without it. */
  modelInfo?: ModelInfoCache;
  /** The process's embedded llama.cpp runtime (llama-cpp providers); a model gets a private one without it. */
  llamaRuntime?: LlamaRuntime;
}

/**
 * The process's models: one /api/show cache and one set of fallback cooldowns for every ask, so
 * a model is described once and a provider that just failed is not tried again at once.
 */
export class ProviderRegistry {
  readonly modelInfo = new ModelInfoCache();
  readonly cooldowns: ProviderCooldowns;
  /** Loads nothing until a llama-cpp provider streams; keeps its models loaded between asks. */
  readonly llamaRuntime = new LlamaRuntime();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly options: { retry?: RetryOptions; cooldowns?: ProviderCooldowns } = {},
  ) {
    this.cooldowns = options.cooldowns ?? new ProviderCooldowns();
  }

  /** The provider's model, behind its fallback chain when it has one (`providers` is the whole config). */
  createModel(name: string, config: ProviderConfig, providers: Record<string, ProviderConfig> = { [name]: config }): LanguageModel {
    const create = (providerName: string, providerConfig: ProviderConfig) =>
      createLanguageModel(providerName, providerConfig, this.env, { retry: this.options.retry, modelInfo: this.modelInfo, llamaRuntime: this.llamaRuntime });
    // No config at all: Ollama when it answers, else a pulled model in process (default-local.ts).
    if (isBuiltInLocalProvider(config)) return new DefaultLocalModel(name, config, this.env, create, this.llamaRuntime);
    const chain = fallbackChain(name, { ...providers, [name]: config });
    const primary = create(name, config);
    if (chain.length === 0) return primary;
    return new FallbackModel([primary, ...chain.map((next) => create(next, providers[next]!))], this.cooldowns);
  }
}

export const DEFAULT_TIMEOUT_SECONDS = 120;

export const DEFAULT_BASE_URL: Record<HttpKind, string | undefined> = {
  openai: 'https://api.openai.com/v1',
  'openai-compatible': undefined,
  anthropic: 'https://api.anthropic.com',
  ollama: 'http://127.0.0.1:11434',
};

export { DEFAULT_KEY_ENV } from './keys.js';

/** Each module is imported on first use so server start-up does not pay for the SDKs. */
const transports: Record<HttpKind, () => Promise<ProviderStream>> = {
  openai: async () => (await import('./openai.js')).streamOpenAI,
  'openai-compatible': async () => (await import('./openai.js')).streamOpenAI,
  anthropic: async () => (await import('./anthropic.js')).streamAnthropic,
  ollama: async () => (await import('./ollama.js')).streamOllama,
};

export function createLanguageModel(
  name: string,
  config: ProviderConfig,
  env: NodeJS.ProcessEnv,
  options: CreateModelOptions = {},
): LanguageModel {
  if (config.kind === 'llama-cpp') return createLlamaCppModel(name, config, env, options.llamaRuntime ?? new LlamaRuntime());
  if (!isHttp(config)) {
    const message = `Provider "${name}" uses kind "${config.kind}", which is not available yet. Pick an HTTP provider (openai, anthropic, ollama, openai-compatible) as defaultProvider.`;
    return configError(name, config.kind, config.model ?? config.kind, message);
  }
  const baseURL = config.baseURL ?? DEFAULT_BASE_URL[config.kind];
  if (baseURL === undefined) {
    const message = `Provider "${name}" has kind "openai-compatible" but no "baseURL"; set it to the server's OpenAI-style endpoint, e.g. http://127.0.0.1:8080/v1.`;
    return configError(name, config.kind, config.model, message);
  }
  const kind = config.kind;
  const cache = options.modelInfo ?? new ModelInfoCache();
  const timeoutMs = (config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const modelInfo = (apiKey: string | undefined): Promise<ModelInfo> =>
    kind !== 'ollama'
      ? Promise.resolve({})
      : cache.get({ providerName: name, baseURL, model: config.model }, () => loadOllamaModelInfo({ baseURL, model: config.model, apiKey, timeoutMs }));
  const resolved: Resolved = { name, kind, config, env, baseURL, modelInfo };
  const base: LanguageModel = {
    providerName: name,
    kind,
    model: config.model,
    stream: (request, signal) => guardedStream(resolved, request, signal),
    capabilities: async () => {
      const key = await resolveApiKey(name, config, env);
      const info = await modelInfo(key.ok ? key.apiKey : undefined).catch((): ModelInfo => ({}));
      return capabilitiesOf(info, config.contextWindow);
    },
  };
  return new RetryingModel(base, options.retry);
}

interface Resolved {
  name: string;
  kind: HttpKind;
  config: HttpProviderConfig;
  env: NodeJS.ProcessEnv;
  baseURL: string;
  /** /api/show through the shared cache; `{}` for servers that have none. */
  modelInfo: (apiKey: string | undefined) => Promise<ModelInfo>;
}

/**
 * The context a turn needs, checked before anything is sent: Ollama gets it as `num_ctx`; every
 * kind with a known limit (/api/show, `contextWindow`) refuses a prompt that would be cut.
 */
async function contextFor(r: Resolved, request: ModelRequest, apiKey: string | undefined): Promise<number | undefined> {
  if (r.kind !== 'ollama' && r.config.contextWindow === undefined) return undefined;
  const info = await r.modelInfo(apiKey);
  const plan = planContext({
    promptTokens: estimateRequestTokens(request),
    outputTokens: request.maxOutputTokens ?? r.config.maxOutputTokens,
    modelContextLength: info.contextLength,
    contextWindow: r.config.contextWindow,
  });
  if (!plan.fits) throw contextOverflowError(r.name, r.config.model, plan.error);
  return r.kind === 'ollama' ? plan.contextTokens : undefined;
}

/** Env var first, then the OS keychain (providers/keys.ts); the module loads only when needed. */
async function resolveKey(r: Resolved): Promise<{ apiKey: string | undefined; keyEnv: string | undefined; keyLocation?: string } | ProviderError> {
  const resolved = await resolveApiKey(r.name, r.config, r.env);
  if (!resolved.ok) return new ProviderError({ kind: 'config', providerName: r.name, message: resolved.message });
  if (resolved.source === 'keychain') {
    return { apiKey: resolved.apiKey, keyEnv: undefined, keyLocation: `the OS keychain (replace it with \`codebench keys set ${r.name}\`)` };
  }
  return { apiKey: resolved.apiKey, keyEnv: resolved.source === 'env' ? resolved.env : keyEnvFor(r.config) };
}

/**
 * Runs one transport call under a watchdog. Aborts and timeouts race the transport's own
 * promise, so a transport stuck in a read cannot delay the `error` part; its socket is torn down
 * through the internal signal in the background.
 */
async function* guardedStream(r: Resolved, request: ModelRequest, userSignal: AbortSignal): AsyncGenerator<StreamPart> {
  const key = await resolveKey(r);
  if (key instanceof ProviderError) {
    yield { type: 'error', error: key };
    return;
  }
  const ctx: ClassifyContext = {
    providerName: r.name,
    kind: r.kind,
    model: r.config.model,
    baseURL: r.baseURL,
    ...(key.keyEnv ? { apiKeyEnv: key.keyEnv } : {}),
    ...(key.keyLocation ? { keyLocation: key.keyLocation } : {}),
    secrets: key.apiKey ? [key.apiKey] : [],
  };
  const label = `${r.name} (${r.kind} at ${r.baseURL})`;
  const timeoutMs = (r.config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const cancelled = () =>
    new ProviderError({ kind: 'cancelled', providerName: r.name, message: `The request to ${label} was cancelled.` });
  if (userSignal.aborted) {
    yield { type: 'error', error: cancelled() };
    return;
  }

  const controller = new AbortController();
  let interrupted: 'abort' | 'stall' | undefined;
  let wake: (() => void) | undefined;
  let sawBytes = false;
  let timer: NodeJS.Timeout | undefined;
  const interrupt = (why: 'abort' | 'stall') => {
    interrupted ??= why;
    controller.abort();
    wake?.();
  };
  const onAbort = () => interrupt('abort');
  // One timer checks a deadline instead of being re-created per chunk: streaming hundreds of
  // tokens a second must not cost two timer operations each.
  let lastActivity = Date.now();
  let paused = false;
  const check = () => {
    const idle = Date.now() - lastActivity;
    if (paused || idle < timeoutMs) timer = setTimeout(check, paused ? timeoutMs : timeoutMs - idle);
    else interrupt('stall');
  };
  const arm = () => {
    lastActivity = Date.now();
    timer ??= setTimeout(check, timeoutMs);
  };
  const stallError = () =>
    new ProviderError({
      kind: 'unavailable',
      providerName: r.name,
      reason: sawBytes ? 'stalled mid-response' : `silent for ${formatSeconds(timeoutMs / 1000)} s`,
      message: sawBytes
        ? `${label} stalled: no data for ${formatSeconds(timeoutMs / 1000)} s mid-response (timeoutSeconds). The response was cut off: ask again, or raise timeoutSeconds for this provider if the model is slow.`
        : `${label} did not respond within ${formatSeconds(timeoutMs / 1000)} s (timeoutSeconds). The server may be overloaded or still loading the model.`,
    });
  userSignal.addEventListener('abort', onAbort, { once: true });
  arm();

  let iterator: AsyncIterator<StreamPart> | undefined;
  try {
    const woken = new Promise<'interrupted'>((resolve) => (wake = () => resolve('interrupted')));
    const transport = await transports[r.kind]();
    if (interrupted) throw new Error('interrupted');
    const contextTokens = await Promise.race([contextFor(r, request, key.apiKey), woken]);
    if (contextTokens === 'interrupted' || interrupted) throw new Error('interrupted');
    iterator = transport({
      providerName: r.name,
      kind: r.kind,
      config: r.config,
      apiKey: key.apiKey,
      baseURL: r.baseURL,
      request,
      ...(contextTokens !== undefined ? { contextTokens } : {}),
      signal: controller.signal,
      touch: () => {
        sawBytes = true;
        arm();
      },
    })[Symbol.asyncIterator]();
    while (true) {
      if (interrupted) break;
      const next = await Promise.race([iterator.next(), woken]);
      if (next === 'interrupted') break;
      if (next.done) return;
      // The consumer may take its time with a part; that is not the server stalling.
      paused = true;
      yield next.value;
      paused = false;
      arm();
    }
  } catch (error) {
    if (!interrupted) {
      yield { type: 'error', error: classifyError(error, ctx) };
      return;
    }
  } finally {
    clearTimeout(timer);
    userSignal.removeEventListener('abort', onAbort);
    controller.abort();
    // Not awaited: a transport blocked in a read finishes only once the abort reaches it.
    iterator?.return?.().catch(() => undefined);
  }
  yield { type: 'error', error: interrupted === 'stall' ? stallError() : cancelled() };
}

function isHttp(config: ProviderConfig): config is HttpProviderConfig {
  return config.kind in DEFAULT_BASE_URL;
}

/** A model that can only report why it cannot run. */
function configError(name: string, kind: ProviderKind, model: string, message: string): LanguageModel {
  return {
    providerName: name,
    kind,
    model,
    async *stream() {
      yield { type: 'error', error: new ProviderError({ kind: 'config', message, providerName: name }) };
    },
  };
}
