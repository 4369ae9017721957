import { estimateRequestTokens } from '../../providers/token-estimate.js';
import type { ChatMessage, LanguageModel, ModelRequest } from '../../providers/types.js';

/** Room kept for the answer inside the model's context. */
const ANSWER_TOKENS = 4096;
/**
 * Once shortening is needed, it goes down to this share of the budget: the next steps' results fit
 * without touching earlier messages again, so the prefix a server has cached survives them.
 */
const SHORTEN_TO = 0.7;

/**
 * The tokens a run's requests may use, when the model's context is known (Ollama's /api/show,
 * or the provider's `contextWindow`); undefined means no shortening.
 */
export async function promptBudgetOf(model: LanguageModel): Promise<number | undefined> {
  const capabilities = await model.capabilities?.().catch(() => undefined);
  const context = capabilities?.contextLength;
  if (context === undefined) return undefined;
  return Math.max(1024, context - ANSWER_TOKENS);
}

/**
 * Shortens the oldest tool results to one-line stubs ("[output of read_file src/a.ts shortened:
 * 420 lines]") until the request's estimate fits `budgetTokens`, with room to spare. It replaces entries of
 * `messages` in place, so every later request of the run carries the same stubs: a message once
 * shortened stays shortened, and the request prefix a local server has cached changes only where
 * it must. Returns how many results it shortened, and whether the request fits now.
 */
export function shortenOldToolResults(
  request: Pick<ModelRequest, 'system' | 'tools'> & { messages: ChatMessage[] },
  budgetTokens: number,
): { shortened: number; fits: boolean } {
  const { messages } = request;
  let tokens = estimateRequestTokens(request);
  let shortened = 0;
  const goal = tokens > budgetTokens ? budgetTokens * SHORTEN_TO : budgetTokens;
  for (let index = 0; index < messages.length && tokens > goal; index++) {
    const message = messages[index]!;
    if (message.role !== 'tool' || isStub(message.content)) continue;
    const stub = stubFor(message, messages);
    if (stub.length >= message.content.length) continue;
    messages[index] = { ...message, content: stub };
    shortened++;
    tokens = estimateRequestTokens(request);
  }
  return { shortened, fits: tokens <= budgetTokens };
}

const STUB = /^\[output of .* shortened: \d+ lines?\]$/;

function isStub(content: string): boolean {
  return STUB.test(content);
}

function stubFor(message: Extract<ChatMessage, { role: 'tool' }>, messages: readonly ChatMessage[]): string {
  const call = messages
    .flatMap((candidate) => (candidate.role === 'assistant' ? (candidate.toolCalls ?? []) : []))
    .find((candidate) => candidate.id === message.toolCallId);
  const args = call?.args ?? {};
  const target = [args.path, args.pattern, args.command].find((value): value is string => typeof value === 'string' && value !== '');
  const lines = message.content === '' ? 0 : message.content.split('\n').length;
  return `[output of ${message.toolName}${target ? ` ${target}` : ''} shortened: ${lines} line${lines === 1 ? '' : 's'}]`;
}
