import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from 'vscode-jsonrpc/node';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { isResponseError, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Requests } from '../../server/src/protocol/methods.js';
import { Store } from '../../server/src/store/store.js';

async function errorOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const failure = await promise.then(() => undefined, (error: unknown) => error);
  if (!isResponseError(failure)) throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(failure)}`);
  return { code: failure.code, message: failure.message };
}

const ALICE_SESSION = '11111111-1111-4111-8111-111111111111';
const BOB_SESSION = '22222222-2222-4222-8222-222222222222';
const WEB_SESSION = '33333333-3333-4333-8333-333333333333';

const teamSession = (id: string, author: string, workspace: string, title: string, updatedAt: string, messageCount: number) => ({
  id, workspace, author, title, provider: 'anthropic', messageCount, createdAt: '2026-11-20T09:00:00.000Z', updatedAt,
});
const teamMessage = (id: string, sessionId: string, author: string, role: string, content: string, createdAt: string) => ({
  id, sessionId, runId: '44444444-4444-4444-8444-444444444444', workspace: 'github.com/acme/api', author, role, content, createdAt,
});

/**
 * Teammates' sessions over the real server: records pulled by team sync (planted here in the data
 * directory's database, as a pull would leave them) are listed with `team: true` and readable with
 * `codebench/messages`, and never mixed into the user's own list.
 */
describe('team sessions (codebench/sessions team: true, codebench/messages)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let workspaceUri: string;
  let client: TestClient;
  let ownSessionId: string;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'main.py': 'print("hello")\n' });
    // The server's background sync re-derives the workspace's identity from git: it must agree
    // with what is planted (an unreachable server: no round ever succeeds or changes anything).
    execFileSync('git', ['init', '-q', workspace.root]);
    execFileSync('git', ['-C', workspace.root, 'remote', 'add', 'origin', 'git@github.com:acme/api.git']);
    writeConfig(workspace, fake, { sync: { url: 'postgres://alice@127.0.0.1:1/codebench?sslmode=disable', passwordEnv: 'CODEBENCH_SYNC_PASSWORD', share: ['github.com/acme/*'] } });
    workspaceUri = pathToFileURL(workspace.root).href;

    const store = await Store.open(join(workspace.dataDir, 'codebench.db'));
    const own = await store.createSession({ workspaceUri, title: 'my own work', provider: 'ollama' });
    ownSessionId = own.id;
    await store.addMessage({ sessionId: own.id, role: 'user', content: 'my own question' });
    store.sync.shareWorkspace(workspaceUri, 'github.com/acme/api');
    store.sync.saveTeamRecords(
      {
        sessions: [
          teamSession(ALICE_SESSION, 'alice', 'github.com/acme/api', 'fix the login redirect', '2026-11-20T09:04:10.000Z', 3),
          teamSession(BOB_SESSION, 'bob', 'github.com/acme/api', 'nothing said yet', '2026-11-20T08:00:00.000Z', 0),
          teamSession(WEB_SESSION, 'carol', 'github.com/acme/web', 'the web app', '2026-11-21T10:00:00.000Z', 0),
        ],
        messages: [
          teamMessage('aaaaaaaa-0000-4000-8000-000000000001', ALICE_SESSION, 'alice', 'user', 'fix the login redirect', '2026-11-20T09:00:00.000Z'),
          teamMessage('aaaaaaaa-0000-4000-8000-000000000002', ALICE_SESSION, 'alice', 'assistant', 'Looked at auth.ts.', '2026-11-20T09:02:00.000Z'),
          teamMessage('aaaaaaaa-0000-4000-8000-000000000003', ALICE_SESSION, 'alice', 'assistant', 'The redirect now\n\n  keeps the query string.', '2026-11-20T09:04:10.000Z'),
        ],
      },
      {},
    );
    await store.close();

    client = TestClient.start({ profile: 'neovim', workspace, env: { CODEBENCH_SYNC_PASSWORD: 'not-used' } });
    await client.initialize();
  });

  afterAll(async () => {
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it("lists the workspace's teammates' sessions with their author and team identity, most recent first", async () => {
    const { sessions } = await client.request(Requests.sessions.method, { workspaceUri, team: true });
    expect(sessions).toEqual([
      {
        id: ALICE_SESSION, title: 'fix the login redirect', workspaceUri, provider: 'anthropic',
        createdAt: '2026-11-20T09:00:00.000Z', updatedAt: '2026-11-20T09:04:10.000Z', messageCount: 3,
        lastMessagePreview: 'The redirect now keeps the query string.', author: 'alice', teamWorkspace: 'github.com/acme/api',
      },
      {
        id: BOB_SESSION, title: 'nothing said yet', workspaceUri, provider: 'anthropic',
        createdAt: '2026-11-20T09:00:00.000Z', updatedAt: '2026-11-20T08:00:00.000Z', messageCount: 0,
        lastMessagePreview: null, author: 'bob', teamWorkspace: 'github.com/acme/api',
      },
    ]);
  });

  it('lists every pulled team session without a workspace, and none for a workspace that is not shared', async () => {
    const { sessions } = await client.request(Requests.sessions.method, { team: true });
    expect(sessions.map((session: any) => [session.author, session.teamWorkspace, session.workspaceUri])).toEqual([
      ['carol', 'github.com/acme/web', ''],
      ['alice', 'github.com/acme/api', ''],
      ['bob', 'github.com/acme/api', ''],
    ]);
    const limited = await client.request(Requests.sessions.method, { team: true, limit: 1 });
    expect(limited.sessions.map((session: any) => session.id)).toEqual([WEB_SESSION]);
    const elsewhere = await client.request(Requests.sessions.method, { workspaceUri: 'file:///somewhere/else', team: true });
    expect(elsewhere.sessions).toEqual([]);
  });

  it("keeps the user's own list free of teammates' sessions, and own sessions carry no author", async () => {
    for (const params of [{ workspaceUri }, {}, { workspaceUri, team: false }]) {
      const { sessions } = await client.request(Requests.sessions.method, params);
      expect(sessions.map((session: any) => session.id)).toEqual([ownSessionId]);
      expect(sessions[0]).not.toHaveProperty('author');
      expect(sessions[0]).not.toHaveProperty('teamWorkspace');
    }
  });

  it("returns a teammate's messages with their author; ids are positions, so paging with before works", async () => {
    const { messages } = await client.request(Requests.messages.method, { sessionId: ALICE_SESSION });
    expect(messages.map((message: any) => [message.id, message.author, message.role, message.content])).toEqual([
      [1, 'alice', 'user', 'fix the login redirect'],
      [2, 'alice', 'assistant', 'Looked at auth.ts.'],
      [3, 'alice', 'assistant', 'The redirect now\n\n  keeps the query string.'],
    ]);
    expect(messages[0]).toMatchObject({ createdAt: '2026-11-20T09:00:00.000Z', runId: '44444444-4444-4444-8444-444444444444' });
    const newest = await client.request(Requests.messages.method, { sessionId: ALICE_SESSION, limit: 2 });
    expect(newest.messages.map((message: any) => message.id)).toEqual([2, 3]);
    const older = await client.request(Requests.messages.method, { sessionId: ALICE_SESSION, limit: 2, before: 2 });
    expect(older.messages.map((message: any) => message.id)).toEqual([1]);
    const empty = await client.request(Requests.messages.method, { sessionId: BOB_SESSION });
    expect(empty.messages).toEqual([]);
    const own = await client.request(Requests.messages.method, { sessionId: ownSessionId });
    expect(own.messages.map((message: any) => message.content)).toEqual(['my own question']);
    expect(own.messages[0]).not.toHaveProperty('author');
  });

  it('refuses an unknown session id and a team flag that is not a boolean, naming the field', async () => {
    const unknown = await errorOf(client.request(Requests.messages.method, { sessionId: '99999999-9999-4999-8999-999999999999' }));
    expect(unknown.code).toBe(ErrorCodes.InvalidParams);
    expect(unknown.message).toContain('params.sessionId');
    const badTeam = await errorOf(client.request(Requests.sessions.method, { workspaceUri, team: 'yes' }));
    expect(badTeam.code).toBe(ErrorCodes.InvalidParams);
    expect(badTeam.message).toMatch(/^Invalid params: params\.team: /);
  });

  it('lists the configured providers and their models from the config alone (codebench/providers)', async () => {
    const before = fake.requests.length;
    expect(await client.request(Requests.providers.method, {})).toEqual({
      defaultProvider: 'ollama',
      providers: [
        { name: 'openai', kind: 'openai', model: 'gpt-test' },
        { name: 'compatible', kind: 'openai-compatible', model: 'local-test' },
        { name: 'anthropic', kind: 'anthropic', model: 'claude-test' },
        { name: 'ollama', kind: 'ollama', model: 'qwen-test' },
      ],
    });
    // Unlike codebench/health, no endpoint is probed.
    expect(fake.requests.length).toBe(before);
  });

  it("answers codebench/runs with no steps for a teammate's session (tool calls are not shared), and refuses an unknown one", async () => {
    expect(await client.request(Requests.runs.method, { sessionId: ALICE_SESSION })).toEqual({ runs: [] });
    expect(await client.request(Requests.runs.method, { sessionId: ownSessionId })).toEqual({ runs: [] });
    const unknown = await errorOf(client.request(Requests.runs.method, { sessionId: '99999999-9999-4999-8999-999999999999' }));
    expect(unknown.code).toBe(ErrorCodes.InvalidParams);
    expect(unknown.message).toContain('params.sessionId');
  });
});
