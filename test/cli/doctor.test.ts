import { chmodSync, closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkNode, checkProvider, maskKey, maskSecrets } from '../../server/src/cli/doctor-checks.js';
import { Store } from '../../server/src/store/store.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { createCliSandbox, runInSandbox, type CliResult, type CliSandbox } from './run-cli.js';
import { closedPort } from '../fakes/ports.js';

const KEY = 'sk-abcdefghijklmnop1234';

function writeConfig(sandbox: CliSandbox, config: unknown, mode = 0o600): void {
  writeFileSync(sandbox.configPath, JSON.stringify(config, null, 2));
  chmodSync(sandbox.configPath, mode);
}

async function createDatabase(file: string): Promise<void> {
  const store = await Store.open(file);
  const session = await store.createSession({ workspaceUri: 'file:///w', title: 'doctor test', provider: 'local' });
  // Enough rows to spread the tables over many pages, so damage in the middle hits real data.
  for (let i = 0; i < 200; i++) await store.addMessage({ sessionId: session.id, role: 'user', content: `message ${i} ${'x'.repeat(200)}` });
  await store.close();
}

const lines = (result: CliResult) => result.stdout.trimEnd().split('\n');
const linesWith = (result: CliResult, text: string) => lines(result).filter((line) => line.includes(text));

describe('codebench doctor', () => {
  let fake: FakeModelServer;
  let sandbox: CliSandbox;

  beforeAll(async () => {
    fake = await startFakeModelServer({ models: ['qwen2.5-coder:7b', 'fake-model'] });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    sandbox = createCliSandbox('codebench-doctor-');
    fake.reset();
  });
  afterEach(() => sandbox.cleanup());

  const healthyConfig = () => ({
    defaultProvider: 'local',
    providers: {
      local: { kind: 'ollama', model: 'qwen2.5-coder:7b', baseURL: fake.url },
      gpt: { kind: 'openai-compatible', model: 'fake-model', baseURL: `${fake.url}/v1`, apiKeyEnv: 'TEST_KEY' },
      claude: { kind: 'anthropic', model: 'claude-test', baseURL: fake.url, apiKeyEnv: 'TEST_KEY' },
    },
  });

  it('passes a healthy set-up: every line ok or warning, exit 0, providers asked with their keys', async () => {
    writeConfig(sandbox, healthyConfig());
    await createDatabase(sandbox.databaseFile);
    expect(statSync(sandbox.databaseFile).mode & 0o777).toBe(0o600);

    const result = await runInSandbox(sandbox, ['doctor'], { env: { TEST_KEY: KEY } });
    expect(result.stderr).toMatch(/^doctor: (all checks passed|0 errors)/);
    expect(result.code).toBe(0);
    for (const line of lines(result)) expect(line).toMatch(/^(ok|warning) /);
    expect(linesWith(result, 'database:')).toEqual([expect.stringMatching(/^ok .*passes the integrity check/)]);
    expect(linesWith(result, 'provider local')).toContainEqual(expect.stringMatching(/^ok .*model qwen2\.5-coder:7b is pulled/));
    expect(linesWith(result, 'provider gpt')).toContainEqual(expect.stringMatching(/^ok .*reachable/));
    expect(linesWith(result, 'provider claude')).toContainEqual(expect.stringMatching(/^ok .*reachable/));

    const paths = fake.requests.map((request) => `${request.method} ${request.path}`);
    expect(paths).toContain('GET /api/tags');
    const models = fake.requests.filter((request) => request.path === '/v1/models');
    expect(models.map((request) => request.headers.authorization).filter(Boolean)).toEqual([`Bearer ${KEY}`]);
    const anthropic = models.find((request) => request.headers['x-api-key']);
    expect(anthropic?.headers['x-api-key']).toBe(KEY);
    expect(anthropic?.headers['anthropic-version']).toBe('2023-06-01');
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it('reports an unreachable Ollama as an error with the `ollama serve` fix', async () => {
    const port = await closedPort();
    writeConfig(sandbox, { providers: { local: { kind: 'ollama', model: 'qwen2.5-coder:7b', baseURL: `http://127.0.0.1:${port}` } } });
    const result = await runInSandbox(sandbox, ['doctor', '--timeout', '2']);
    expect(result.code).toBe(1);
    const [line] = linesWith(result, 'provider local');
    expect(line).toMatch(/^error .*cannot reach ollama at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    expect(line).toContain('ollama serve');
  });

  it('names the missing key variable, and never prints a key that is set', async () => {
    const port = await closedPort();
    writeConfig(sandbox, {
      providers: {
        local: { kind: 'ollama', model: 'qwen2.5-coder:7b', baseURL: fake.url },
        missing: { kind: 'openai-compatible', model: 'm', baseURL: `${fake.url}/v1`, apiKeyEnv: 'CODEBENCH_TEST_UNSET_KEY' },
        down: { kind: 'openai', model: 'm', baseURL: `http://127.0.0.1:${port}/v1?api_key=${KEY}`, apiKeyEnv: 'TEST_KEY' },
      },
    });
    const result = await runInSandbox(sandbox, ['doctor'], { env: { TEST_KEY: KEY } });
    expect(result.code).toBe(1);
    expect(linesWith(result, 'provider missing')).toEqual([expect.stringMatching(/^error .*CODEBENCH_TEST_UNSET_KEY is not set/)]);
    expect(linesWith(result, 'provider down')).toContainEqual(expect.stringMatching(/^error .*cannot reach openai/));
    expect(result.stdout + result.stderr).not.toContain(KEY);
    expect(result.stdout + result.stderr).not.toContain('abcdefghijklmnop');
  });

  it('reports a file that is not a database as an error', async () => {
    mkdirSync(sandbox.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(sandbox.databaseFile, Buffer.alloc(8192, 'garbage!'), { mode: 0o600 });
    const result = await runInSandbox(sandbox, ['doctor']);
    expect(result.code).toBe(1);
    expect(linesWith(result, 'database:')).toEqual([expect.stringMatching(/^error .*not a database.*fix: move it aside/)]);
  });

  it('finds damage in the middle of a real database', async () => {
    await createDatabase(sandbox.databaseFile);
    const size = statSync(sandbox.databaseFile).size;
    expect(size).toBeGreaterThan(8 * 4096);
    const fd = openSync(sandbox.databaseFile, 'r+');
    writeSync(fd, Buffer.alloc(3 * 4096, 0x5a), 0, 3 * 4096, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const result = await runInSandbox(sandbox, ['doctor']);
    expect(result.code).toBe(1);
    expect(linesWith(result, 'database:')).toEqual([expect.stringMatching(/^error .*(damaged|malformed).*fix: move it aside/)]);
  });

  it('warns about loose permissions and a model that is not pulled, without failing', async () => {
    writeConfig(sandbox, { providers: { local: { kind: 'ollama', model: 'not-pulled', baseURL: fake.url } } }, 0o666);
    await createDatabase(sandbox.databaseFile);
    chmodSync(sandbox.databaseFile, 0o644);
    chmodSync(sandbox.dataDir, 0o755);
    const result = await runInSandbox(sandbox, ['doctor']);
    expect(result.code).toBe(0);
    expect(linesWith(result, 'config permissions')).toEqual([expect.stringMatching(new RegExp(`^warning .*fix: chmod 600 ${sandbox.configPath}$`))]);
    expect(linesWith(result, 'database permissions')).toEqual([expect.stringMatching(/^warning .*mode 0644.*fix: chmod 600 /)]);
    expect(linesWith(result, 'data directory')).toEqual([expect.stringMatching(/^warning .*fix: chmod 700 /)]);
    expect(linesWith(result, 'provider local')).toContainEqual(expect.stringMatching(/^warning .*not-pulled is not pulled.*fix: ollama pull not-pulled$/));
  });

  it('uses the built-in defaults when there is no config, and names file and key when it is broken', async () => {
    const none = await runInSandbox(sandbox, ['doctor', '--json', '--timeout', '0.5'], { env: { PATH: '' } });
    const configCheck = JSON.parse(none.stdout).checks.find((check: { name: string }) => check.name === 'config');
    expect(configCheck).toEqual({ name: 'config', status: 'ok', message: expect.stringContaining('using built-in defaults: local Ollama') });

    writeFileSync(sandbox.configPath, '{\n  // comments are fine\n  "providers": { "local": { "kind": "ollama", "modle": "x" } },\n}\n', { mode: 0o600 });
    const broken = await runInSandbox(sandbox, ['doctor']);
    expect(broken.code).toBe(1);
    expect(linesWith(broken, 'config:')).toEqual([expect.stringMatching(new RegExp(`^error .*${sandbox.configPath}.*providers\\.local.*modle`))]);
  });

  it('prints { checks: [...] } with --json, a fix on everything not ok', async () => {
    const port = await closedPort();
    writeConfig(sandbox, { providers: { local: { kind: 'ollama', model: 'm', baseURL: `http://127.0.0.1:${port}` } } });
    const result = await runInSandbox(sandbox, ['doctor', '--json']);
    expect(result.code).toBe(1);
    const { checks } = JSON.parse(result.stdout) as { checks: Array<Record<string, unknown>> };
    expect(checks.length).toBeGreaterThan(3);
    for (const check of checks) {
      expect(Object.keys(check).sort()).toEqual(check.status === 'ok' ? ['message', 'name', 'status'] : ['fix', 'message', 'name', 'status']);
      expect(['ok', 'warning', 'error']).toContain(check.status);
    }
    expect(checks).toContainEqual(expect.objectContaining({ name: 'provider local', status: 'error', fix: expect.stringContaining('ollama serve') }));
    expect(checks.map((check) => check.name)).toEqual(expect.arrayContaining(['node', 'config', 'database', 'neovim', 'helix', 'zed']));
  });

  it('checks CLI providers on PATH and editors from isolated config directories', async () => {
    const bin = join(sandbox.root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'nvim'), '#!/bin/sh\necho "NVIM v0.9.5"\necho "Build type: Release"\n', { mode: 0o755 });
    writeFileSync(join(bin, 'hx'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(join(bin, 'claude'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const helix = join(sandbox.env.XDG_CONFIG_HOME!, 'helix');
    mkdirSync(helix, { recursive: true });
    writeFileSync(join(helix, 'languages.toml'), '[language-server.codebench]\ncommand = "codebench"\nargs = ["lsp"]\n');
    writeConfig(sandbox, {
      providers: {
        claude: { kind: 'claude-cli' },
        codex: { kind: 'codex-cli', command: join(sandbox.root, 'no-such-codex') },
      },
    });
    const result = await runInSandbox(sandbox, ['doctor'], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(result.code).toBe(1);
    expect(linesWith(result, 'provider claude')).toEqual([`ok      provider claude: claude-cli: ${join(bin, 'claude')}`]);
    expect(linesWith(result, 'provider codex')).toEqual([expect.stringMatching(/^error .*no-such-codex does not exist or is not executable/)]);
    expect(linesWith(result, 'neovim:')).toEqual([expect.stringMatching(/^warning .*NVIM v0\.9\.5.*fix: upgrade to Neovim 0\.10/)]);
    expect(linesWith(result, 'helix:')).toEqual([expect.stringMatching(/^ok .*languages\.toml mentions codebench/)]);

    writeFileSync(join(bin, 'nvim'), '#!/bin/sh\necho "NVIM v0.11.2"\n', { mode: 0o755 });
    mkdirSync(join(sandbox.env.XDG_CONFIG_HOME!, 'nvim', 'lua'), { recursive: true });
    writeFileSync(join(sandbox.env.XDG_CONFIG_HOME!, 'nvim', 'lua', 'lsp.lua'), "vim.lsp.enable('codebench')\n");
    const again = await runInSandbox(sandbox, ['doctor'], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(linesWith(again, 'neovim:')).toEqual([expect.stringMatching(/^ok .*NVIM v0\.11\.2; its config mentions codebench/)]);
  });

  it('rejects a bad --timeout and unknown flags with status 2, and --help with 0', async () => {
    const bad = await runInSandbox(sandbox, ['doctor', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    const unknown = await runInSandbox(sandbox, ['doctor', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trimEnd().split('\n')).toHaveLength(1);
    const help = await runInSandbox(sandbox, ['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--timeout');
  });
});

describe('doctor checks in-process', () => {
  it('accepts Node 20.19 and later only', () => {
    expect(checkNode('20.18.3').status).toBe('error');
    expect(checkNode('20.19.0').status).toBe('ok');
    expect(checkNode('22.1.0').status).toBe('ok');
  });

  it('masks keys to a prefix and the last 4, and secrets inside URLs', () => {
    expect(maskKey(KEY)).toBe('sk-…1234');
    expect(maskKey('short-key')).toBe('…');
    expect(maskSecrets('https://u:p@host/v1?key=abc&api_key=def&x=1')).toBe('https://***@host/v1?key=***&api_key=***&x=1');
    expect(maskSecrets(`--token=${KEY}`)).toBe('--token=***');
    expect(maskSecrets(`arg ${KEY}`)).toBe('arg sk-…1234');
  });

  describe('against a server that answers badly', () => {
    let server: Server;
    let url: string;
    let status = 200;
    beforeAll(async () => {
      server = createHttpServer((req, res) => {
        if (req.url?.includes('hang')) return; // never answers
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('401 is "key rejected" naming the variable; other HTTP errors are warnings; silence is a timeout', async () => {
      const env = { TEST_KEY: KEY };
      status = 401;
      const [, rejected] = await checkProvider('gpt', { kind: 'openai', model: 'm', baseURL: url, apiKeyEnv: 'TEST_KEY' }, env, 2000);
      expect(rejected).toMatchObject({ status: 'error', message: expect.stringMatching(/key rejected.*TEST_KEY.*HTTP 401/), fix: expect.stringContaining('TEST_KEY') });
      expect(JSON.stringify(rejected)).not.toContain(KEY);

      status = 500;
      const [, failing] = await checkProvider('claude', { kind: 'anthropic', model: 'm', baseURL: url, apiKeyEnv: 'TEST_KEY' }, env, 2000);
      expect(failing).toMatchObject({ status: 'warning', message: expect.stringContaining('HTTP 500 to GET /v1/models') });

      const [hung] = await checkProvider('local', { kind: 'ollama', model: 'm', baseURL: `${url}/hang` }, {}, 200);
      expect(hung).toMatchObject({ status: 'error', message: expect.stringContaining('no answer within 0.2 s'), fix: expect.stringContaining('ollama serve') });
    });
  });
});
