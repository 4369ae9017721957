import type { Frame, NormalizedTurn, WireFormat } from './model-server.js';

/**
 * OpenAI Responses API (`POST /v1/responses`), the only wire the codex CLI speaks: `event:` +
 * `data:` SSE frames from `response.created` to `response.completed`. A tool call becomes a
 * `custom_tool_call` (raw `input`) when the request declared that tool as `type: "custom"` — codex
 * declares `apply_patch` that way for the models it knows — and a `function_call` otherwise.
 */

type OutputItem = Record<string, unknown> & { type: string; id: string };

const INCOMPLETE = { reason: 'max_output_tokens' };

export const responsesWire: WireFormat = {
  streamContentType: 'text/event-stream',
  isStream: (body) => body?.stream === true,

  frames(turn: NormalizedTurn, model: string, body: any): Frame[] {
    let sequence = 0;
    const frame = (type: string, data: Record<string, unknown>, content = false): Frame => ({
      data: `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`,
      content,
    });
    const response = responseObject(model, 'in_progress', [], undefined);
    const frames: Frame[] = [frame('response.created', { response }), frame('response.in_progress', { response })];
    const output: OutputItem[] = [];

    if (turn.pieces.length > 0) {
      const index = output.length;
      const id = `msg_fake_${index}`;
      const text = turn.pieces.join('');
      const part = { type: 'output_text', text: '', annotations: [] };
      const at = { item_id: id, output_index: index, content_index: 0 };
      frames.push(frame('response.output_item.added', { output_index: index, item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } }));
      frames.push(frame('response.content_part.added', { ...at, part }));
      for (const delta of turn.pieces) frames.push(frame('response.output_text.delta', { ...at, delta, logprobs: [] }, true));
      frames.push(frame('response.output_text.done', { ...at, text, logprobs: [] }));
      frames.push(frame('response.content_part.done', { ...at, part: { ...part, text } }));
      const done: OutputItem = { id, type: 'message', status: 'completed', role: 'assistant', content: [{ ...part, text }] };
      frames.push(frame('response.output_item.done', { output_index: index, item: done }));
      output.push(done);
    }

    for (const call of turn.toolCalls) {
      const index = output.length;
      const id = `fc_fake_${index}`;
      const at = { item_id: id, output_index: index };
      if (isCustomTool(body, call.name)) {
        const input = customInput(call);
        frames.push(frame('response.output_item.added', { output_index: index, item: { id, type: 'custom_tool_call', status: 'in_progress', call_id: call.id, name: call.name, input: '' } }));
        for (const delta of fragmentsOf(input)) frames.push(frame('response.custom_tool_call_input.delta', { ...at, delta }, true));
        frames.push(frame('response.custom_tool_call_input.done', { ...at, input }));
        const done: OutputItem = { id, type: 'custom_tool_call', status: 'completed', call_id: call.id, name: call.name, input };
        frames.push(frame('response.output_item.done', { output_index: index, item: done }));
        output.push(done);
        continue;
      }
      frames.push(frame('response.output_item.added', { output_index: index, item: { id, type: 'function_call', status: 'in_progress', call_id: call.id, name: call.name, arguments: '' } }));
      for (const delta of call.fragments) frames.push(frame('response.function_call_arguments.delta', { ...at, delta }, true));
      frames.push(frame('response.function_call_arguments.done', { ...at, arguments: call.argsText }));
      const done: OutputItem = { id, type: 'function_call', status: 'completed', call_id: call.id, name: call.name, arguments: call.argsText };
      frames.push(frame('response.output_item.done', { output_index: index, item: done }));
      output.push(done);
    }

    const status = turn.finish === 'length' ? 'incomplete' : 'completed';
    frames.push(frame(`response.${status}`, { response: responseObject(model, status, output, turn) }));
    return frames;
  },

  json(turn: NormalizedTurn, model: string): unknown {
    const output: OutputItem[] = [];
    const text = turn.pieces.join('');
    if (text) {
      output.push({ id: 'msg_fake_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] });
    }
    for (const call of turn.toolCalls) {
      output.push({ id: `fc_fake_${output.length}`, type: 'function_call', status: 'completed', call_id: call.id, name: call.name, arguments: call.argsText });
    }
    return responseObject(model, turn.finish === 'length' ? 'incomplete' : 'completed', output, turn);
  },

  errorBody(status: number, message: string, type: string | undefined): unknown {
    const fallback = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { message, type: type ?? fallback, param: null, code: status === 401 ? 'invalid_api_key' : null } };
  },
};

function responseObject(model: string, status: string, output: OutputItem[], turn: NormalizedTurn | undefined) {
  return {
    id: 'resp_fake',
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output,
    incomplete_details: status === 'incomplete' ? INCOMPLETE : null,
    usage: turn
      ? {
          input_tokens: turn.usage.inputTokens,
          input_tokens_details: { cached_tokens: turn.usage.cachedInputTokens ?? 0 },
          output_tokens: turn.usage.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: turn.usage.inputTokens + turn.usage.outputTokens,
        }
      : null,
  };
}

function isCustomTool(body: any, name: string): boolean {
  const tools: unknown[] = Array.isArray(body?.tools) ? body.tools : [];
  return tools.some((tool) => (tool as { type?: unknown; name?: unknown }).type === 'custom' && (tool as { name?: unknown }).name === name);
}

/** A freeform tool takes raw text: a string argument is the text, `{ input }` is accepted too. */
function customInput(call: NormalizedTurn['toolCalls'][number]): string {
  const input = call.argsObject.input;
  if (typeof input === 'string' && Object.keys(call.argsObject).length === 1) return input;
  return call.argsText;
}

function fragmentsOf(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/**
 * SSE frames for arbitrary output items (reasoning, web_search_call …), for `FakeTurn.rawChunks`:
 * each item is announced, then completed, then the response completes with `usage`.
 */
export function responsesRawChunks(items: Array<Record<string, unknown>>, usage = { inputTokens: 10, outputTokens: 5 }): string[] {
  let sequence = 0;
  const frame = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`;
  const output = items.map((item, index) => ({ id: `item_fake_${index}`, ...item }) as OutputItem);
  const turn = { pieces: [], toolCalls: [], usage, finish: 'stop' } as NormalizedTurn;
  const chunks = [frame('response.created', { response: responseObject('fake-model', 'in_progress', [], undefined) })];
  output.forEach((item, index) => {
    chunks.push(frame('response.output_item.added', { output_index: index, item }));
    chunks.push(frame('response.output_item.done', { output_index: index, item }));
  });
  chunks.push(frame('response.completed', { response: responseObject('fake-model', 'completed', output, turn) }));
  return chunks;
}
