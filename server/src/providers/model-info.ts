import { ProviderError } from './errors.js';
import type { LanguageModel, ModelCapabilities } from './types.js';
import { quietOllamaErrors } from './ollama-errors.js';

/**
 * What a server says about a model (Ollama's /api/show), cached per provider and model for the
 * life of the process, and the arithmetic that sizes a request's context from it.
 */

export interface ModelInfo {
  /** The model's own context length (`model_info["<arch>.context_length"]`). */
  contextLength?: number;
  /** Ollama ≥ 0.6 lists "completion", "tools", "insert", "vision", …; older servers send none. */
  capabilities?: string[];
}

/** Ollama's default context is 2–4k tokens; below this, a system prompt with tools and one file do not fit. */
export const MIN_CONTEXT_TOKENS = 8192;
/** Room kept for the answer when neither the request nor the config sets `maxOutputTokens`. */
export const DEFAULT_OUTPUT_BUDGET = 4096;
/** The least answer room worth sending a prompt for when the default budget does not fit. */
export const MIN_OUTPUT_TOKENS = 1024;

/** One loaded value per provider, server and model; a failed load is forgotten so the next ask tries again. */
export class ModelInfoCache {
  private readonly entries = new Map<string, Promise<ModelInfo>>();

  get(key: { providerName: string; baseURL: string; model: string }, load: () => Promise<ModelInfo>): Promise<ModelInfo> {
    const id = `${key.providerName}\u0000${key.baseURL}\u0000${key.model}`;
    const cached = this.entries.get(id);
    if (cached) return cached;
    const loading = load();
    this.entries.set(id, loading);
    loading.catch(() => {
      if (this.entries.get(id) === loading) this.entries.delete(id);
    });
    return loading;
  }
}

/** Reads `/api/show` through the official SDK (imported on first use, like the transports). */
export async function loadOllamaModelInfo(options: { baseURL: string; model: string; apiKey?: string; timeoutMs: number }): Promise<ModelInfo> {
  const { Ollama } = await import('ollama');
  const client = new Ollama({
    host: options.baseURL,
    fetch: async (input, init) => quietOllamaErrors(await fetch(input, { ...init, signal: AbortSignal.timeout(options.timeoutMs) })),
    ...(options.apiKey ? { headers: { Authorization: `Bearer ${options.apiKey}` } } : {}),
  });
  try {
    return parseShowResponse(await client.show({ model: options.model }));
  } catch (error) {
    // An HTTP answer (an old or imitating server without /api/show, a model it does not know)
    // means "unknown", and the chat request reports a missing model better; a refused or
    // timed-out connection is the provider being down, which the caller classifies.
    if (typeof (error as { status_code?: unknown }).status_code === 'number') return {};
    throw error;
  }
}

export function parseShowResponse(response: { model_info?: unknown; capabilities?: unknown }): ModelInfo {
  const info: ModelInfo = {};
  const modelInfo = response.model_info;
  if (modelInfo && typeof modelInfo === 'object') {
    const entries = modelInfo instanceof Map ? Object.fromEntries(modelInfo) : (modelInfo as Record<string, unknown>);
    const architecture = entries['general.architecture'];
    const exact = typeof architecture === 'string' ? entries[`${architecture}.context_length`] : undefined;
    const any = Object.entries(entries).find(([key, value]) => key.endsWith('.context_length') && typeof value === 'number')?.[1];
    const length = typeof exact === 'number' ? exact : any;
    if (typeof length === 'number' && Number.isFinite(length) && length > 0) info.contextLength = length;
  }
  if (Array.isArray(response.capabilities)) info.capabilities = response.capabilities.filter((c): c is string => typeof c === 'string');
  return info;
}

/** Capabilities as the agent sees them: `tools` only when the server said (a capabilities list). */
export function capabilitiesOf(info: ModelInfo, contextWindow: number | undefined): ModelCapabilities {
  const contextLength = smallest(info.contextLength, contextWindow);
  return {
    ...(info.capabilities ? { tools: info.capabilities.includes('tools') } : {}),
    ...(contextLength !== undefined ? { contextLength } : {}),
  };
}

/** `true`/`false` when the provider knows, `undefined` when it cannot tell (then try native tools). */
export async function supportsTools(model: LanguageModel): Promise<boolean | undefined> {
  return (await model.capabilities?.())?.tools;
}

export type ContextPlan =
  | { fits: true; /** The `num_ctx` to send to Ollama. */ contextTokens: number; limit?: number }
  | { fits: false; error: string };

/**
 * Sizes the context for a prompt plus its answer: at least MIN_CONTEXT_TOKENS, never above the
 * model's own length or `contextWindow`. It grows in powers of two because Ollama reloads the
 * model whenever `num_ctx` changes, so the steps of a run (each a little longer) keep one value.
 */
export function planContext(input: {
  promptTokens: number;
  /** `maxOutputTokens` of the request or config, when set; otherwise DEFAULT_OUTPUT_BUDGET, shrinkable. */
  outputTokens?: number;
  modelContextLength?: number;
  contextWindow?: number;
}): ContextPlan {
  const limit = smallest(input.modelContextLength, input.contextWindow);
  const reserve = input.outputTokens ?? DEFAULT_OUTPUT_BUDGET;
  const needed = input.promptTokens + reserve;
  if (limit === undefined) return { fits: true, contextTokens: powerOfTwoAtLeast(needed) };
  if (needed <= limit) return { fits: true, contextTokens: Math.min(limit, powerOfTwoAtLeast(needed)), limit };
  // The default answer budget is a guess: a prompt that leaves a useful answer room still goes.
  if (input.outputTokens === undefined && input.promptTokens + MIN_OUTPUT_TOKENS <= limit) return { fits: true, contextTokens: limit, limit };
  const which =
    input.modelContextLength !== undefined && (input.contextWindow === undefined || input.modelContextLength <= input.contextWindow)
      ? "the model's context length"
      : 'contextWindow';
  return {
    fits: false,
    error: `the prompt needs about ${format(input.promptTokens)} tokens plus ${format(input.outputTokens ?? MIN_OUTPUT_TOKENS)} for the answer, but ${which} is ${format(limit)} tokens`,
  };
}

/** The error a transport returns instead of sending a prompt the server would cut. */
export function contextOverflowError(providerName: string, model: string, why: string): ProviderError {
  return new ProviderError({
    kind: 'context-overflow',
    providerName,
    message: `Not sent to ${providerName} (${model}): ${why}, and the server would silently drop the rest. Ask about a smaller selection or file, start a new session, or use a model with a larger context (contextWindow).`,
  });
}

function powerOfTwoAtLeast(tokens: number): number {
  let size = MIN_CONTEXT_TOKENS;
  while (size < tokens) size *= 2;
  return size;
}

function smallest(...values: Array<number | undefined>): number | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length > 0 ? Math.min(...known) : undefined;
}

function format(tokens: number): string {
  return tokens.toLocaleString('en-US');
}
