import type { Frame, NormalizedTurn, WireFormat } from './model-server.js';

/** OpenAI chat completions: `data: {chunk}` SSE frames ending in `data: [DONE]`. */

const FINISH = { stop: 'stop', length: 'length', 'tool-calls': 'tool_calls' } as const;

export const openaiWire: WireFormat = {
  streamContentType: 'text/event-stream',
  isStream: (body) => body?.stream === true,

  frames(turn: NormalizedTurn, model: string, body: any): Frame[] {
    const created = Math.floor(Date.now() / 1000);
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
    const delta = (d: Record<string, unknown>, finish: string | null = null) => [{ index: 0, delta: d, finish_reason: finish }];
    const frames: Frame[] = [{ data: chunk(delta({ role: 'assistant', content: '' })), content: false }];
    for (const piece of turn.pieces) frames.push({ data: chunk(delta({ content: piece })), content: true });
    turn.toolCalls.forEach((call, index) => {
      const head = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
      frames.push({ data: chunk(delta({ tool_calls: [head] })), content: true });
      for (const fragment of call.fragments) {
        frames.push({ data: chunk(delta({ tool_calls: [{ index, function: { arguments: fragment } }] })), content: true });
      }
    });
    frames.push({ data: chunk(delta({}, FINISH[turn.finish])), content: false });
    if (body?.stream_options?.include_usage) {
      frames.push({ data: chunk([], { usage: usageOf(turn) }), content: false });
    }
    frames.push({ data: 'data: [DONE]\n\n', content: false });
    return frames;
  },

  json(turn: NormalizedTurn, model: string): unknown {
    const toolCalls = turn.toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.argsText },
    }));
    return {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: turn.pieces.join('') || null,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          },
          finish_reason: FINISH[turn.finish],
        },
      ],
      usage: usageOf(turn),
    };
  },

  errorBody(status: number, message: string, type: string | undefined): unknown {
    const fallback = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { message, type: type ?? fallback, param: null, code: status === 401 ? 'invalid_api_key' : null } };
  },
};

function usageOf(turn: NormalizedTurn) {
  const { inputTokens, outputTokens, cachedInputTokens } = turn.usage;
  return {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    // prompt_tokens counts the cached ones too; only sent when a turn asks for it.
    ...(cachedInputTokens !== undefined ? { prompt_tokens_details: { cached_tokens: cachedInputTokens } } : {}),
  };
}
