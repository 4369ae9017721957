import { formatSeconds } from './classify.js';
import { ProviderError } from './errors.js';
import type { LanguageModel, ModelCapabilities, ModelRequest, ProviderKind, StreamPart } from './types.js';

/**
 * The only retry layer: every SDK is built with `maxRetries: 0`, so retries are visible (a
 * `notice` per wait) and bounded in one place. A turn is retried only while nothing the user
 * could have seen has streamed; after the first token a retry would duplicate or contradict it.
 */

export interface RetryOptions {
  /** Total attempts including the first. */
  maxAttempts?: number;
  /** First backoff wait; doubles on each further attempt. */
  baseDelayMs?: number;
  /**
   * Upper bound on the time one turn spends on failed attempts plus waits; a Retry-After beyond
   * it fails at once, and so does anything after a timeout that already used the budget up.
   */
  maxTotalDelayMs?: number;
  /** Injected by tests to avoid real waiting; must resolve early when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY: Required<Omit<RetryOptions, 'sleep'>> = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxTotalDelayMs: 30_000,
};

export class RetryingModel implements LanguageModel {
  readonly providerName: string;
  readonly kind: ProviderKind;
  readonly model: string;
  /** The wrapped model's, when it has them: retrying changes nothing about what the model can do. */
  readonly capabilities?: () => Promise<ModelCapabilities>;
  private readonly options: Required<RetryOptions>;

  constructor(
    private readonly inner: LanguageModel,
    options: RetryOptions = {},
  ) {
    this.providerName = inner.providerName;
    this.kind = inner.kind;
    this.model = inner.model;
    if (inner.capabilities) this.capabilities = () => inner.capabilities!();
    this.options = { ...DEFAULT_RETRY, sleep: abortableSleep, ...stripUndefined(options) };
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const { maxAttempts, baseDelayMs, maxTotalDelayMs, sleep } = this.options;
    // Waits are counted as requested, not measured, so an injected instant sleep still counts.
    let spent = 0;
    for (let attempt = 1; ; attempt++) {
      const attemptStarted = Date.now();
      let streamedContent = false;
      let failure: ProviderError | undefined;
      for await (const part of this.inner.stream(request, signal)) {
        if (part.type === 'error' && !streamedContent && part.error.isRetryable && !signal.aborted) {
          failure = part.error;
          break;
        }
        if (part.type === 'text-delta' || part.type === 'tool-call') streamedContent = true;
        yield part;
      }
      if (!failure) return;
      spent += Date.now() - attemptStarted;

      const backoff = baseDelayMs * 2 ** (attempt - 1);
      const delay = failure.retryAfterSeconds !== undefined ? failure.retryAfterSeconds * 1000 : backoff;
      if (attempt >= maxAttempts || spent + delay > maxTotalDelayMs) {
        yield { type: 'error', error: failure };
        return;
      }
      spent += delay;
      const why =
        failure.kind === 'rate-limited'
          ? `rate limited by ${this.providerName}`
          : `${this.providerName} unavailable (${failure.reason ?? 'request failed'})`;
      yield {
        type: 'notice',
        message: `${why}, retrying in ${formatSeconds(delay / 1000)} s (attempt ${attempt + 1}/${maxAttempts})`,
      };
      await sleep(delay, signal);
      if (signal.aborted) {
        yield {
          type: 'error',
          error: new ProviderError({
            kind: 'cancelled',
            message: `The request to ${this.providerName} was cancelled while waiting to retry.`,
            providerName: this.providerName,
          }),
        };
        return;
      }
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
