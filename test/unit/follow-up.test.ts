import { describe, expect, it } from 'vitest';
import {
  fitEarlierTurns,
  HISTORY_SHARE,
  renderTurn,
  withEarlierTurns,
  type EarlierTurn,
  type TurnDetail,
} from '../../server/src/agent/history/follow-up.js';
import { SecretScrubber } from '../../server/src/agent/workspace/secrets.js';
import { estimateRequestTokens } from '../../server/src/providers/token-estimate.js';
import type { ChatMessage } from '../../server/src/providers/types.js';
import type { ToolCallBrief } from '../../server/src/store/store.js';

function call(name: string, args: Record<string, unknown>, result: string, isError = false): ToolCallBrief {
  return {
    name,
    args,
    isError,
    resultHead: result.slice(0, 1500),
    resultTail: result.length > 1500 ? result.slice(-500) : '',
    resultLength: result.length,
    resultLines: result === '' ? 0 : result.split('\n').length,
  };
}

function turn(index: number, overrides: Partial<EarlierTurn> = {}): EarlierTurn {
  return {
    run: {
      id: `run-${index}`,
      sessionId: 'session',
      provider: 'fake',
      model: 'fake-model',
      instruction: `request ${index}`,
      status: 'completed',
      startedAt: '2025-01-01T00:00:00.000Z',
    },
    answer: `answer ${index}`,
    toolCalls: [],
    proposals: [],
    ...overrides,
  };
}

/** A turn with a long request, tool calls with long results, an edit and a long final text. */
function busyTurn(index: number): EarlierTurn {
  const matches = Array.from({ length: 40 }, (_, line) => `src/m${index}.ts:${line + 1}: const value${line} = compute(${line}); // a long enough line of code`).join('\n');
  const output = `The command exited with code 1 after 2.0 s (in .).\n${'FAIL some test with a long name and a stack trace line\n'.repeat(60)}`;
  return turn(index, {
    run: { ...turn(index).run, instruction: `request ${index}: ${'please change the parser so that it handles this case properly. '.repeat(12)}` },
    answer: `answer ${index}: ${'I changed the parser and explained why at length. '.repeat(20)}`,
    toolCalls: [
      call('read_file', { path: `src/m${index}.ts` }, 'x\n'.repeat(300)),
      call('grep', { pattern: 'compute' }, matches),
      call('run_command', { command: 'npm test' }, output, true),
      call('edit_file', { path: `src/m${index}.ts`, old_string: 'a\nb', new_string: 'a\nc\nd' }, `Edited src/m${index}.ts: replaced lines 1-2`),
    ],
    proposals: [{ status: 'applied', files: [{ uri: `file:///p/src/m${index}.ts`, path: `src/m${index}.ts`, baseVersion: null, created: false }] }],
  });
}

const tokensOf = (messages: ChatMessage[]) => estimateRequestTokens({ system: '', tools: [], messages }) - estimateRequestTokens({ system: '', tools: [], messages: [] });
const ORDER: TurnDetail[] = ['whole', 'tools', 'outcome', 'gist'];

describe('renderTurn', () => {
  it('writes what the turn read, searched, edited and ran, and the fate of its proposal, before its final text', () => {
    const [user, assistant] = renderTurn(busyTurn(1), 'whole');
    expect(user).toEqual({ role: 'user', content: expect.stringMatching(/^request 1: please change/) });
    expect(assistant.role).toBe('assistant');
    expect(assistant.content).toMatch(
      /^\[earlier turn: read src\/m1\.ts; searched \/compute\/ → 40 matches; ran `npm test` → exit 1; edited src\/m1\.ts \(\+2 −1\); proposal \(src\/m1\.ts\) applied by the user\]\nresults:\n/,
    );
    // The first matches of the search and the last lines of the command.
    expect(assistant.content).toContain('    src/m1.ts:1: const value0 = compute(0);');
    expect(assistant.content).not.toContain('src/m1.ts:6:');
    expect(assistant.content).toContain('- ran `npm test` → exit 1:\n    FAIL some test');
    expect(assistant.content).toMatch(/\n\nanswer 1: I changed the parser/);
  });

  it('says a proposal was discarded, conflicted or never made', () => {
    const edit = call('edit_file', { path: 'src/a.ts', old_string: 'x', new_string: 'y' }, 'Edited src/a.ts');
    const file = { uri: 'file:///p/src/a.ts', path: 'src/a.ts', baseVersion: 3, created: false };
    const render = (overrides: Partial<EarlierTurn>) => renderTurn(turn(1, { toolCalls: [edit], ...overrides }), 'whole')[1].content;
    expect(render({ proposals: [{ status: 'discarded', files: [file] }] })).toContain('edited src/a.ts (+1 −1); proposal (src/a.ts) discarded by the user]');
    expect(render({ proposals: [{ status: 'conflict', files: [file], detail: 'the editor refused the edit' }] })).toContain(
      "proposal (src/a.ts) not applied: it conflicted with the user's own edits (the editor refused the edit)]",
    );
    expect(render({ run: { ...turn(1).run, status: 'failed', error: 'the model server went away' } })).toContain(
      'the run failed: the model server went away; its edits to src/a.ts were never proposed]',
    );
  });

  it('keeps only the final text and the files changed once shortened to the outcome', () => {
    const [user, assistant] = renderTurn(busyTurn(2), 'outcome');
    expect(user.content.length).toBeLessThan(260);
    expect(assistant.content).toMatch(/^\[earlier turn, shortened: changed src\/m2\.ts → proposal applied by the user\]\n\nanswer 2: /);
    expect(assistant.content).not.toContain('npm test');
    expect(assistant.content).toContain(busyTurn(2).answer.trim());
    expect(renderTurn(busyTurn(2), 'gist')[1].content.length).toBeLessThan(busyTurn(2).answer.length);
  });
});

describe('fitEarlierTurns', () => {
  const turns = Array.from({ length: 10 }, (_, index) => busyTurn(index + 1));

  it('sends every turn whole, without a note, when they fit', () => {
    const fitted = fitEarlierTurns({ turns, olderTurns: 0 }, undefined);
    expect(fitted.details).toEqual(turns.map(() => 'whole'));
    expect(fitted.note).toBeUndefined();
    expect(fitted.messages).toHaveLength(20);
  });

  it('shrinks the oldest turns first, tool results before bodies, and keeps the newest whole', () => {
    const whole = tokensOf(fitEarlierTurns({ turns, olderTurns: 0 }, undefined).messages);
    let sawEachStep = new Set<string>();
    for (const share of [0.9, 0.7, 0.5, 0.35, 0.25]) {
      const room = Math.floor(whole * share);
      const fitted = fitEarlierTurns({ turns, olderTurns: 0 }, room);
      expect(tokensOf(fitted.messages)).toBeLessThanOrEqual(room);
      // Never a newer turn shrunk further than an older one.
      const ranks = fitted.details.map((detail) => (detail === undefined ? ORDER.length : ORDER.indexOf(detail)));
      expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
      expect(fitted.details.slice(-2)).toEqual(['whole', 'whole']);
      expect(fitted.note).toMatch(/^\[Earlier turns shortened to fit the model's context: .*\. The newest are whole\.\]$/);
      expect(fitted.messages[0]!.content.startsWith(fitted.note!)).toBe(true);
      sawEachStep = new Set([...sawEachStep, ...fitted.details.map(String)]);
    }
    // The first squeeze only drops tool results.
    expect(fitEarlierTurns({ turns, olderTurns: 0 }, Math.floor(whole * 0.9)).details.filter((detail) => detail !== 'whole' && detail !== 'tools')).toEqual([]);
    expect(sawEachStep).toEqual(new Set(['whole', 'tools', 'outcome', 'gist', 'undefined']));
  });

  it('fits a 200-turn session into a small room: the oldest left out and counted, the newest whole', () => {
    const long = Array.from({ length: 50 }, (_, index) => busyTurn(index + 151));
    const fitted = fitEarlierTurns({ turns: long, olderTurns: 150 }, 5000);
    expect(tokensOf(fitted.messages)).toBeLessThanOrEqual(5000);
    expect(fitted.details.at(-1)).toBe('whole');
    const leftOut = 150 + fitted.details.filter((detail) => detail === undefined).length;
    expect(fitted.note).toContain(`the oldest ${leftOut} of 200 left out`);
    expect(fitted.messages.at(-1)!.content).toBe(renderTurn(long.at(-1)!, 'whole')[1].content);
  });

  it('stays inside a room smaller than the newest turn, down to no turns at all', () => {
    for (const room of [800, 300, 0]) {
      const fitted = fitEarlierTurns({ turns, olderTurns: 0 }, room);
      expect(tokensOf(fitted.messages)).toBeLessThanOrEqual(Math.max(room, 100));
    }
  });
});

describe('withEarlierTurns', () => {
  it('puts the turns before the ask, within their share of what the system prompt, tools and ask leave', () => {
    const turns = Array.from({ length: 30 }, (_, index) => busyTurn(index + 1));
    const ask: ChatMessage = { role: 'user', content: 'Request: and now the lexer' };
    const tools = [{ name: 'read_file', description: 'Read a file. '.repeat(40), parameters: { type: 'object' } }];
    const options = { system: 'You are codebench. '.repeat(50), tools, messages: [ask], toolMode: 'native' as const, maxSteps: 3 };
    const budget = 12_288;
    const sent = withEarlierTurns({ turns, olderTurns: 0 }, budget, options);
    expect(sent.maxSteps).toBe(3);
    expect(sent.messages.at(-1)).toBe(ask);
    const fixed = estimateRequestTokens({ system: options.system, tools, messages: [ask] });
    expect(tokensOf(sent.messages.slice(0, -1))).toBeLessThanOrEqual((budget - fixed) * HISTORY_SHARE);
    expect(estimateRequestTokens({ system: options.system, tools, messages: sent.messages })).toBeLessThanOrEqual(budget);
    // No earlier turns: the options unchanged.
    expect(withEarlierTurns({ turns: [], olderTurns: 0 }, budget, options)).toBe(options);
  });

  it("scrubs the turns with the run's scrubber: a command the model wrote can hold a key", () => {
    const token = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    const earlier = turn(1, { toolCalls: [call('run_command', { command: `curl -H "Authorization: token ${token}" api.github.com` }, 'The command exited with code 0 after 0.1 s (in .).\n{}')] });
    const scrubber = new SecretScrubber();
    const sent = withEarlierTurns({ turns: [earlier], olderTurns: 0 }, undefined, { system: '', tools: [], messages: [] as ChatMessage[], scrub: (text: string) => scrubber.scrub(text) });
    expect(JSON.stringify(sent.messages)).not.toContain(token);
    expect(sent.messages[1]!.content).toContain('[redacted:github token]');
  });
});
