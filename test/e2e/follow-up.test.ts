import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { eventually, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';
import { estimateRequestTokens } from '../../server/src/providers/token-estimate.js';
import { Store } from '../../server/src/store/store.js';

/**
 * A follow-up in the same session remembers what the agent did: the model is sent the earlier
 * turns with their tool calls in short and the fate of their proposals, and a 200-turn session
 * still fits a 16k context. Through the built server, asserting on what the fake model received.
 */

const SOURCE = 'export const answer = 1;\n';

/** The messages the model was last sent, system prompt first (OpenAI wire). */
function lastMessages(fake: FakeModelServer): Array<{ role: string; content: string }> {
  return fake.modelRequests.at(-1)!.body.messages.map((message: any) => ({ role: message.role, content: message.content ?? '' }));
}

describe('follow-ups that remember', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let uri: string;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/a.ts': SOURCE });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
    uri = workspace.uri('src/a.ts');
    await client.open(uri, SOURCE);
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  async function ask(instruction: string, sessionId?: string): Promise<any> {
    const finished = await client.request<any>(Requests.ask.method, { uri, instruction, provider: 'openai', ...(sessionId ? { sessionId } : {}) });
    expect(finished.status).toBe('completed');
    return finished;
  }

  async function fateOf(sessionId: string, proposalId: string): Promise<string> {
    const { proposals } = await client.request<any>(Requests.proposals.method, { sessionId });
    return proposals.find((proposal: any) => proposal.id === proposalId).status;
  }

  it('sends the earlier edit_file calls and whether each proposal was applied or discarded', async () => {
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'src/a.ts', old_string: 'answer = 1', new_string: 'answer = 2' } }] }, { text: 'Set the answer to 2.' });
    const first = await ask('make the answer 2');
    expect(await client.command(Commands.applyProposal.command, { proposalId: first.proposalId })).toEqual({ status: 'applied' });
    await eventually(async () => expect(await fateOf(first.sessionId, first.proposalId)).toBe('applied'));

    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'src/a.ts', old_string: 'answer = 2', new_string: 'answer = 3' } }] }, { text: 'Set the answer to 3.' });
    const second = await ask('make the answer 3', first.sessionId);
    expect(await client.command(Commands.discardProposal.command, { proposalId: second.proposalId })).toEqual({ status: 'discarded' });

    fake.enqueue({ text: 'It is 2: you kept the first change and discarded the second.' });
    await ask('what is the answer now?', first.sessionId);
    const messages = lastMessages(fake);
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[1]!.content).toBe('make the answer 2');
    expect(messages[2]!.content).toBe('[earlier turn: edited src/a.ts (+1 −1); proposal (src/a.ts) applied by the user]\n\nSet the answer to 2.');
    expect(messages[3]!.content).toBe('make the answer 3');
    expect(messages[4]!.content).toBe('[earlier turn: edited src/a.ts (+1 −1); proposal (src/a.ts) discarded by the user]\n\nSet the answer to 3.');
    expect(messages[5]!.content).toContain('what is the answer now?');
  });

  it('lists what an earlier turn read and searched, with the matches it found', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'read_file', args: { path: 'src/a.ts' } }] },
      { toolCalls: [{ name: 'grep', args: { pattern: 'answer', path: 'src' } }] },
      { text: 'answer is defined in src/a.ts.' },
    );
    const first = await ask('where is answer defined?');
    fake.enqueue({ text: 'Only there.' });
    await ask('anywhere else?', first.sessionId);
    const earlier = lastMessages(fake)[2]!.content;
    expect(earlier).toMatch(/^\[earlier turn: read src\/a\.ts; searched \/answer\/ in src → 1 match\]\nresults:\n/);
    expect(earlier).toMatch(/- searched \/answer\/ in src → 1 match:\n {4}src\/a\.ts:1: export const answer = \d;\n\nanswer is defined in src\/a\.ts\.$/);
  });
});

describe('a 200-turn session', { timeout: 120_000 }, () => {
  const CONTEXT_WINDOW = 16_384;
  const TURNS = 200;
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let sessionId: string;

  const instructionOf = (turn: number) => `turn ${turn}: ${'please rework the parser so that it handles nested brackets and reports errors well. '.repeat(15)}`;
  const answerOf = (turn: number) => `answer ${turn}: ${'I reworked the parser, added tests for nested brackets and explained the error messages. '.repeat(20)}`;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/a.ts': SOURCE });
    writeConfig(workspace, fake);
    const config = JSON.parse(readFileSync(workspace.configFile, 'utf8'));
    config.providers.windowed = { kind: 'openai-compatible', model: 'local-test', baseURL: `${fake.url}/v1`, timeoutSeconds: 10, contextWindow: CONTEXT_WINDOW };
    writeFileSync(workspace.configFile, JSON.stringify(config, null, 2));
    sessionId = await seed(workspace);
    client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  /** 200 turns straight through the store's API: long requests and answers, a long read, a search, an applied edit. */
  async function seed(target: Workspace): Promise<string> {
    const store = await Store.open(join(target.dataDir, 'codebench.db'));
    try {
      const session = await store.createSession({ workspaceUri: pathToFileURL(target.root).href, title: 'long session', provider: 'windowed' });
      for (let turn = 1; turn <= TURNS; turn++) {
        const run = await store.createRun({ sessionId: session.id, provider: 'windowed', model: 'local-test', instruction: instructionOf(turn) });
        await store.addMessage({ sessionId: session.id, runId: run.id, role: 'user', content: instructionOf(turn) });
        const at = new Date().toISOString();
        const calls = [
          { callId: 'c1', name: 'read_file', args: { path: `src/part${turn}.ts` }, result: `${'    1\tconst x = 1; // a line of a long file\n'.repeat(200)}`, isError: false },
          { callId: 'c2', name: 'grep', args: { pattern: `part${turn}` }, result: `src/part${turn}.ts:1: export const part${turn} = 1;\nsrc/index.ts:${turn}: import { part${turn} } from './part${turn}';`, isError: false },
          { callId: 'c3', name: 'edit_file', args: { path: `src/part${turn}.ts`, old_string: 'const x = 1;', new_string: 'const x = 2;' }, result: `Edited src/part${turn}.ts: replaced line 1`, isError: false },
        ];
        for (const call of calls) await store.recordToolCall({ runId: run.id, ...call, startedAt: at, finishedAt: at });
        await store.addMessage({ sessionId: session.id, runId: run.id, role: 'assistant', content: answerOf(turn) });
        await store.finishRun(run.id, { status: 'completed' });
        const proposal = await store.createProposal({
          runId: run.id,
          sessionId: session.id,
          summary: `src/part${turn}.ts`,
          files: [{ uri: pathToFileURL(join(target.root, `src/part${turn}.ts`)).href, path: `src/part${turn}.ts`, baseVersion: null, created: false }],
          diff: '',
        });
        await store.setProposalStatus(proposal.id, 'applied');
      }
      return session.id;
    } finally {
      await store.close();
    }
  }

  it(`sends a request within a ${CONTEXT_WINDOW}-token contextWindow, the newest turn whole and a note of what was left out`, async () => {
    fake.enqueue({ text: 'Done.' });
    const finished = await client.request<any>(Requests.ask.method, { uri: workspace.uri('src/a.ts'), instruction: 'and now the lexer', provider: 'windowed', sessionId });
    expect(finished.status).toBe('completed');
    const body = fake.modelRequests.at(-1)!.body;
    const [system, ...messages] = lastMessages(fake);
    const estimated = estimateRequestTokens({ system: system!.content, messages: messages as any, tools: body.tools ?? [] });
    const counted = countTokens(JSON.stringify(body.messages) + JSON.stringify(body.tools ?? []));
    expect(estimated).toBeLessThanOrEqual(CONTEXT_WINDOW);
    expect(counted).toBeLessThanOrEqual(CONTEXT_WINDOW);
    // Most of the room went to earlier turns: the budget was used, not just the newest turn.
    expect(estimated).toBeGreaterThan(CONTEXT_WINDOW / 3);

    // The note of what was left out, in front of the oldest turn that is sent.
    expect(messages[0]!.content).toMatch(/^\[Earlier turns shortened to fit the model's context: the oldest (\d+) of 200 left out; .*\. The newest are whole\.\]\n\nturn \d+: /);
    // The newest turn whole: its request, tool calls with their results, proposal fate and final text.
    expect(messages.at(-3)).toEqual({ role: 'user', content: instructionOf(TURNS) });
    expect(messages.at(-2)!.content).toBe(
      [
        `[earlier turn: read src/part${TURNS}.ts; searched /part${TURNS}/ → 2 matches; edited src/part${TURNS}.ts (+1 −1); proposal (src/part${TURNS}.ts) applied by the user]`,
        'results:',
        `- searched /part${TURNS}/ → 2 matches:`,
        `    src/part${TURNS}.ts:1: export const part${TURNS} = 1;`,
        `    src/index.ts:${TURNS}: import { part${TURNS} } from './part${TURNS}';`,
        '',
        answerOf(TURNS).trim(),
      ].join('\n'),
    );
    expect(messages.at(-1)!.content).toContain('and now the lexer');
    // Older turns that are sent are shortened down to their final text and the files they changed.
    expect(messages.some((message) => message.content.startsWith('[earlier turn, shortened: changed src/part'))).toBe(true);
  });
});
