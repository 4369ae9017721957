import { randomUUID } from 'node:crypto';
import { Ollama, type ChatRequest, type ChatResponse, type Message, type Tool } from 'ollama';
import { ProviderError } from './errors.js';
import { quietOllamaErrors } from './ollama-errors.js';
import { parseToolArguments, type ProviderCall } from './transport.js';
import type { ChatMessage, FinishReason, StreamPart, ToolCall } from './types.js';

/** Ollama's native /api/chat (NDJSON), which reports usage and tool calls more reliably than its /v1 shim. */

export async function* streamOllama(call: ProviderCall): AsyncGenerator<StreamPart> {
  const { config, request } = call;
  let responseHeaders: Headers | undefined;
  const client = new Ollama({
    host: call.baseURL,
    // The library takes no signal for non-streaming calls; injecting it into fetch covers both.
    fetch: async (input, init) => {
      const response = await fetch(input, {
        ...init,
        signal: init?.signal ? AbortSignal.any([init.signal, call.signal]) : call.signal,
      });
      responseHeaders = response.headers;
      return quietOllamaErrors(response);
    },
    // Only set when the config names a key variable, e.g. for ollama.com or an authenticating proxy.
    ...(call.apiKey ? { headers: { Authorization: `Bearer ${call.apiKey}` } } : {}),
  });
  // The library's ResponseError drops the headers; classification needs Retry-After from them.
  const withHeaders = (error: unknown): never => {
    if (error instanceof Error && responseHeaders) Object.assign(error, { headers: responseHeaders });
    throw error;
  };
  const maxTokens = request.maxOutputTokens ?? config.maxOutputTokens;
  const temperature = request.temperature ?? config.temperature;
  const base: ChatRequest = {
    model: config.model,
    messages: toWireMessages(request.system, request.messages),
    ...(request.tools.length > 0 ? { tools: request.tools.map(toWireTool) } : {}),
    ...(maxTokens !== undefined || temperature !== undefined || call.contextTokens !== undefined
      ? {
          options: {
            ...(maxTokens !== undefined ? { num_predict: maxTokens } : {}),
            ...(temperature !== undefined ? { temperature } : {}),
            // Without it Ollama uses its small default context and silently drops what does not fit.
            ...(call.contextTokens !== undefined ? { num_ctx: call.contextTokens } : {}),
          },
        }
      : {}),
  };

  // Streaming with tools can drop or split tool calls on some models; the config can opt out.
  // Without streaming no byte arrives before the whole answer, so timeoutSeconds then bounds
  // the whole generation rather than a stall.
  if (config.streamToolCalls === false && request.tools.length > 0) {
    const response = await client.chat({ ...base, stream: false }).catch(withHeaders);
    call.touch();
    if (response.message?.content) yield { type: 'text-delta', text: response.message.content };
    const calls = toToolCalls(response.message);
    for (const toolCall of calls) yield { type: 'tool-call', call: toolCall };
    yield* finishParts(response, calls.length > 0);
    return;
  }

  const stream = await client.chat({ ...base, stream: true }).catch(withHeaders);
  call.touch();
  let sawToolCalls = false;
  let last: ChatResponse | undefined;
  for await (const chunk of stream) {
    call.touch();
    if (chunk.message?.content) yield { type: 'text-delta', text: chunk.message.content };
    for (const toolCall of toToolCalls(chunk.message)) {
      sawToolCalls = true;
      yield { type: 'tool-call', call: toolCall };
    }
    last = chunk;
    if (chunk.done) break;
  }
  if (call.signal.aborted) return;
  if (!last?.done) {
    throw new ProviderError({
      kind: 'bad-response',
      providerName: call.providerName,
      message: `${call.providerName} (ollama at ${call.baseURL}) ended the stream without a final "done" message; the response is incomplete.`,
    });
  }
  yield* finishParts(last, sawToolCalls);
}

function* finishParts(response: ChatResponse, sawToolCalls: boolean): Generator<StreamPart> {
  yield {
    type: 'usage',
    usage: { inputTokens: response.prompt_eval_count ?? 0, outputTokens: response.eval_count ?? 0 },
  };
  // Ollama says "stop" after tool calls too; the agent needs to know tools are waiting.
  const reason: FinishReason =
    response.done_reason === 'length' ? 'length' : sawToolCalls ? 'tool-calls' : response.done_reason === 'stop' || !response.done_reason ? 'stop' : 'other';
  yield { type: 'finish', reason };
}

/** Ollama sends arguments already parsed and, in most versions, no call ids: mint them. */
function toToolCalls(message: Message | undefined): ToolCall[] {
  return (message?.tool_calls ?? []).map((c) => {
    const id = (c as { id?: unknown }).id;
    const args = c.function.arguments as unknown;
    return {
      id: typeof id === 'string' && id ? id : `call_${randomUUID().slice(0, 12)}`,
      name: c.function.name,
      args:
        args !== null && typeof args === 'object' && !Array.isArray(args)
          ? (args as Record<string, unknown>)
          : // Some models behind Ollama emit arguments as a JSON string despite the schema.
            typeof args === 'string'
            ? parseToolArguments(args)
            : {},
    };
  });
}

function toWireTool(tool: { name: string; description: string; parameters: Record<string, unknown> }): Tool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters as Tool['function']['parameters'] },
  };
}

function toWireMessages(system: string, messages: ChatMessage[]): Message[] {
  const wire: Message[] = system ? [{ role: 'system', content: system }] : [];
  for (const message of messages) {
    if (message.role === 'user') {
      wire.push({ role: 'user', content: message.content });
    } else if (message.role === 'assistant') {
      const calls = message.toolCalls ?? [];
      wire.push({
        role: 'assistant',
        content: message.content,
        ...(calls.length > 0 ? { tool_calls: calls.map((c) => ({ function: { name: c.name, arguments: c.args } })) } : {}),
      });
    } else {
      wire.push({ role: 'tool', content: message.content, tool_name: message.toolName });
    }
  }
  return wire;
}
