import { randomUUID } from 'node:crypto';
import type { ProviderConfig } from '../config/schema.js';
import { ProviderError } from './errors.js';
import { AnswerStreamer, envelopeInstructions, envelopeSchema, parseEnvelope, toChatHistory } from './llama-grammar.js';
import { LlamaUnavailableError, type LlamaLease, type LlamaRuntime } from './llama-runtime.js';
import { catalogueEntry, checkGgufFile, DEFAULT_LLAMA_CONTEXT_WINDOW, providerModelPath } from './model-files.js';
import type { FinishReason, LanguageModel, ModelRequest, StreamPart } from './types.js';

/**
 * `kind: "llama-cpp"`: a GGUF model run in this process through node-llama-cpp, behind the same
 * streaming interface as the HTTP providers. With tools, each turn is grammar-constrained to one
 * JSON call or answer (llama-grammar.ts); without (text mode) it is free text. The model file is
 * checked first, so a missing one is named before the runtime is even loaded.
 */

export type LlamaCppConfig = Extract<ProviderConfig, { kind: 'llama-cpp' }>;

export const DEFAULT_IDLE_UNLOAD_SECONDS = 600;
const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

export function createLlamaCppModel(name: string, config: LlamaCppConfig, env: NodeJS.ProcessEnv, runtime: LlamaRuntime): LanguageModel {
  const path = providerModelPath(config, env);
  const contextWindow = config.contextWindow ?? (config.model ? catalogueEntry(config.model)?.contextWindow : undefined) ?? DEFAULT_LLAMA_CONTEXT_WINDOW;
  return {
    providerName: name,
    kind: 'llama-cpp',
    model: config.model ?? path,
    stream: (request, signal) => streamLlamaCpp({ name, config, path, contextWindow, runtime, request, signal }),
    capabilities: async () => ({ tools: true, contextLength: contextWindow }),
  };
}

interface Turn {
  name: string;
  config: LlamaCppConfig;
  path: string;
  contextWindow: number;
  runtime: LlamaRuntime;
  request: ModelRequest;
  signal: AbortSignal;
}

/** Parts produced by the generation, consumed by the stream; the generation never waits on the consumer. */
class PartQueue {
  private readonly parts: StreamPart[] = [];
  private wake?: () => void;
  push(part: StreamPart): void {
    this.parts.push(part);
    this.wake?.();
  }
  take(): StreamPart | undefined {
    return this.parts.shift();
  }
  wait(): Promise<void> {
    return this.parts.length > 0 ? Promise.resolve() : new Promise((resolve) => (this.wake = resolve));
  }
}

async function* streamLlamaCpp(turn: Turn): AsyncGenerator<StreamPart> {
  const fail = (kind: ProviderError['kind'], message: string, cause?: unknown): StreamPart => ({
    type: 'error',
    error: new ProviderError({ kind, providerName: turn.name, message, retryable: false, cause }),
  });
  const label = `${turn.name} (llama-cpp)`;
  const cancelled = () => fail('cancelled', `The request to ${label} was cancelled.`);
  if (turn.signal.aborted) return yield cancelled();
  const fileProblem = await checkGgufFile(turn.path);
  if (fileProblem) {
    const fix = turn.config.modelPath ? 'correct "modelPath"' : `pull it with \`codebench models pull ${turn.config.model}\`, or set "modelPath"`;
    return yield fail('config', `${label}: ${fileProblem}; ${fix}.`);
  }

  const queue = new PartQueue();
  const generation = generate(turn, queue).then(
    () => queue.push({ type: 'finish', reason: 'other' }),
    (error: unknown) => queue.push(describeFailure(error, turn, label)),
  );
  const aborted = new Promise<'aborted'>((resolve) => {
    if (turn.signal.aborted) resolve('aborted');
    else turn.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  void generation;
  while (true) {
    // Cancel answers at once; node-llama-cpp stops at its next token and then frees the sequence.
    if ((await Promise.race([queue.wait(), aborted])) === 'aborted') return yield cancelled();
    const part = queue.take();
    if (!part) continue;
    if (part.type === 'finish' && part.reason === 'other') return;
    yield part;
    if (part.type === 'error') return;
  }
}

async function generate(turn: Turn, queue: PartQueue): Promise<void> {
  const { request, config } = turn;
  const lease: LlamaLease = await turn.runtime.lease(
    {
      path: turn.path,
      gpuLayers: config.gpuLayers ?? 'auto',
      contextSize: turn.contextWindow,
      ...(config.threads !== undefined ? { threads: config.threads } : {}),
      idleUnloadSeconds: config.idleUnloadSeconds ?? DEFAULT_IDLE_UNLOAD_SECONDS,
    },
    turn.signal,
  );
  try {
    const withTools = request.tools.length > 0;
    const system = withTools ? `${request.system}\n\n${envelopeInstructions(request.tools)}` : request.system;
    const history = toChatHistory(system, request.messages);
    const grammar = withTools ? await lease.llama.createGrammarForJsonSchema(envelopeSchema(request.tools) as never) : undefined;
    const meter = lease.sequence.tokenMeter;
    const before = { input: meter.usedInputTokens, output: meter.usedOutputTokens };
    // No clearHistory: LlamaChat keeps the evaluated prefix this turn shares with the last one (the
    // system prompt, earlier messages) and erases the rest; the lease makes the sequence ours alone.
    const streamer = new AnswerStreamer();
    let output = '';
    const result = await lease.chat.generateResponse(history as never, {
      ...(grammar ? { grammar } : {}),
      maxTokens: request.maxOutputTokens ?? config.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      ...(request.temperature ?? config.temperature) !== undefined ? { temperature: request.temperature ?? config.temperature } : {},
      signal: turn.signal,
      stopOnAbortSignal: true,
      onTextChunk: (chunk: string) => {
        if (!withTools) return queue.push({ type: 'text-delta', text: chunk });
        output += chunk;
        const text = streamer.next(output);
        if (text) queue.push({ type: 'text-delta', text });
      },
    });
    queue.push({
      type: 'usage',
      usage: { inputTokens: meter.usedInputTokens - before.input, outputTokens: meter.usedOutputTokens - before.output },
    });
    const stopReason = result.metadata.stopReason;
    if (stopReason === 'abort') return;
    let reason: FinishReason = stopReason === 'maxTokens' ? 'length' : 'stop';
    if (withTools) {
      const envelope = parseEnvelope(result.response, `call_${randomUUID().slice(0, 8)}`);
      if (envelope && 'call' in envelope) {
        queue.push({ type: 'tool-call', call: envelope.call });
        reason = 'tool-calls';
      } else if (!envelope) {
        // Cut off mid-object (maxTokens or the context ran out): say what came, as text.
        queue.push({ type: 'text-delta', text: streamer.next(result.response) || result.response });
      }
    }
    queue.push({ type: 'finish', reason });
  } finally {
    lease.release();
  }
}

/** node-llama-cpp's failures in our error kinds, naming the model file where it is the cause. */
function describeFailure(error: unknown, turn: Turn, label: string): StreamPart {
  const message = ((error as Error)?.message ?? String(error)).split('\n')[0] ?? '';
  const make = (kind: ProviderError['kind'], text: string): StreamPart => ({
    type: 'error',
    error: new ProviderError({ kind, providerName: turn.name, message: text, retryable: false, cause: error }),
  });
  if ((error as Error)?.name === 'AbortError' || turn.signal.aborted) return make('cancelled', `The request to ${label} was cancelled.`);
  if (error instanceof LlamaUnavailableError) return make('config', `${label}: ${message}.`);
  if (/load model|gguf|tensor|vocab|architecture/i.test(message)) {
    return make('config', `${label}: the model file ${turn.path} could not be loaded (${message}).`);
  }
  if (/context|too long|exceed/i.test(message)) {
    return make('context-overflow', `The conversation is too long for ${label} (${message}). Start a new session, include less context, or raise "contextWindow".`);
  }
  return make('bad-response', `${label} failed: ${message}`);
}
