import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_KEYS } from '../e2e/harness.js';
import { startFakeModelServer, type FakeModelServer, type FakeTurn } from '../fakes/model-server.js';
import { closedPort } from '../fakes/ports.js';
import { createCliSandbox, runInSandbox, type CliResult, type CliSandbox } from './run-cli.js';

/**
 * Provider failures as the user meets them: through the built bundle (`bin/codebench.js` →
 * dist/), not the sources. esbuild renames classes (the Anthropic SDK's APIConnectionError is
 * `APIConnectionError2` in dist/), so a classifier that matched `constructor.name` passed every
 * source-level test and still told the bundle's users "failed unexpectedly".
 */

const WIRES = ['openai', 'anthropic', 'ollama'] as const;
type Wire = (typeof WIRES)[number];

const MALFORMED: Record<Wire, string[]> = {
  openai: ['data: {not json\n\n'],
  anthropic: ['event: message_start\ndata: {not json\n\n'],
  ollama: ['{not json\n'],
};

const OVERFLOW: Record<Wire, string> = {
  openai: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
  anthropic: 'prompt is too long: 210000 tokens > 200000 maximum',
  ollama: 'input length exceeds the context length',
};

const KEY_ENV: Record<Wire, string | undefined> = { openai: 'TEST_OPENAI_KEY', anthropic: 'TEST_ANTHROPIC_KEY', ollama: undefined };

function provider(wire: Wire, root: string): Record<string, unknown> {
  const keyEnv = KEY_ENV[wire];
  return { kind: wire, model: `${wire}-test`, baseURL: wire === 'openai' ? `${root}/v1` : root, timeoutSeconds: 1, ...(keyEnv ? { apiKeyEnv: keyEnv } : {}) };
}

let fake: FakeModelServer;
let sandbox: CliSandbox;
let refusedPort: number;

beforeAll(async () => {
  fake = await startFakeModelServer();
  refusedPort = await closedPort();
  sandbox = createCliSandbox('codebench-bundle-errors-');
  const providers: Record<string, unknown> = {};
  for (const wire of WIRES) {
    providers[wire] = provider(wire, fake.url);
    providers[`${wire}-refused`] = provider(wire, `http://127.0.0.1:${refusedPort}`);
    // https:// at a plain HTTP server: the TLS handshake fails inside fetch, below the SDK.
    providers[`${wire}-tls`] = provider(wire, fake.url.replace('http://', 'https://'));
  }
  writeFileSync(sandbox.configPath, JSON.stringify({ defaultProvider: 'ollama', providers }, null, 2));
  Object.assign(sandbox.env, TEST_KEYS, { NO_COLOR: '1' });
});
afterAll(async () => {
  await fake.close();
  sandbox.cleanup();
});
beforeEach(() => fake.reset());

async function ask(providerName: string, turns: FakeTurn[] = []): Promise<CliResult & { elapsedMs: number }> {
  fake.reset();
  fake.enqueue(...turns);
  const started = Date.now();
  const result = await runInSandbox(sandbox, ['ask', '--provider', providerName, 'say hello']);
  return { ...result, elapsedMs: Date.now() - started };
}

/** The one `error: …` line the CLI prints for a failed run. */
function errorLine(result: CliResult): string {
  expect(result.code).toBe(1);
  const line = result.stderr.split('\n').find((candidate) => candidate.startsWith('error: '));
  expect(line, result.stderr).toBeDefined();
  return line!;
}

async function storedSessions(): Promise<unknown[]> {
  const listed = await runInSandbox(sandbox, ['history', 'list', '--all', '--json']);
  expect(listed.code).toBe(0);
  return listed.stdout.trim() === '' ? [] : (JSON.parse(listed.stdout) as unknown[]);
}

describe.each(WIRES)('the built CLI, provider %s', (wire) => {
  it('connection refused on this machine: fails at once with the fix, no retries, no "no response", no session left', async () => {
    const before = (await storedSessions()).length;
    const result = await ask(`${wire}-refused`);
    const line = errorLine(result);
    expect(line).toContain(`is not reachable: connection refused, nothing listens on 127.0.0.1:${refusedPort}.`);
    expect(line).toContain(wire === 'ollama' ? 'Start Ollama with `ollama serve`' : 'Start the server');
    expect(result.stderr).not.toMatch(/retrying|no response/);
    // Nothing was answered: no empty session in history, and no id printed for one.
    expect(result.stderr).not.toMatch(/^session /m);
    expect(await storedSessions()).toHaveLength(before);
  });

  it('https:// at a plain HTTP server: a TLS failure that says to use http://, not "failed unexpectedly"', async () => {
    const line = errorLine(await ask(`${wire}-tls`));
    expect(line).toMatch(/failed the TLS handshake \(ERR_SSL_WRONG_VERSION_NUMBER: wrong version number\)\. The server at 127\.0\.0\.1:\d+ does not seem to speak HTTPS/);
    expect(line).not.toMatch(/unexpectedly/);
    expect(fake.requests).toHaveLength(0);
  });

  it('401: names the key (or how to set one), one request', async () => {
    const line = errorLine(await ask(wire, [{ status: 401 }, { text: 'never used' }]));
    expect(line).toMatch(KEY_ENV[wire] ? new RegExp(`rejected the credentials \\(HTTP 401.*environment variable ${KEY_ENV[wire]}`) : /rejected the credentials \(HTTP 401.*Set apiKeyEnv/);
    expect(fake.modelRequests).toHaveLength(1);
  });

  it('429 with Retry-After: waits as asked, says so, then answers', async () => {
    const result = await ask(wire, [{ status: 429, headers: { 'retry-after': '1' } }, { text: 'after the wait' }]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('after the wait');
    expect(result.stderr).toContain(`rate limited by ${wire}, retrying in 1 s (attempt 2/3)`);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(950);
    expect(fake.modelRequests).toHaveLength(2);
  });

  it('500: bounded retries naming the status, then "try again later"', async () => {
    const result = await ask(wire, [{ status: 500 }, { status: 500 }, { status: 500 }, { text: 'never used' }]);
    expect(errorLine(result)).toMatch(/failed on the server side \(HTTP 500: .*Try again later/);
    expect(result.stderr).toContain(`${wire} unavailable (HTTP 500), retrying in 0.5 s (attempt 2/3)`);
    expect(fake.modelRequests).toHaveLength(3);
  });

  it('400 context overflow: says the conversation is too long', async () => {
    const line = errorLine(await ask(wire, [{ status: 400, errorMessage: OVERFLOW[wire] }]));
    expect(line).toContain(`The conversation is too long for model ${wire}-test`);
    expect(fake.modelRequests).toHaveLength(1);
  });

  it('a malformed stream: says the response was malformed', async () => {
    const line = errorLine(await ask(wire, [{ rawChunks: MALFORMED[wire] }, { text: 'never used' }]));
    expect(line).toMatch(/sent a malformed response: .*Ask again/);
    expect(fake.modelRequests).toHaveLength(1);
  });

  it('a stall mid-stream: fails after timeoutSeconds, not retried', async () => {
    const result = await ask(wire, [{ text: 'one two three', stallAfterChunks: 1 }, { text: 'never used' }]);
    expect(errorLine(result)).toMatch(/stalled: no data for 1 s mid-response \(timeoutSeconds\)/);
    expect(fake.modelRequests).toHaveLength(1);
  });
});
