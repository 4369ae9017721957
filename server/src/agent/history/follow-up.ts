import { estimateRequestTokens } from '../../providers/token-estimate.js';
import type { ChatMessage } from '../../providers/types.js';
import type { EarlierRun, Store } from '../../store/store.js';
import { describeCalls, describeFate, describeResults, filesChanged } from './turn-summary.js';

/**
 * A follow-up ask remembers what the agent did, not only what it said: every earlier turn goes to
 * the model as its request and its final text, with the tools it used, their results in short and
 * the fate of its proposal written as plain text inside those two messages. Plain text on purpose:
 * it reads the same to every provider (native tool-call messages would have to be rebuilt per
 * wire), and it renders the same for the same history, so the prefix a server cached stays valid.
 *
 * When the turns do not fit the room the model's context leaves them, the oldest shrink first:
 * tool results go, then their requests and tool lists (down to their final text and the files they
 * changed), then the final text is cut, then whole turns are left out; the newest turns stay whole
 * as long as anything else can give way. A note in front says what was left out.
 */

export type EarlierTurn = EarlierRun;

export interface EarlierTurns {
  /** Oldest first. */
  turns: EarlierTurn[];
  /** Older turns of the session that were not even loaded (beyond MAX_HISTORY_TURNS). */
  olderTurns: number;
}

/** Earlier turns loaded for a follow-up; older ones stay in history only. */
export const MAX_HISTORY_TURNS = 50;

/**
 * Of the room the system prompt, tool schemas and the ask itself leave in the model's prompt
 * budget, the share earlier turns may take. The rest is the run's own: its tool results grow step
 * by step, and prompt-budget.ts shortens only those, never the history.
 */
export const HISTORY_SHARE = 0.5;

/**
 * Room for earlier turns when the model's context is not known (hosted models without
 * `contextWindow`): such contexts are large, but every step of a run pays for the whole history.
 */
export const UNKNOWN_CONTEXT_HISTORY_TOKENS = 24_000;

/** Turns kept whole while older ones can still shrink or be left out. */
const NEWEST_WHOLE_TURNS = 2;

/** Characters of a request, and of a final text, kept once a turn is cut to its gist. */
const GIST_REQUEST_CHARS = 200;
const GIST_ANSWER_CHARS = 600;

/**
 * How much of a turn the model sees, from whole to least: with result excerpts; with its tool list
 * only; its final text and the files it changed (the request cut short); that, with the final text
 * cut short too.
 */
export type TurnDetail = 'whole' | 'tools' | 'outcome' | 'gist';
const DETAILS: readonly TurnDetail[] = ['whole', 'tools', 'outcome', 'gist'];

export async function loadEarlierTurns(store: Pick<Store, 'earlierRuns'>, sessionId: string, limit = MAX_HISTORY_TURNS): Promise<EarlierTurns> {
  const { runs, olderRuns } = await store.earlierRuns(sessionId, limit);
  return { turns: runs, olderTurns: olderRuns };
}

/** One earlier turn as the user message that asked and the assistant message that answered. */
export function renderTurn(turn: EarlierTurn, detail: TurnDetail): [ChatMessage, ChatMessage] {
  const request = detail === 'outcome' || detail === 'gist' ? cut(turn.run.instruction, GIST_REQUEST_CHARS) : turn.run.instruction;
  const record =
    detail === 'whole' || detail === 'tools'
      ? `[earlier turn: ${[...describeCalls(turn.toolCalls), ...describeFate(turn)].join('; ') || 'no tools used'}]`
      : `[earlier turn, shortened: ${filesChanged(turn)}]`;
  const results = detail === 'whole' ? describeResults(turn.toolCalls) : '';
  const answer = detail === 'gist' ? cut(turn.answer, GIST_ANSWER_CHARS) : turn.answer;
  const assistant = [record + (results === '' ? '' : `\n${results}`), answer.trim()].filter((part) => part !== '').join('\n\n');
  return [
    { role: 'user', content: request },
    { role: 'assistant', content: assistant },
  ];
}

/** What the fitting did, for the note and for tests. */
export interface FittedHistory {
  messages: ChatMessage[];
  /** The detail each turn was sent at, oldest first; undefined for a turn left out. */
  details: Array<TurnDetail | undefined>;
  note?: string;
}

/**
 * The earlier turns as messages within `roomTokens` (by estimateTokens), shrinking the oldest
 * first as described at the top. Undefined room means no limit.
 */
export function fitEarlierTurns(history: EarlierTurns, roomTokens: number | undefined): FittedHistory {
  const { turns } = history;
  const details: Array<TurnDetail | undefined> = turns.map(() => 'whole');
  const cost = new Map<string, number>();
  const costOf = (index: number, detail: TurnDetail): number => {
    const key = `${index}:${detail}`;
    let tokens = cost.get(key);
    if (tokens === undefined) {
      tokens = renderTurn(turns[index]!, detail).reduce((sum, message) => sum + messageTokens(message), 0);
      cost.set(key, tokens);
    }
    return tokens;
  };
  let total = turns.reduce((sum, _turn, index) => sum + costOf(index, 'whole'), 0);
  // Room for the note itself (counts only), once anything will be left out or shortened.
  const fitsWhole = roomTokens === undefined || (total <= roomTokens && history.olderTurns === 0);
  const room = fitsWhole ? Infinity : Math.max(0, roomTokens - NOTE_TOKENS);
  let dropped = 0;
  // First everything but the newest turns gives way; if that is not enough, they do too.
  for (const keepWhole of [NEWEST_WHOLE_TURNS, 0]) {
    const shrinkable = Math.max(0, turns.length - keepWhole);
    for (const detail of DETAILS.slice(1)) {
      for (let index = dropped; index < shrinkable && total > room; index++) {
        const current = details[index]!;
        if (DETAILS.indexOf(current) >= DETAILS.indexOf(detail)) continue;
        total += costOf(index, detail) - costOf(index, current);
        details[index] = detail;
      }
    }
    while (total > room && dropped < shrinkable) {
      total -= costOf(dropped, details[dropped]!);
      details[dropped] = undefined;
      dropped++;
    }
    if (total <= room) break;
  }
  // Leaving turns out may have freed more room than they needed: give it back, newest first, so
  // detail falls off with age instead of every kept turn staying at the least.
  let ceiling = 0;
  for (let index = turns.length - 1; index >= dropped; index--) {
    const current = DETAILS.indexOf(details[index]!);
    for (let better = ceiling; better < current; better++) {
      const delta = costOf(index, DETAILS[better]!) - costOf(index, DETAILS[current]!);
      if (total + delta > room) continue;
      total += delta;
      details[index] = DETAILS[better]!;
      break;
    }
    ceiling = DETAILS.indexOf(details[index]!);
  }
  const messages = turns.flatMap((turn, index) => (details[index] === undefined ? [] : renderTurn(turn, details[index]!)));
  const note = noteOf(history, details);
  if (note !== undefined) {
    const first = messages[0];
    if (first?.role === 'user') messages[0] = { role: 'user', content: `${note}\n\n${first.content}` };
    else messages.unshift({ role: 'user', content: note });
  }
  return { messages, details, ...(note === undefined ? {} : { note }) };
}

/** More than the note ever takes: one sentence of counts (about 250 characters at most). */
const NOTE_TOKENS = 100;

function noteOf(history: EarlierTurns, details: Array<TurnDetail | undefined>): string | undefined {
  const leftOut = history.olderTurns + details.filter((detail) => detail === undefined).length;
  const count = (detail: TurnDetail) => details.filter((candidate) => candidate === detail).length;
  const parts = [
    leftOut > 0 ? `the oldest ${leftOut} of ${history.olderTurns + details.length} left out` : '',
    count('tools') > 0 ? `${count('tools')} without their tool results` : '',
    count('outcome') > 0 ? `${count('outcome')} cut to their final text and the files they changed` : '',
    count('gist') > 0 ? `${count('gist')} cut to the start of their final text and the files they changed` : '',
  ].filter((part) => part !== '');
  if (parts.length === 0) return undefined;
  return `[Earlier turns shortened to fit the model's context: ${parts.join('; ')}. The newest are whole.]`;
}

/** The shape of a run's first request that the history is fitted beside (LoopOptions, structurally). */
export interface RequestParts {
  system: string;
  tools: ReadonlyArray<{ name: string; description: string; parameters: Record<string, unknown> }>;
  messages: ChatMessage[];
  toolMode?: 'native' | 'auto' | 'text';
  /** The run's secret scrubber: the turns carry commands and arguments the model wrote, which it applies to as to everything sent. */
  scrub?: (text: string) => string;
}

/**
 * The run's options with the earlier turns put in front of its messages, fitted into the share of
 * `promptBudget` (prompt-budget.ts `promptBudgetOf`: the context less the answer) left after the
 * system prompt, the tool schemas (none in text mode) and the ask itself.
 */
export function withEarlierTurns<Options extends RequestParts>(history: EarlierTurns, promptBudget: number | undefined, options: Options): Options {
  if (history.turns.length === 0 && history.olderTurns === 0) return options;
  const tools = options.toolMode === 'text' ? [] : options.tools.map(({ name, description, parameters }) => ({ name, description, parameters }));
  const fixed = estimateRequestTokens({ system: options.system, tools, messages: options.messages });
  const room = promptBudget === undefined ? UNKNOWN_CONTEXT_HISTORY_TOKENS : Math.max(0, Math.floor((promptBudget - fixed) * HISTORY_SHARE));
  const scrub = options.scrub ?? ((text: string) => text);
  const earlier = fitEarlierTurns(history, room).messages.map((message) => ({ ...message, content: scrub(message.content) }) as ChatMessage);
  return { ...options, messages: [...earlier, ...options.messages] };
}

/** The earlier turns as one text, for a CLI agent's prompt (it keeps its own tools and context). */
export function earlierTurnsText(history: EarlierTurns): string {
  return fitEarlierTurns(history, UNKNOWN_CONTEXT_HISTORY_TOKENS)
    .messages.map((message) => `${message.role}: ${message.content}`)
    .join('\n\n');
}

/** As estimateRequestTokens counts a message: its text plus the template's markers. */
function messageTokens(message: ChatMessage): number {
  return estimateRequestTokens({ system: '', tools: [], messages: [message] }) - estimateRequestTokens({ system: '', tools: [], messages: [] });
}

function cut(text: string, chars: number): string {
  const trimmed = text.trim();
  if (trimmed.length <= chars) return trimmed;
  return `${trimmed.slice(0, chars).trimEnd()}… [${trimmed.length - chars} more characters left out]`;
}
