import type { ModelRequest } from './types.js';

/**
 * The one place prompt size is estimated before a request is sent (num_ctx, the context fit
 * check, prompt budgets). Cheap on purpose: it runs for every model turn. Code and English
 * average about 3.5–4 characters per token in the BPE vocabularies of current models, so 3.5
 * errs towards too many tokens, which is the safe side for sizing a context window.
 */

export const CHARS_PER_TOKEN = 3.5;

/** Tokens a chat template spends on each message's role markers and separators. */
const MESSAGE_OVERHEAD_TOKENS = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The whole prompt of one turn: system prompt, messages (with tool calls), tool schemas. */
export function estimateRequestTokens(request: Pick<ModelRequest, 'system' | 'messages' | 'tools'>): number {
  let tokens = estimateTokens(request.system) + MESSAGE_OVERHEAD_TOKENS;
  for (const message of request.messages) {
    tokens += estimateTokens(message.content) + MESSAGE_OVERHEAD_TOKENS;
    if (message.role === 'assistant') {
      for (const call of message.toolCalls ?? []) tokens += estimateTokens(call.name + JSON.stringify(call.args));
    }
  }
  // Servers render tool schemas into the prompt as JSON (or close to it).
  if (request.tools.length > 0) tokens += estimateTokens(JSON.stringify(request.tools));
  return tokens;
}
