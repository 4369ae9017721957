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
  | 'codex-cli';

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
  inputTokens: number;
  outputTokens: number;
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
}
