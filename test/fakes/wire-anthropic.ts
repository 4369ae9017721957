import type { Frame, NormalizedTurn, WireFormat } from './model-server.js';

/** Anthropic messages: named SSE events from message_start to message_stop. */

const STOP = { stop: 'end_turn', length: 'max_tokens', 'tool-calls': 'tool_use' } as const;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export const anthropicWire: WireFormat = {
  streamContentType: 'text/event-stream',
  isStream: (body) => body?.stream === true,

  frames(turn: NormalizedTurn, model: string): Frame[] {
    const event = (type: string, data: Record<string, unknown>) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const frames: Frame[] = [];
    const meta = (type: string, data: Record<string, unknown>) => frames.push({ data: event(type, data), content: false });
    meta('message_start', {
      message: {
        id: 'msg_fake',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...inputUsage(turn), output_tokens: 1 },
      },
    });
    let index = 0;
    if (turn.pieces.length > 0) {
      meta('content_block_start', { index, content_block: { type: 'text', text: '' } });
      meta('ping', {});
      for (const text of turn.pieces) {
        frames.push({ data: event('content_block_delta', { index, delta: { type: 'text_delta', text } }), content: true });
      }
      meta('content_block_stop', { index });
      index++;
    }
    for (const call of turn.toolCalls) {
      meta('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } });
      for (const partial_json of call.fragments) {
        frames.push({
          data: event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }),
          content: true,
        });
      }
      meta('content_block_stop', { index });
      index++;
    }
    meta('message_delta', {
      delta: { stop_reason: STOP[turn.finish], stop_sequence: null },
      usage: { output_tokens: turn.usage.outputTokens },
    });
    meta('message_stop', {});
    return frames;
  },

  json(turn: NormalizedTurn, model: string): unknown {
    const text = turn.pieces.join('');
    return {
      id: 'msg_fake',
      type: 'message',
      role: 'assistant',
      model,
      content: [
        ...(text ? [{ type: 'text', text }] : []),
        ...turn.toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.argsObject })),
      ],
      stop_reason: STOP[turn.finish],
      stop_sequence: null,
      usage: { ...inputUsage(turn), output_tokens: turn.usage.outputTokens },
    };
  },

  errorBody(status: number, message: string, type: string | undefined): unknown {
    const fallback = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type: type ?? fallback, message } };
  },
};

/** Anthropic's input_tokens leaves cache reads out: they come as cache_read_input_tokens (only when a turn has any). */
function inputUsage(turn: NormalizedTurn): { input_tokens: number; cache_read_input_tokens?: number } {
  const cached = turn.usage.cachedInputTokens;
  if (cached === undefined) return { input_tokens: turn.usage.inputTokens };
  return { input_tokens: turn.usage.inputTokens - cached, cache_read_input_tokens: cached };
}
