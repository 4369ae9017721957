import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';
import { makeWorkspace, TestClient, type Workspace } from '../e2e/harness.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { CODEX, CODEX_MODEL, HAVE_CODEX } from './codex-tool.js';

/**
 * The codex CLI end to end: the built `codebench lsp`, a Neovim-like client, a git workspace with
 * uncommitted and unsaved changes, and the real CLI talking to the fake Responses API.
 */

const ORIGINAL = 'export function greet(name: string): string {\n  return "hi " + name;\n}\n';
/** Only in the editor buffer: the CLI must see it, so its patch only applies to this text. */
const UNSAVED = `// unsaved: wave 👋 first\n${ORIGINAL.replace('"hi "', '"hey "')}`;
const EXPECTED = UNSAVED.replace('"hey "', '"hello there "');
const PATCH = [
  '*** Begin Patch',
  '*** Update File: src/greet.ts',
  '@@',
  ' export function greet(name: string): string {',
  '-  return "hey " + name;',
  '+  return "hello there " + name;',
  ' }',
  '*** End Patch',
  '',
].join('\n');
const FIRST_ASK = 'Greet with hello there';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (directory: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (name === '.git') continue;
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(root, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  return files;
}

describe.skipIf(!HAVE_CODEX)('codex CLI through the language server', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let sessionId: string;
  let diskBefore: Record<string, string>;
  let statusBefore: string;
  let stopped = false;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/greet.ts': ORIGINAL, 'README.md': '# demo\n' });
    git(workspace.root, 'init', '--quiet');
    git(workspace.root, 'add', '.');
    git(workspace.root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'initial');
    writeFileSync(join(workspace.root, 'README.md'), '# demo\n\nuncommitted notes\n');
    const provider = { kind: 'codex-cli', command: CODEX, baseURL: `${fake.url}/v1`, apiKeyEnv: 'TEST_OPENAI_KEY', model: CODEX_MODEL, timeoutSeconds: 60 };
    writeFileSync(workspace.configFile, JSON.stringify({ defaultProvider: 'codex', providers: { codex: provider } }));
    diskBefore = snapshot(workspace.root);
    statusBefore = git(workspace.root, 'status', '--porcelain');
    // HOME is the data dir (see TestClient.start); CODEX_HOME keeps the CLI's sessions private too.
    const codexHome = join(dirname(workspace.root), 'codex-home');
    mkdirSync(codexHome);
    client = TestClient.start({ profile: 'neovim', workspace, runEvents: true, env: { CODEX_HOME: codexHome } });
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
      { text: 'Updating the greeting.', toolCalls: [{ id: 'call_e2e_patch', name: 'apply_patch', args: PATCH }] },
      // Holds the "editing" progress long enough to be reported (reports are coalesced).
      { text: 'Changed the greeting.', headersDelayMs: 600 },
    );
    const started = await client.command('codebench.ask', { uri, instruction: FIRST_ASK, provider: 'codex' });
    sessionId = started.sessionId;
    const begin = await client.waitFor(() => client.progress.find((record) => record.value.kind === 'begin'), 10_000, 'progress begin');
    await client.waitFor(() => client.progressEnd(begin.token), 45_000, 'progress end');

    const messages = client.progress.filter((record) => record.token === begin.token).map((record) => record.value.message ?? '');
    expect(messages).toContain('codex: editing src/greet.ts');
    const activities = client.runEvents.flatMap((batch) => batch.events ?? []).filter((event: any) => event.type === 'tool-started');
    expect(activities).toEqual([expect.objectContaining({ name: 'apply_patch', activity: 'codex: editing src/greet.ts' })]);

    await client.waitFor(() => client.documents.get(uri)!.text === EXPECTED || undefined, 10_000, 'edit applied to the buffer');
    expect(client.documents.get(uri)!.text).toBe(EXPECTED);
    // The editor owns the files: nothing on disk changed, the uncommitted change included.
    expect(snapshot(workspace.root)).toEqual(diskBefore);
    expect(git(workspace.root, 'status', '--porcelain')).toBe(statusBefore);
    expect(git(workspace.root, 'worktree', 'list').trim().split('\n')).toHaveLength(1);

    const { messages: transcript } = await client.request('codebench/messages', { sessionId });
    expect(transcript.map((message: any) => [message.role, message.content])).toEqual([
      ['user', expect.stringContaining(FIRST_ASK)],
      ['assistant', 'Updating the greeting.\n\nChanged the greeting.'],
    ]);
  });

  it('resumes the CLI thread on a follow-up ask in the same codebench session', async () => {
    const uri = workspace.uri('src/greet.ts');
    fake.enqueue({ text: 'It says hello there now.' });
    const progressBefore = client.progress.length;
    const followUp = await client.command('codebench.ask', { uri, instruction: 'What does it say now?', provider: 'codex', sessionId });
    expect(followUp.sessionId).toBe(sessionId);
    const begin = await client.waitFor(() => client.progress.slice(progressBefore).find((record) => record.value.kind === 'begin'), 10_000, 'progress begin');
    await client.waitFor(() => client.progressEnd(begin.token), 45_000, 'progress end');

    const input = JSON.stringify(fake.modelRequests.at(-1)!.body.input);
    // A resumed CLI replays the earlier turns itself, the patch call included; codebench did not inline them.
    expect(input).toContain(FIRST_ASK);
    expect(input).toContain('call_e2e_patch');
    expect(input).not.toContain('Earlier in this conversation');
    expect(input).toContain('What does it say now?');
    // Three scripted model calls and nothing else: no telemetry, update checks or model listing.
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual(Array(3).fill('POST /v1/responses'));
  });

  it('recorded the runs and the CLI\'s tool calls, and left no shadow behind', async () => {
    stopped = true;
    expect(await client.stop()).toBe(0);
    expect(git(workspace.root, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
    expect(snapshot(workspace.root)).toEqual(diskBefore);
    const store = await Store.open(join(workspace.dataDir, 'codebench.db'));
    try {
      const runs = await store.listRuns(sessionId);
      expect(runs.map((run) => run.status)).toEqual(['completed', 'completed']);
      expect(runs[0]!.externalSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(runs[1]!.externalSessionId).toBe(runs[0]!.externalSessionId);
      const first = runs.find((run) => run.instruction.includes(FIRST_ASK)) ?? runs[0]!;
      const calls = await store.listToolCalls(first.id);
      expect(calls).toEqual([
        expect.objectContaining({ name: 'apply_patch', isError: false, args: { changes: [{ path: 'src/greet.ts', kind: 'update' }] }, result: 'M src/greet.ts' }),
      ]);
    } finally {
      await store.close();
    }
  });
});
