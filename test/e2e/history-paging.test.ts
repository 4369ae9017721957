import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { isResponseError, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';
import { Limits } from '../../server/src/protocol/limits.js';

async function errorOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const failure = await promise.then(() => undefined, (error: unknown) => error);
  if (!isResponseError(failure)) throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(failure)}`);
  return { code: failure.code, message: failure.message };
}

/**
 * `codebench/messages` and `codebench/proposals` over the real server: `limit` and `before` page
 * backwards from the newest, each page oldest first; a client that sends neither gets everything.
 */
describe('history paging (codebench/messages, codebench/proposals)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let sessionId: string;
  let otherSessionProposal: string;

  /** One ask that edits main.py and is discarded at the prompt: two messages and one proposal. */
  async function ask(instruction: string, session?: string): Promise<string> {
    const uri = workspace.uri('main.py');
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'main.py', old_string: 'print("héllo")', new_string: `print("${instruction}")` } }] },
      { text: `Printed ${instruction} instead.` },
    );
    const prompts = client.prompts.length;
    const ends = () => client.progress.filter((record) => record.value.kind === 'end').length;
    const endsBefore = ends();
    const started = await client.command(Commands.ask.command, { uri, instruction, provider: 'openai', ...(session ? { sessionId: session } : {}) });
    await client.waitFor(() => client.prompts.length > prompts || undefined, 10_000, `proposal prompt for ${instruction}`);
    await client.waitFor(() => ends() > endsBefore || undefined, 10_000, `end of the run for ${instruction}`);
    return started.sessionId;
  }

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'main.py': 'print("héllo")\n' });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'neovim', workspace, choose: () => 'Discard' });
    await client.initialize();
    await client.open(workspace.uri('main.py'), 'print("héllo")\n', 'python');
    sessionId = await ask('one');
    for (const instruction of ['two', 'three', 'four', 'five']) await ask(instruction, sessionId);
    const other = await ask('elsewhere');
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: other });
    otherSessionProposal = proposals[0].id;
  });

  afterAll(async () => {
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it('pages messages backwards by id; the pages together are exactly what a request without paging gets', async () => {
    const { messages: all } = await client.request(Requests.messages.method, { sessionId });
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(all.filter((message: any) => message.role === 'user').map((message: any) => message.content)).toEqual(['one', 'two', 'three', 'four', 'five']);
    const pages: any[][] = [];
    // Bounded, so a server that ignored `before` fails the test instead of looping.
    for (let before: number | undefined, round = 0; round < 20; round++) {
      const { messages } = await client.request(Requests.messages.method, { sessionId, limit: 3, ...(before === undefined ? {} : { before }) });
      pages.unshift(messages);
      if (messages.length < 3) break;
      before = messages[0].id;
    }
    expect(pages.slice(1).every((page) => page.length === 3)).toBe(true);
    for (const page of pages) expect(page.map((message: any) => message.id)).toEqual([...page.map((message: any) => message.id)].sort((a, b) => a - b));
    expect(pages.flat()).toEqual(all);
  });

  it('pages proposals backwards by proposal id, within the session', async () => {
    const { proposals: all } = await client.request(Requests.proposals.method, { sessionId });
    expect(all.map((proposal: any) => proposal.status)).toEqual(['discarded', 'discarded', 'discarded', 'discarded', 'discarded']);
    const { proposals: newest } = await client.request(Requests.proposals.method, { sessionId, limit: 2 });
    expect(newest).toEqual(all.slice(3));
    const { proposals: middle } = await client.request(Requests.proposals.method, { sessionId, limit: 2, before: newest[0].id });
    expect(middle).toEqual(all.slice(1, 3));
    const { proposals: first } = await client.request(Requests.proposals.method, { sessionId, limit: 2, before: middle[0].id });
    expect(first).toEqual(all.slice(0, 1));
    const { proposals: older } = await client.request(Requests.proposals.method, { sessionId, before: all[3].id });
    expect(older).toEqual(all.slice(0, 3));
  });

  it('answers a bad limit or before with InvalidParams naming the field', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      [Requests.messages.method, { sessionId, limit: 0 }, /params\.limit/],
      [Requests.messages.method, { sessionId, limit: Limits.messages.max + 1 }, /params\.limit/],
      [Requests.messages.method, { sessionId, limit: 2.5 }, /params\.limit/],
      [Requests.messages.method, { sessionId, before: 'newest' }, /params\.before/],
      [Requests.messages.method, { sessionId, before: 0 }, /params\.before/],
      [Requests.proposals.method, { sessionId, limit: 'all' }, /params\.limit/],
      [Requests.proposals.method, { sessionId, limit: Limits.proposals.max + 1 }, /params\.limit/],
      [Requests.proposals.method, { sessionId, before: 7 }, /params\.before/],
      [Requests.proposals.method, { sessionId, before: 'no-such-proposal' }, /params\.before: no proposal with id "no-such-proposal" in session/],
      [Requests.proposals.method, { sessionId, before: otherSessionProposal }, /params\.before: no proposal with id .* in session/],
    ];
    for (const [method, params, pattern] of cases) {
      const error = await errorOf(client.request(method, params));
      expect(error.code, JSON.stringify(params)).toBe(-32602);
      expect(error.message).toMatch(pattern);
    }
  });
});
