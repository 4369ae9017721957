import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { eventually, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

const ORIGINAL = 'let count = 1;\nconsole.log(count);\n';
const EDITED = 'let count = 2;\nconsole.log(count);\n';

describe('review modes', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient | undefined;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'index.js': ORIGINAL });
    writeConfig(workspace, fake);
  });
  afterEach(async () => {
    if (client) expect(await client.stop()).toBe(0);
    client = undefined;
  });
  afterAll(async () => {
    await fake.close();
  });

  function enqueueEdit(): void {
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'index.js', old_string: 'count = 1', new_string: 'count = 2' } }] },
      { text: 'Bumped the count.' },
    );
  }

  it('Preview opens the unified diff, then Apply lands the edit', async () => {
    const answers = ['Preview', 'Apply'];
    client = TestClient.start({ profile: 'neovim', workspace, choose: () => answers.shift() ?? null });
    await client.initialize();
    const uri = workspace.uri('index.js');
    await client.open(uri, ORIGINAL, 'javascript');
    enqueueEdit();
    await client.command(Commands.ask.command, { uri, instruction: 'bump the count' });
    await client.waitFor(() => client!.documents.get(uri)!.text === EDITED || undefined, 10_000, 'applied after preview');
    expect(client.prompts.map((prompt) => prompt.actions)).toEqual([['Apply', 'Preview', 'Discard'], ['Apply', 'Discard']]);
    expect(client.shownDocuments).toHaveLength(1);
    const diff = readFileSync(fileURLToPath(client.shownDocuments[0]!), 'utf8');
    expect(diff).toContain('-let count = 1;');
    expect(diff).toContain('+let count = 2;');
  });

  it('rebases and retries once when the editor answers applied: false', async () => {
    client = TestClient.start({ profile: 'neovim', workspace, refuseApplies: 1 });
    await client.initialize();
    const uri = workspace.uri('index.js');
    await client.open(uri, ORIGINAL, 'javascript');
    enqueueEdit();
    const { sessionId } = await client.command(Commands.ask.command, { uri, instruction: 'bump again' });
    await client.waitFor(() => client!.documents.get(uri)!.text === EDITED || undefined, 10_000, 'applied on retry');
    expect(client.refusedEdits).toHaveLength(1);
    expect(client.appliedEdits).toHaveLength(1);
    await eventually(async () => {
      const { proposals } = await client!.request(Requests.proposals.method, { sessionId });
      expect(proposals[0].status).toBe('applied');
    });
  });

  it('reports a conflict after two refusals and changes nothing', async () => {
    client = TestClient.start({ profile: 'neovim', workspace, refuseApplies: 2 });
    await client.initialize();
    const uri = workspace.uri('index.js');
    await client.open(uri, ORIGINAL, 'javascript');
    enqueueEdit();
    const { sessionId } = await client.command(Commands.ask.command, { uri, instruction: 'bump once more' });
    const warning = await client.waitFor(() => client!.messages.find((message) => message.type === 2), 10_000, 'warning');
    expect(warning.message).toContain('the editor refused the edit (document has changed)');
    expect(client.documents.get(uri)!.text).toBe(ORIGINAL);
    const { proposals } = await client.request(Requests.proposals.method, { sessionId });
    expect(proposals[0]).toMatchObject({ status: 'conflict', detail: expect.stringContaining('refused') });
  });

  it('"review": "auto" applies at once with the exact version Helix demands', async () => {
    client = TestClient.start({ profile: 'helix', workspace, initializationOptions: { review: 'auto' } });
    await client.initialize();
    const uri = workspace.uri('index.js');
    await client.open(uri, ORIGINAL, 'javascript');
    await client.type(uri, { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, newText: '// ✓\n' });
    enqueueEdit();
    await client.command(Commands.ask.command, { uri, instruction: 'bump automatically' });
    await client.waitFor(() => client!.documents.get(uri)!.text === `${EDITED}// ✓\n` || undefined, 10_000, 'auto-applied');
    expect(client.appliedEdits[0].documentChanges[0].textDocument.version).toBe(2);
    expect(client.prompts).toEqual([]);
  });
});
