/**
 * The one streaming interface every model transport implements. The agent loop only ever sees
 * these shapes, so it cannot tell an HTTP SDK from a CLI subprocess.
 */

export type ProviderKind =
  | 'openai'
  | 'openai-compatible'
  | 'anthropic'
  | 'ollama'
  | 'claude-cli'
  | 'codex-cli'
  | 'llama-cpp';

export interface ToolCall {
  /** Provider-assigned id, echoed back in the tool result message. */
  id: string;
  name: string;
  /** Parsed JSON arguments; `{}` when the model sent none. */
  args: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; toolName: string; content: string; isError?: boolean };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema (draft 2020-12 subset) of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ModelRequest {
  system: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  maxOutputTokens?: number;
  temperature?: number;
}

export interface Usage {
  /** Every prompt token the model read, cached ones included (OpenAI's prompt_tokens; Anthropic's three input counts summed). */
  inputTokens: number;
  outputTokens: number;
  /** The part of inputTokens read from the provider's prompt cache, where the API reports it. */
  cachedInputTokens?: number;
}

export type FinishReason = 'stop' | 'tool-calls' | 'length' | 'other';

export type StreamPart =
  | { type: 'text-delta'; text: string }
  /** A complete tool call; providers assemble streamed argument fragments before emitting it. */
  | { type: 'tool-call'; call: ToolCall }
  | { type: 'usage'; usage: Usage }
  /** Tool use or a command run by a CLI datasource itself, for progress and history. */
  | { type: 'tool-activity'; name: string; detail: string }
  /** Informational, e.g. "retrying in 2 s after 429"; shown in progress, never in history. */
  | { type: 'notice'; message: string }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'error'; error: import('./errors.js').ProviderError };

export interface LanguageModel {
  readonly providerName: string;
  readonly kind: ProviderKind;
  readonly model: string;
  /**
   * Streams one model turn. Never throws: failures arrive as a final `error` part. Aborting the
   * signal ends the stream promptly with an `error` part of kind `cancelled`.
   */
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamPart>;
  /**
   * What the provider knows about the model, read once per process (Ollama: /api/show) and
   * cached; absent fields are unknown. Absent for providers that cannot tell.
   */
  capabilities?(): Promise<ModelCapabilities>;
  /**
   * With a fallback chain: who answered the latest turn, and why providers ahead of it were
   * skipped during this model's turns. Undefined when the configured provider answered.
   */
  answeredBy?(): FallbackAnswer | undefined;
}

export interface ModelCapabilities {
  /** Whether the model accepts tools through the API; undefined when the server does not say. */
  tools?: boolean;
  /** The usable context in tokens: the model's own length, capped by the provider's contextWindow. */
  contextLength?: number;
}

export interface FallbackAnswer {
  providerName: string;
  model: string;
  /** One line per skipped provider, e.g. "local is not reachable (connection refused)". */
  skipped: string[];
}

/**
 * A CLI agent (claude, codex) that runs its own tools. It works inside a shadow copy of the
 * workspace; codebench diffs the copy afterwards, so its edits become an ordinary proposal.
 */
export type ExternalEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-started'; callId: string; name: string; activity: string; args: unknown }
  | { type: 'tool-finished'; callId: string; name: string; activity: string; result: string; isError: boolean }
  | { type: 'notice'; message: string };

export interface ExternalAgentRequest {
  /** The shadow workspace the CLI runs in. */
  cwd: string;
  prompt: string;
  /** Appended to the CLI's own system prompt. */
  system: string;
  /** The CLI's session id from an earlier run of this codebench session. */
  resumeSessionId?: string;
  /** Most model turns the CLI may take (claude's --max-turns); codex has no such bound and relies on the run's wall-clock limit. */
  maxTurns?: number;
  signal: AbortSignal;
  onEvent: (event: ExternalEvent) => void;
}

export interface ExternalAgentOutcome {
  status: 'completed' | 'failed' | 'cancelled';
  /** The CLI's final answer (or what streamed before it failed). */
  text: string;
  error?: import('./errors.js').ProviderError;
  externalSessionId?: string;
  usage?: Usage;
  costUsd?: number;
}

export interface ExternalAgent {
  readonly providerName: string;
  readonly kind: 'claude-cli' | 'codex-cli';
  readonly model: string;
  run(request: ExternalAgentRequest): Promise<ExternalAgentOutcome>;
}
