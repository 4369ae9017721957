import type { Frame, NormalizedTurn, WireFormat } from './model-server.js';

/** Ollama /api/chat: one JSON object per line; the last has `done: true` and the token counts. */

export const ollamaWire: WireFormat = {
  streamContentType: 'application/x-ndjson',
  // Ollama streams unless told otherwise.
  isStream: (body) => body?.stream !== false,

  frames(turn: NormalizedTurn, model: string): Frame[] {
    const line = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `${JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', ...message }, done: false, ...extra })}\n`;
    const frames: Frame[] = turn.pieces.map((content) => ({ data: line({ content }), content: true }));
    if (turn.toolCalls.length > 0) {
      // Real Ollama sends each call whole, already parsed, and without an id.
      frames.push({ data: line({ content: '', tool_calls: toolCallsOf(turn) }), content: true });
    }
    frames.push({ data: line({ content: '' }, { done: true, ...finalFields(turn) }), content: false });
    return frames;
  },

  json(turn: NormalizedTurn, model: string): unknown {
    const toolCalls = toolCallsOf(turn);
    return {
      model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: turn.pieces.join(''), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
      done: true,
      ...finalFields(turn),
    };
  },

  errorBody: (_status: number, message: string) => ({ error: message }),
};

function toolCallsOf(turn: NormalizedTurn) {
  return turn.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.argsObject } }));
}

function finalFields(turn: NormalizedTurn) {
  return {
    done_reason: turn.finish === 'length' ? 'length' : 'stop',
    total_duration: 1_000_000,
    load_duration: 1000,
    prompt_eval_count: turn.usage.inputTokens,
    prompt_eval_duration: 1000,
    eval_count: turn.usage.outputTokens,
    eval_duration: 1000,
  };
}

export interface FakeModelInfo {
  /** Sent as model_info["<architecture>.context_length"]. */
  contextLength?: number;
  /** Sent as `capabilities` (Ollama ≥ 0.6), e.g. ["completion", "tools"]; omitted when absent. */
  capabilities?: string[];
  architecture?: string;
}

/** POST /api/show, shaped like Ollama's (the fields codebench reads, and a few it does not). */
export function ollamaShowBody(model: string, info: FakeModelInfo = {}): unknown {
  const architecture = info.architecture ?? 'qwen2';
  return {
    license: '',
    modelfile: `FROM ${model}`,
    parameters: 'stop "<|im_end|>"',
    template: '{{ .Prompt }}',
    details: { parent_model: '', format: 'gguf', family: architecture, families: [architecture], parameter_size: '7.6B', quantization_level: 'Q4_K_M' },
    model_info: {
      'general.architecture': architecture,
      'general.parameter_count': 7_615_616_512,
      [`${architecture}.context_length`]: info.contextLength ?? 32_768,
      [`${architecture}.embedding_length`]: 3584,
    },
    ...(info.capabilities ? { capabilities: info.capabilities } : {}),
    modified_at: new Date(0).toISOString(),
  };
}
