import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { ProviderError } from './errors.js';
import { parseToolArguments, type ProviderCall } from './transport.js';
import type { ChatMessage, FinishReason, StreamPart, ToolCall, Usage } from './types.js';

/** OpenAI chat completions, for api.openai.com and any server that imitates it. */

export async function* streamOpenAI(call: ProviderCall): AsyncGenerator<StreamPart> {
  try {
    yield* streamChatCompletions(call);
  } catch (error) {
    throw withErrorName(error);
  }
}

/**
 * The OpenAI SDK leaves `name` as "Error" on its connection errors (Anthropic's SDK names them),
 * and classify.ts must not rely on class names a bundler renames: name them here, by `instanceof`
 * on the classes this module imports.
 */
function withErrorName(error: unknown): unknown {
  const name =
    error instanceof OpenAI.APIUserAbortError
      ? 'APIUserAbortError'
      : error instanceof OpenAI.APIConnectionTimeoutError
        ? 'APIConnectionTimeoutError'
        : error instanceof OpenAI.APIConnectionError
          ? 'APIConnectionError'
          : undefined;
  if (name) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true });
  return error;
}

async function* streamChatCompletions(call: ProviderCall): AsyncGenerator<StreamPart> {
  const { config, request } = call;
  const client = new OpenAI({
    // Local OpenAI-style servers usually ignore the key, but the SDK refuses to start without one.
    apiKey: call.apiKey ?? 'not-needed',
    baseURL: call.baseURL,
    maxRetries: 0,
    logLevel: 'off',
  });
  const maxTokens = request.maxOutputTokens ?? config.maxOutputTokens;
  const temperature = request.temperature ?? config.temperature;
  const body: ChatCompletionCreateParamsStreaming = {
    model: config.model,
    messages: toWireMessages(request.system, request.messages),
    stream: true,
    stream_options: { include_usage: true },
    ...(request.tools.length > 0 ? { tools: request.tools.map(toWireTool) } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    // api.openai.com deprecated max_tokens for reasoning models; most imitators only know max_tokens.
    ...(maxTokens !== undefined
      ? call.kind === 'openai'
        ? { max_completion_tokens: maxTokens }
        : { max_tokens: maxTokens }
      : {}),
  };

  if (config.streamToolCalls === false && request.tools.length > 0) {
    const { stream_options: _unused, ...rest } = body;
    const completion = (await client.chat.completions.create({ ...rest, stream: false }, { signal: call.signal })) as ChatCompletion;
    yield* partsOfCompletion(completion, call);
    return;
  }

  const stream = await client.chat.completions.create(body, { signal: call.signal });
  call.touch();

  const pending = new Map<number, { id: string; name: string; args: string }>();
  let finish: FinishReason | undefined;
  let usage: Usage | undefined;
  let emittedCalls = false;

  for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
    call.touch();
    if (chunk.usage) usage = usageOf(chunk.usage);
    for (const choice of chunk.choices) {
      const delta = choice.delta;
      if (delta?.content) yield { type: 'text-delta', text: delta.content };
      for (const fragment of delta?.tool_calls ?? []) {
        const entry = pending.get(fragment.index) ?? { id: '', name: '', args: '' };
        if (fragment.id) entry.id = fragment.id;
        if (fragment.function?.name) entry.name += fragment.function.name;
        if (fragment.function?.arguments) entry.args += fragment.function.arguments;
        pending.set(fragment.index, entry);
      }
      if (choice.finish_reason) {
        finish = mapFinish(choice.finish_reason);
        yield* drainToolCalls(pending);
        emittedCalls ||= pending.size > 0;
        pending.clear();
      }
    }
  }
  if (call.signal.aborted) return;
  if (finish === undefined) {
    throw new ProviderError({
      kind: 'bad-response',
      providerName: call.providerName,
      message: `${call.providerName} (${call.kind} at ${call.baseURL}) ended the stream before the model finished (no finish_reason).`,
    });
  }
  if (usage) yield { type: 'usage', usage };
  // Some imitators report "stop" even when the turn ended in tool calls.
  yield { type: 'finish', reason: emittedCalls && finish === 'stop' ? 'tool-calls' : finish };
}

/** The non-streaming fallback for servers that drop or split streamed tool calls. */
function* partsOfCompletion(completion: ChatCompletion, call: ProviderCall): Generator<StreamPart> {
  const choice = completion.choices[0];
  if (!choice) {
    throw new ProviderError({
      kind: 'bad-response',
      providerName: call.providerName,
      message: `${call.providerName} (${call.kind} at ${call.baseURL}) answered without a choice.`,
    });
  }
  if (choice.message.content) yield { type: 'text-delta', text: choice.message.content };
  const pending = new Map<number, { id: string; name: string; args: string }>();
  (choice.message.tool_calls ?? []).forEach((toolCall, index) => {
    if (toolCall.type !== 'function') return;
    pending.set(index, { id: toolCall.id, name: toolCall.function.name, args: toolCall.function.arguments });
  });
  yield* drainToolCalls(pending);
  if (completion.usage) yield { type: 'usage', usage: usageOf(completion.usage) };
  const finish = mapFinish(choice.finish_reason);
  yield { type: 'finish', reason: pending.size > 0 && finish === 'stop' ? 'tool-calls' : finish };
}

function* drainToolCalls(pending: Map<number, { id: string; name: string; args: string }>): Generator<StreamPart> {
  for (const [index, entry] of [...pending.entries()].sort((a, b) => a[0] - b[0])) {
    const toolCall: ToolCall = {
      id: entry.id || `call_${index}_${Date.now().toString(36)}`,
      name: entry.name,
      args: parseToolArguments(entry.args),
    };
    yield { type: 'tool-call', call: toolCall };
  }
}

function mapFinish(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'length':
      return 'length';
    default:
      return 'other';
  }
}

function toWireTool(tool: { name: string; description: string; parameters: Record<string, unknown> }): ChatCompletionTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

function toWireMessages(system: string, messages: ChatMessage[]): ChatCompletionMessageParam[] {
  const wire: ChatCompletionMessageParam[] = [];
  if (system) wire.push({ role: 'system', content: system });
  for (const message of messages) {
    if (message.role === 'user') {
      wire.push({ role: 'user', content: message.content });
    } else if (message.role === 'assistant') {
      const calls = message.toolCalls ?? [];
      wire.push({
        role: 'assistant',
        // The API rejects an empty string beside tool calls but accepts null.
        content: message.content || (calls.length > 0 ? null : ''),
        ...(calls.length > 0
          ? {
              tool_calls: calls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: JSON.stringify(c.args) },
              })),
            }
          : {}),
      });
    } else {
      wire.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.content });
    }
  }
  return wire;
}

/** prompt_tokens already counts the cached ones; prompt_tokens_details says how many of them were. */
function usageOf(usage: CompletionUsage): Usage {
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    ...(typeof cached === 'number' && cached > 0 ? { cachedInputTokens: cached } : {}),
  };
}
