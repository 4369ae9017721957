import type { ProviderConfig } from '../config/schema.js';
import { formatSeconds } from './classify.js';
import { ProviderError } from './errors.js';
import type { FallbackAnswer, LanguageModel, ModelCapabilities, ModelRequest, ProviderKind, StreamPart } from './types.js';

/**
 * `providers.<name>.fallback`: when a provider is unreachable, overloaded or rate-limited past its
 * retry budget before its first token, the next provider of the chain takes the turn. It wraps
 * RetryingModels, so "past the retry budget" is simply the error part they end with; after a
 * token has streamed a switch would mix two answers, so the error then stands.
 */

export const FALLBACK_COOLDOWN_MS = 60_000;

/** Providers that just failed, skipped for a while instead of being tried (and waited for) on every ask. Per process. */
export class ProviderCooldowns {
  private readonly failures = new Map<string, { at: number; why: string }>();

  constructor(
    private readonly durationMs = FALLBACK_COOLDOWN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  mark(providerName: string, why: string): void {
    this.failures.set(providerName, { at: this.now(), why });
  }

  clear(providerName: string): void {
    this.failures.delete(providerName);
  }

  /** Why the provider is being skipped, e.g. "local is not reachable (connection refused) 12 s ago"; undefined when it is not. */
  skipping(providerName: string): string | undefined {
    const failure = this.failures.get(providerName);
    if (!failure) return undefined;
    const age = this.now() - failure.at;
    if (age >= this.durationMs) {
      this.failures.delete(providerName);
      return undefined;
    }
    return `${failure.why} ${formatSeconds(Math.max(1, Math.round(age / 1000)))} s ago; not retried for ${formatSeconds(Math.ceil((this.durationMs - age) / 1000))} s`;
  }
}

/**
 * The providers that may take a turn of `name`, in order: its `fallback` list depth first, each
 * name once, so a → b → a ends. CLI datasources are left out (config validation refuses them).
 */
export function fallbackChain(name: string, providers: Record<string, ProviderConfig>): string[] {
  const seen = new Set<string>([name]);
  const chain: string[] = [];
  const visit = (current: string) => {
    for (const next of providers[current]?.fallback ?? []) {
      const config = providers[next];
      if (seen.has(next) || !config || config.kind === 'claude-cli' || config.kind === 'codex-cli') continue;
      seen.add(next);
      chain.push(next);
      visit(next);
    }
  };
  visit(name);
  return chain;
}

/** Unreachable, overloaded, rate-limited: another provider can answer the same turn. */
function canFallBack(error: ProviderError): boolean {
  return error.kind === 'unavailable' || error.kind === 'rate-limited';
}

/** "local is not reachable (connection refused)", "hosted is rate-limited (HTTP 429)". */
function describeFailure(error: ProviderError): string {
  const reason = error.reason ? ` (${error.reason})` : '';
  if (error.kind === 'rate-limited') return `${error.providerName} is rate-limited${reason}`;
  return error.statusCode === undefined ? `${error.providerName} is not reachable${reason}` : `${error.providerName} is unavailable${reason}`;
}

export class FallbackModel implements LanguageModel {
  readonly providerName: string;
  readonly kind: ProviderKind;
  readonly model: string;
  private answered: LanguageModel | undefined;
  /** Skips already told in this model's turns: a run says once per provider why it was skipped. */
  private readonly skipped = new Map<string, string>();

  constructor(
    /** The configured provider first, then its fallback chain. */
    private readonly chain: LanguageModel[],
    private readonly cooldowns: ProviderCooldowns,
  ) {
    const primary = chain[0]!;
    this.providerName = primary.providerName;
    this.kind = primary.kind;
    this.model = primary.model;
  }

  answeredBy(): FallbackAnswer | undefined {
    if (!this.answered || this.answered === this.chain[0]) return undefined;
    return { providerName: this.answered.providerName, model: this.answered.model, skipped: [...this.skipped.values()] };
  }

  /** Of the provider the next turn will most likely go to. */
  async capabilities(): Promise<ModelCapabilities> {
    const next = this.order()[0]!;
    return (await next.capabilities?.()) ?? {};
  }

  /** Providers in cooldown go last: still tried when everything before them failed. */
  private order(): LanguageModel[] {
    const ready = this.chain.filter((model) => this.cooldowns.skipping(model.providerName) === undefined);
    return [...ready, ...this.chain.filter((model) => !ready.includes(model))];
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const order = this.order();
    // Providers not tried for this turn, or tried and failed, and why: said in one notice.
    let passed: Array<{ provider: string; why: string }> = this.chain
      .slice(0, this.chain.indexOf(order[0]!))
      .map((model) => ({ provider: model.providerName, why: this.cooldowns.skipping(model.providerName) ?? '' }));
    for (const [index, model] of order.entries()) {
      const next = order[index + 1];
      // Each provider's skip is said once per run, not on every step of its tool loop.
      const fresh = passed.filter((skip) => !this.skipped.has(skip.provider));
      for (const skip of fresh) this.skipped.set(skip.provider, skip.why);
      if (fresh.length > 0) yield { type: 'notice', message: `${fresh.map((skip) => skip.why).join('; ')}; answering with ${model.providerName}` };
      passed = [];
      let streamed = false;
      let failure: ProviderError | undefined;
      let ended: ProviderError | undefined;
      for await (const part of model.stream(request, signal)) {
        if (part.type === 'error' && !streamed && next && !signal.aborted) {
          if (canFallBack(part.error)) {
            failure = part.error;
            break;
          }
          if (part.error.kind === 'auth' || part.error.kind === 'config') {
            yield { type: 'error', error: notFallingBack(part.error, next.providerName) };
            return;
          }
        }
        if (part.type === 'text-delta' || part.type === 'tool-call') streamed = true;
        if (part.type === 'error') ended = part.error;
        yield part;
      }
      if (!failure) {
        this.answered = model;
        if (!ended) this.cooldowns.clear(model.providerName);
        else if (canFallBack(ended) && !streamed) this.cooldowns.mark(model.providerName, describeFailure(ended));
        return;
      }
      const why = describeFailure(failure);
      this.cooldowns.mark(model.providerName, why);
      // Told again in this run: it failed anew, not just skipped.
      this.skipped.delete(model.providerName);
      passed.push({ provider: model.providerName, why });
    }
  }
}

/** Another provider would hide a wrong or missing key, and the user would never fix it. */
function notFallingBack(error: ProviderError, next: string): ProviderError {
  return new ProviderError({
    kind: error.kind,
    providerName: error.providerName,
    statusCode: error.statusCode,
    reason: error.reason,
    cause: error,
    message: `${error.message} (Not falling back to ${next}: a key or configuration problem is reported, not hidden behind another provider.)`,
  });
}
