import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { ProviderError } from './errors.js';
import { parseToolArguments, type ProviderCall } from './transport.js';
import type { ChatMessage, FinishReason, StreamPart } from './types.js';

/** Anthropic Messages API over its raw SSE event stream. */

/** The API requires max_tokens; large enough for a whole file edit in one tool call. */
const DEFAULT_MAX_TOKENS = 8192;

export async function* streamAnthropic(call: ProviderCall): AsyncGenerator<StreamPart> {
  const { config, request } = call;
  const client = new Anthropic({
    apiKey: call.apiKey ?? null,
    baseURL: call.baseURL,
    maxRetries: 0,
    logLevel: 'off',
  });
  const temperature = request.temperature ?? config.temperature;
  const body: MessageCreateParamsStreaming = {
    model: config.model,
    max_tokens: request.maxOutputTokens ?? config.maxOutputTokens ?? DEFAULT_MAX_TOKENS,
    messages: toWireMessages(request.messages),
    stream: true,
    ...(request.system ? { system: request.system } : {}),
    ...(request.tools.length > 0 ? { tools: request.tools.map(toWireTool) } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
  };

  const stream = await client.messages.create(body, { signal: call.signal });
  call.touch();

  const toolBlocks = new Map<number, { id: string; name: string; json: string }>();
  let inputTokens = 0;
  let outputTokens = 0;
  let cachedInputTokens = 0;
  let stopReason: string | null | undefined;
  let stopped = false;

  for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
    call.touch();
    switch (event.type) {
      case 'message_start': {
        const u = event.message.usage;
        inputTokens = u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
        cachedInputTokens = u.cache_read_input_tokens ?? 0;
        outputTokens = u.output_tokens;
        break;
      }
      case 'content_block_start':
        if (event.content_block.type === 'tool_use') {
          const block = event.content_block;
          // Usually `{}` here with the real input streamed as input_json_delta; keep it if not.
          const initial = block.input && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : '';
          toolBlocks.set(event.index, { id: block.id, name: block.name, json: initial });
        } else if (event.content_block.type === 'text' && event.content_block.text) {
          yield { type: 'text-delta', text: event.content_block.text };
        }
        break;
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') {
          if (event.delta.text) yield { type: 'text-delta', text: event.delta.text };
        } else if (event.delta.type === 'input_json_delta') {
          const block = toolBlocks.get(event.index);
          if (block) block.json += event.delta.partial_json;
        }
        break;
      case 'content_block_stop': {
        const block = toolBlocks.get(event.index);
        if (block) {
          toolBlocks.delete(event.index);
          yield { type: 'tool-call', call: { id: block.id, name: block.name, args: parseToolArguments(block.json) } };
        }
        break;
      }
      case 'message_delta': {
        stopReason = event.delta.stop_reason;
        const u = event.usage;
        // message_delta counts are cumulative; newer API versions repeat the input counts here.
        if (u.input_tokens != null) {
          inputTokens = u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
          cachedInputTokens = u.cache_read_input_tokens ?? 0;
        }
        outputTokens = u.output_tokens;
        break;
      }
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  if (call.signal.aborted) return;
  if (!stopped) {
    throw new ProviderError({
      kind: 'bad-response',
      providerName: call.providerName,
      message: `${call.providerName} (${call.kind} at ${call.baseURL}) ended the stream before message_stop; the response is incomplete.`,
    });
  }
  // Cache writes stay plain input tokens; only cache reads are the cheaper cached ones.
  yield { type: 'usage', usage: { inputTokens, outputTokens, ...(cachedInputTokens > 0 ? { cachedInputTokens } : {}) } };
  yield { type: 'finish', reason: mapStopReason(stopReason) };
}

function mapStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool-calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    default:
      return 'other';
  }
}

function toWireTool(tool: { name: string; description: string; parameters: Record<string, unknown> }): Tool {
  return {
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.parameters } as Tool['input_schema'],
  };
}

/**
 * Anthropic wants strictly alternating user/assistant turns, tool results inside a user turn,
 * and no empty text blocks; our history has none of these constraints, so adjacent user-side
 * messages (tool results, then maybe a user note) are merged into one turn.
 */
function toWireMessages(messages: ChatMessage[]): MessageParam[] {
  const wire: { role: 'user' | 'assistant'; content: ContentBlockParam[] }[] = [];
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = wire[wire.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else wire.push({ role, content: blocks });
  };
  for (const message of messages) {
    if (message.role === 'user') {
      push('user', message.content ? [{ type: 'text', text: message.content }] : []);
    } else if (message.role === 'assistant') {
      const blocks: ContentBlockParam[] = message.content ? [{ type: 'text', text: message.content }] : [];
      for (const c of message.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.args });
      push('assistant', blocks);
    } else {
      push('user', [
        {
          type: 'tool_result',
          tool_use_id: message.toolCallId,
          content: message.content,
          ...(message.isError ? { is_error: true } : {}),
        },
      ]);
    }
  }
  return wire;
}
