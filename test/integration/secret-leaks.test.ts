import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowWorkspace } from '../../server/src/agent/workspace/shadow-workspace.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { BIN, makeWorkspace, TestClient, type Workspace } from '../e2e/harness.js';
import { Commands } from '../../server/src/protocol/methods.js';

/**
 * A full run through the built language server with an API key in the environment and a
 * workspace holding a .env and a source file with a GitHub-style token. Afterwards every place a
 * secret could end up is scanned: the database (+ WAL), stderr, window/logMessage, history
 * exports, doctor, and what the fake model server received.
 */

// Assembled at run time, so neither value is a literal in this file.
const API_KEY = `sk-leak-${randomBytes(16).toString('hex')}`;
const ENV_TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const ENV_ONLY_VALUE = `only-in-dotenv-${randomBytes(6).toString('hex')}`;
const SOURCE_TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const INTEGRITY = `sha512-${randomBytes(48).toString('base64')}`;

const SOURCE = ['export const api = "https://api.github.com";', `export const token = "${SOURCE_TOKEN}";`, 'export const retries = 3;', ''].join('\n');

describe('secrets never leak out of a run', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  const logs: string[] = [];
  let sessionId = '';
  let toolResults: string[] = [];

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({
      '.env': `GITHUB_TOKEN=${ENV_TOKEN}\nPLAIN=${ENV_ONLY_VALUE}\n`,
      '.env.example': 'GITHUB_TOKEN=\n',
      'src/config.ts': SOURCE,
      'package-lock.json': JSON.stringify({ packages: { 'node_modules/x': { integrity: INTEGRITY } } }, null, 2),
    });
    const config = { defaultProvider: 'openai', providers: { openai: { kind: 'openai', model: 'gpt-test', baseURL: `${fake.url}/v1`, apiKeyEnv: 'LEAK_TEST_KEY', timeoutSeconds: 20 } } };
    writeFileSync(workspace.configFile, JSON.stringify(config));
    client = TestClient.start({ profile: 'neovim', workspace, env: { LEAK_TEST_KEY: API_KEY, CODEBENCH_DEBUG: '1' }, choose: () => 'Discard' });
    client.connection.onNotification('window/logMessage', (params: { message: string }) => void logs.push(params.message));
    await client.initialize();

    fake.enqueue(
      {
        toolCalls: [
          { name: 'read_file', args: { path: '.env' } },
          { name: 'read_file', args: { path: 'src/config.ts' } },
          { name: 'grep', args: { pattern: 'TOKEN|token|PLAIN' } },
          { name: 'read_file', args: { path: 'package-lock.json' } },
          { name: 'write_file', args: { path: '.env.local', content: 'X=1\n' } },
          { name: 'edit_file', args: { path: 'src/config.ts', old_string: 'retries = 3', new_string: 'retries = 4; // [redacted:github token]' } },
        ],
      },
      { text: 'All done.' },
    );
    const uri = workspace.uri('src/config.ts');
    await client.open(uri, SOURCE);
    const before = client.progress.length;
    const started = await client.command(Commands.ask.command, {
      uri,
      // The selection holds the token: the context message must be scrubbed too.
      range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } },
      instruction: 'Where is the token used?',
      provider: 'openai',
    });
    sessionId = started.sessionId;
    const begin = await client.waitFor(() => client.progress.slice(before).find((record) => record.value.kind === 'begin'));
    await client.waitFor(() => client.progressEnd(begin.token), 30_000, 'run end');
    const second = fake.modelRequests[1]?.body;
    toolResults = (second?.messages ?? []).filter((message: any) => message.role === 'tool').map((message: any) => String(message.content));
    expect(await client.stop()).toBe(0);
  }, 90_000);

  afterAll(async () => {
    await fake?.close();
  });

  const cli = (args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], {
      cwd: workspace.root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, LEAK_TEST_KEY: API_KEY },
    });

  it('sends the key only as the Authorization header, and no .env content or token to the model', () => {
    expect(fake.modelRequests.length).toBe(2);
    for (const request of fake.modelRequests) {
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
      for (const secret of [API_KEY, ENV_TOKEN, ENV_ONLY_VALUE, SOURCE_TOKEN]) expect(request.rawBody).not.toContain(secret);
    }
    const first = fake.modelRequests[0]!.rawBody;
    expect(first).toContain('[redacted:github token]');
  });

  it('tells the model .env is protected, lets it read the rest, and refuses writes and placeholders', () => {
    const [env, source, grep, lock, write, edit] = toolResults;
    expect(env).toMatch(/\.env is a protected file/);
    expect(source).toContain('export const token = "[redacted:github token]"');
    expect(source).toContain('retries = 3');
    expect(grep).toContain('src/config.ts:2');
    expect(grep).toMatch(/Skipped 1 protected file/);
    expect(grep).not.toContain('PLAIN');
    // Lockfile integrity hashes are not mistaken for secrets.
    expect(lock).toContain(INTEGRITY);
    expect(write).toMatch(/\.env\.local is a protected file/);
    expect(edit).toMatch(/placeholder/);
  });

  it('records the redaction in the run history, and no secret in the database, logs or exports', () => {
    const md = cli(['history', 'export', sessionId, '--format', 'md']);
    const json = cli(['history', 'export', sessionId, '--format', 'json']);
    expect(md.status, md.stderr).toBe(0);
    expect(json.status, json.stderr).toBe(0);
    expect(md.stdout).toMatch(/redacted 1 secret \(github token\) before sending to the model/);
    const messages = JSON.parse(json.stdout).messages as Array<{ role: string; content: string }>;
    expect(messages.some((message) => message.role === 'system' && /redacted 1 secret/.test(message.content))).toBe(true);

    const doctor = cli(['doctor', '--timeout', '5']);
    expect(doctor.stdout).toContain('API key found in LEAK_TEST_KEY');

    const databaseFiles = readdirSync(workspace.dataDir).filter((name) => name.startsWith('codebench.db'));
    expect(databaseFiles).toContain('codebench.db');
    const database = databaseFiles.map((name) => readFileSync(join(workspace.dataDir, name)).toString('latin1')).join('\n');
    const places: Record<string, string> = {
      database,
      stderr: client.stderr,
      logMessage: logs.join('\n'),
      'export md': md.stdout + md.stderr,
      'export json': json.stdout + json.stderr,
      doctor: doctor.stdout + doctor.stderr,
    };
    for (const [place, text] of Object.entries(places)) {
      expect(text, `${place} holds the API key`).not.toContain(API_KEY);
      expect(text, `${place} holds the .env token`).not.toContain(ENV_TOKEN);
      expect(text, `${place} holds .env content`).not.toContain(ENV_ONLY_VALUE);
    }
    // The source token may be in the user's own file, but history stores what the model saw.
    expect(database).not.toContain(SOURCE_TOKEN);
  });
});

describe('shadow workspaces skip protected files', () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

  it('does not copy .env (plain folder, open buffer) and does not propose one', async () => {
    const base = mkdtempSync(join(tmpdir(), 'codebench-shadow-secrets-'));
    const root = join(base, 'plain');
    mkdirSync(join(root, 'src'), { recursive: true });
    writeFileSync(join(root, '.env'), 'TOKEN=x\n');
    writeFileSync(join(root, 'id_rsa'), 'key\n');
    writeFileSync(join(root, '.env.example'), 'TOKEN=\n');
    writeFileSync(join(root, 'src', 'a.ts'), 'a\n');
    const documents = { get: (path: string) => (path === join(root, '.env') ? { text: 'TOKEN=unsaved\n', version: 3 } : undefined), paths: () => [join(root, '.env')] };
    const shadow = await ShadowWorkspace.create({ root, documents, shadowsDirectory: join(base, 'shadows') });
    try {
      expect(existsSync(join(shadow.path, 'src', 'a.ts'))).toBe(true);
      expect(existsSync(join(shadow.path, '.env.example'))).toBe(true);
      expect(existsSync(join(shadow.path, '.env'))).toBe(false);
      expect(existsSync(join(shadow.path, 'id_rsa'))).toBe(false);
      writeFileSync(join(shadow.path, '.env'), 'TOKEN=from-agent\n');
      const { changes, skipped } = await shadow.changes();
      expect(changes).toEqual([]);
      expect(skipped.map((skip) => skip.relativePath)).toEqual(['.env']);
    } finally {
      await shadow.dispose();
    }
  });

  it('removes a committed .env from a worktree shadow and skips uncommitted secrets', async () => {
    const base = mkdtempSync(join(tmpdir(), 'codebench-shadow-secrets-'));
    const root = join(base, 'repo');
    mkdirSync(root, { recursive: true });
    git(base, 'init', '--quiet', root);
    writeFileSync(join(root, '.env'), 'TOKEN=committed\n');
    writeFileSync(join(root, 'a.ts'), 'a\n');
    git(root, 'add', '-A');
    git(root, 'commit', '--quiet', '-m', 'init');
    writeFileSync(join(root, 'server.pem'), 'pem\n');
    writeFileSync(join(root, 'b.ts'), 'b\n');
    const shadow = await ShadowWorkspace.create({ root, documents: { get: () => undefined }, shadowsDirectory: join(base, 'shadows') });
    try {
      expect(existsSync(join(shadow.path, 'a.ts'))).toBe(true);
      expect(existsSync(join(shadow.path, 'b.ts'))).toBe(true);
      expect(existsSync(join(shadow.path, '.env'))).toBe(false);
      expect(existsSync(join(shadow.path, 'server.pem'))).toBe(false);
      expect((await shadow.changes()).changes).toEqual([]);
    } finally {
      await shadow.dispose();
    }
  });
});
