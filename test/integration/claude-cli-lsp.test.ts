import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';
import { TestClient, type Workspace } from '../e2e/harness.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { askAndWait, EXPECTED, expectUserTreeUntouched, FIRST_ASK, makeCliWorkspace, UNSAVED, type CliWorkspace } from './cli-workspace.js';
import { CLAUDE, HAVE_CLAUDE } from './claude-tool.js';
import { Requests } from '../../server/src/protocol/methods.js';

/**
 * The claude CLI end to end: the built `codebench lsp`, a Neovim-like client, a git workspace with
 * uncommitted and unsaved changes, and the real CLI talking to the fake Anthropic API.
 */

describe.skipIf(!HAVE_CLAUDE)('claude CLI through the language server', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let sessionId: string;
  let tree: CliWorkspace;
  let stopped = false;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    const provider = { kind: 'claude-cli', command: CLAUDE, baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', model: 'claude-test', timeoutSeconds: 60 };
    tree = makeCliWorkspace('claude', provider);
    workspace = tree.workspace;
    // HOME is the data dir (see TestClient.start): the CLI's sessions stay private to the test.
    client = TestClient.start({ profile: 'neovim', workspace, runEvents: true });
    await client.initialize();
  });

  afterAll(async () => {
    if (!stopped) await client?.stop();
    await fake?.close();
    if (workspace) rmSync(dirname(workspace.root), { recursive: true, force: true });
  });

  it('edits through the CLI in a shadow, and the accepted edit lands on the unsaved buffer', async () => {
    const uri = workspace.uri('src/greet.ts');
    await client.open(uri, UNSAVED);
    fake.enqueue(
      { text: 'Updating the greeting.', toolCalls: [{ id: 'toolu_e2e_edit', name: 'Edit', args: { file_path: 'src/greet.ts', old_string: '"hey "', new_string: '"hello there "' } }] },
      // Holds the "editing" progress long enough to be reported (reports are coalesced).
      { text: 'Changed the greeting.', headersDelayMs: 600 },
    );
    const first = await askAndWait(client, { uri, instruction: FIRST_ASK, provider: 'claude' });
    sessionId = first.sessionId;
    const messages = first.messages;
    expect(messages).toContain('claude: editing src/greet.ts');
    const activities = client.runEvents.flatMap((batch) => batch.events ?? []).filter((event: any) => event.type === 'tool-started');
    expect(activities).toEqual([expect.objectContaining({ name: 'Edit', activity: 'claude: editing src/greet.ts' })]);

    await client.waitFor(() => client.documents.get(uri)!.text === EXPECTED || undefined, 10_000, 'edit applied to the buffer');
    expect(client.documents.get(uri)!.text).toBe(EXPECTED);
    // The editor owns the files: nothing on disk changed, the uncommitted change included.
    expectUserTreeUntouched(tree);

    const { messages: transcript } = await client.request(Requests.messages.method, { sessionId });
    expect(transcript.map((message: any) => [message.role, message.content])).toEqual([
      ['user', expect.stringContaining(FIRST_ASK)],
      ['assistant', 'Changed the greeting.'],
    ]);
  });

  it('resumes the CLI session on a follow-up ask in the same codebench session', async () => {
    const uri = workspace.uri('src/greet.ts');
    fake.enqueue({ text: 'It says hello there now.' });
    const followUp = await askAndWait(client, { uri, instruction: 'What does it say now?', provider: 'claude', sessionId });
    expect(followUp.sessionId).toBe(sessionId);

    const body = JSON.stringify(fake.modelRequests.at(-1)!.body.messages);
    // A resumed CLI replays the earlier turns itself, tool use included; codebench did not inline them.
    expect(body).toContain(FIRST_ASK);
    expect(body).toContain('toolu_e2e_edit');
    expect(body).not.toContain('Earlier in this conversation');
    expect(body).toContain('What does it say now?');
    // Three scripted model calls and nothing else: no telemetry, title or token-count requests.
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual(Array(3).fill('POST /v1/messages'));
  });

  it('recorded the runs and the CLI\'s tool calls, and left no shadow behind', async () => {
    stopped = true;
    expect(await client.stop()).toBe(0);
    expectUserTreeUntouched(tree);
    const store = await Store.open(join(workspace.dataDir, 'codebench.db'));
    try {
      const runs = await store.listRuns(sessionId);
      expect(runs.map((run) => run.status)).toEqual(['completed', 'completed']);
      expect(runs[0]!.externalSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(runs[1]!.externalSessionId).toBe(runs[0]!.externalSessionId);
      const first = runs.find((run) => run.instruction.includes(FIRST_ASK)) ?? runs[0]!;
      const calls = await store.listToolCalls(first.id);
      expect(calls).toEqual([
        expect.objectContaining({ callId: 'toolu_e2e_edit', name: 'Edit', isError: false, args: expect.objectContaining({ file_path: 'src/greet.ts' }) }),
      ]);
      expect(calls[0]!.result).toContain('updated');
    } finally {
      await store.close();
    }
  });
});
