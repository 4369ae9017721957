import type { HttpProviderConfig } from '../config/schema.js';
import type { ModelRequest, StreamPart } from './types.js';

/**
 * The contract between the registry and an HTTP transport (openai.ts, anthropic.ts, ollama.ts):
 * what one turn gets, and the helpers every transport shares. Kept apart from registry.ts so the
 * transports it loads lazily do not import it back.
 */

/** What a transport gets for one turn. */
export interface ProviderCall {
  providerName: string;
  kind: HttpProviderConfig['kind'];
  config: HttpProviderConfig;
  /** Resolved from the environment or the OS keychain for this call only; never to be logged or echoed. */
  apiKey: string | undefined;
  baseURL: string;
  request: ModelRequest;
  /** The context the turn needs (prompt + answer), sized by the registry; Ollama sends it as `num_ctx`. */
  contextTokens?: number;
  /** Aborted on cancel and on timeout; hand it to the SDK so the socket is torn down. */
  signal: AbortSignal;
  /** Call on every chunk received, so a long tool call being assembled does not look stalled. */
  touch(): void;
}

/**
 * Parses a tool call's argument text. Invalid JSON (or JSON that is not an object) does not fail
 * the turn: the call is emitted with `{ __invalidJson: raw }` so the agent can tell the model its
 * arguments were not valid JSON and let it correct itself.
 */
export function parseToolArguments(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { __invalidJson: raw };
}
