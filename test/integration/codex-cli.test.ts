import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCodex } from '../../server/src/providers/codex-cli.js';
import type { CliCall, CliProviderConfig } from '../../server/src/providers/cli-call.js';
import type { ExternalAgentOutcome, ExternalEvent } from '../../server/src/providers/types.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { CODEX, CODEX_MODEL, HAVE_CODEX } from './codex-tool.js';

/** The real codex CLI against the fake Responses API, through runCodex. */

const KEY = 'sk-test-openai-secret-value';
const SOURCE = 'export const answer = 1;\n';
const SYSTEM = 'You are running inside codebench; shell commands are denied.';
const PATCH = '*** Begin Patch\n*** Update File: src/a.ts\n@@\n-export const answer = 1;\n+export const answer = 2;\n*** End Patch\n';

let fake: FakeModelServer;
let base: string;
let home: string;
let codexHome: string;
const temp = (prefix: string) => mkdtempSync(join(base, prefix));
beforeAll(async () => {
  fake = await startFakeModelServer();
  base = mkdtempSync(join(tmpdir(), 'codebench-codex-'));
  home = temp('home-');
  codexHome = temp('codex-home-');
});
afterAll(async () => {
  await fake?.close();
  rmSync(base, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

/** A git repository, like the shadow workspace codex runs in. */
function project(): string {
  const cwd = temp('cwd-');
  mkdirSync(join(cwd, 'src'));
  writeFileSync(join(cwd, 'src/a.ts'), SOURCE);
  execFileSync('git', ['init', '--quiet'], { cwd });
  execFileSync('git', ['add', '.'], { cwd });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'initial'], { cwd });
  return cwd;
}

async function run(options: { cwd?: string; codexHome?: string; config?: Partial<CliProviderConfig>; prompt?: string; resume?: string; signal?: AbortSignal; onEvent?: (event: ExternalEvent) => void } = {}) {
  const events: ExternalEvent[] = [];
  const call: CliCall = {
    providerName: 'codex',
    config: { kind: 'codex-cli', command: CODEX, baseURL: `${fake.url}/v1`, apiKeyEnv: 'TEST_OPENAI_KEY', model: CODEX_MODEL, ...options.config },
    // Private HOME and CODEX_HOME: the developer's own codex login and sessions stay out of the test.
    env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: options.codexHome ?? codexHome, TEST_OPENAI_KEY: KEY },
    request: {
      cwd: options.cwd ?? project(),
      prompt: options.prompt ?? 'Make the answer 2',
      system: SYSTEM,
      resumeSessionId: options.resume,
      signal: options.signal ?? new AbortController().signal,
      onEvent: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
    },
  };
  const started = Date.now();
  const outcome: ExternalAgentOutcome = await runCodex(call);
  return { outcome, events, ms: Date.now() - started, cwd: call.request.cwd };
}

/** What codex sent back to the model for one call, from the follow-up request. */
function toolOutput(callId: string): string {
  const input: any[] = fake.modelRequests.at(-1)!.body.input;
  return input.find((item) => item.call_id === callId && /_output$/.test(item.type))?.output ?? '(no output)';
}

describe.skipIf(!HAVE_CODEX)('codex CLI through runCodex', { timeout: 60_000 }, () => {
  let threadId: string;

  it('edits a file with its patch tool, streams events, and reports thread id and usage', async () => {
    fake.enqueue(
      { text: 'Editing the answer.', toolCalls: [{ id: 'call_patch_1', name: 'apply_patch', args: PATCH }], usage: { inputTokens: 40, outputTokens: 7 } },
      { text: 'The answer is 2 now.', usage: { inputTokens: 60, outputTokens: 5 } },
    );
    const { outcome, events, cwd } = await run();
    expect(outcome).toMatchObject({ status: 'completed', text: 'Editing the answer.\n\nThe answer is 2 now.', usage: { inputTokens: 100, outputTokens: 12 } });
    expect(outcome.error).toBeUndefined();
    expect(outcome.externalSessionId).toMatch(/^[0-9a-f-]{36}$/);
    threadId = outcome.externalSessionId!;
    expect(readFileSync(join(cwd, 'src/a.ts'), 'utf8')).toBe('export const answer = 2;\n');
    expect(events.filter((event) => event.type !== 'notice')).toEqual([
      { type: 'text-delta', text: 'Editing the answer.' },
      expect.objectContaining({ type: 'tool-started', name: 'apply_patch', activity: 'editing src/a.ts' }),
      expect.objectContaining({ type: 'tool-finished', name: 'apply_patch', activity: 'editing src/a.ts', result: 'M src/a.ts', isError: false }),
      { type: 'text-delta', text: '\n\nThe answer is 2 now.' },
    ]);
    expect(toolOutput('call_patch_1')).toContain('Success');

    // Two model calls and nothing else: no telemetry, update checks or model listing.
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /v1/responses', 'POST /v1/responses']);
    const first = fake.modelRequests[0]!;
    expect(first.headers.authorization).toBe(`Bearer ${KEY}`);
    const body = JSON.stringify(first.body.input);
    expect(body).toContain(SYSTEM);
    expect(body).toContain('Make the answer 2');
    const tools = first.body.tools.map((tool: any) => `${tool.type}:${tool.name ?? ''}`);
    expect(tools).toContain('custom:apply_patch');
    expect(tools.filter((tool: string) => /exec_command|shell|write_stdin/.test(tool))).toEqual([]);
  });

  it('resumes the thread in a fresh copy of the workspace, replaying the earlier conversation', async () => {
    fake.enqueue({ text: 'It is 2.' });
    const { outcome } = await run({ resume: threadId, prompt: 'What is the answer now?' });
    expect(outcome).toMatchObject({ status: 'completed', text: 'It is 2.', externalSessionId: threadId });
    const input = JSON.stringify(fake.modelRequests[0]!.body.input);
    expect(input).toContain('Make the answer 2');
    expect(input).toContain('call_patch_1');
    expect(input).toContain('The answer is 2 now.');
    expect(input).toContain('What is the answer now?');
    // The policy flags hold for a resumed thread too.
    const tools = fake.modelRequests[0]!.body.tools.map((tool: any) => String(tool.name));
    expect(tools.filter((tool: string) => /exec_command|shell|write_stdin/.test(tool))).toEqual([]);
  });

  it('says so when the thread to resume is gone', async () => {
    const { outcome } = await run({ resume: '01a1fcbf-0782-7061-9ff7-4a3d0da42499' });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.kind).toBe('bad-request');
    expect(outcome.error?.message).toMatch(/^The codex CLI \(codex\) could not resume its earlier session 01a1fcbf-0782-7061-9ff7-4a3d0da42499 \(stderr: .*no rollout found.*\)\. Its session files/);
  });

  it('refuses shell commands and writes outside the workspace; nothing is created', async () => {
    const cwd = project();
    const outside = join(base, 'outside.txt');
    fake.enqueue(
      {
        toolCalls: [
          // Inside the cwd, where the workspace-write sandbox would let a command write.
          { id: 'call_shell', name: 'exec_command', args: { cmd: 'touch marker-from-shell' } },
          { id: 'call_shell_old', name: 'shell', args: { command: ['bash', '-lc', 'touch marker-from-shell'] } },
          { id: 'call_outside', name: 'apply_patch', args: `*** Begin Patch\n*** Add File: ${outside}\n+escaped\n*** End Patch\n` },
        ],
      },
      { text: 'I could not run that.' },
    );
    const { outcome } = await run({ cwd, prompt: 'Create the marker' });
    expect(outcome.status).toBe('completed');
    expect(existsSync(join(cwd, 'marker-from-shell'))).toBe(false);
    expect(existsSync(outside)).toBe(false);
    expect(toolOutput('call_shell')).toMatch(/unsupported call/);
    expect(toolOutput('call_shell_old')).toMatch(/unsupported call/);
    expect(toolOutput('call_outside')).toMatch(/rejected/);
  });

  it("starts none of the MCP servers or notify programs of the user's codex config", async () => {
    const userHome = temp('user-codex-home-');
    const mcpMarker = join(base, 'mcp-started');
    const notifyMarker = join(base, 'notify-ran');
    writeFileSync(
      join(userHome, 'config.toml'),
      `notify = ["/bin/sh", "-c", "touch ${notifyMarker}"]\n\n[mcp_servers.demo]\ncommand = "/bin/sh"\nargs = ["-c", "touch ${mcpMarker}"]\n`,
    );
    fake.enqueue({ text: 'ok' });
    const { outcome } = await run({ codexHome: userHome });
    expect(outcome.status).toBe('completed');
    expect(existsSync(mcpMarker)).toBe(false);
    expect(existsSync(notifyMarker)).toBe(false);
  });

  it('says where to get the CLI when the binary is missing', async () => {
    const { outcome } = await run({ config: { command: join(base, 'no-such-codex') } });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.kind).toBe('config');
    expect(outcome.error?.message).toBe(
      `codex CLI not found at ${join(base, 'no-such-codex')} — install it with \`npm i -g @openai/codex\` or set "command" in the config of provider codex.`,
    );
  });

  it('stops at the first refused key instead of waiting out codex\'s retries', async () => {
    fake.enqueue(...Array.from({ length: 6 }, () => ({ status: 401, errorMessage: `Incorrect API key provided: ${KEY.slice(0, 6)}***alue` })));
    const { outcome, ms } = await run();
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.kind).toBe('auth');
    expect(outcome.error?.statusCode).toBe(401);
    expect(outcome.error?.message).toMatch(/^The codex CLI \(codex\) could not authenticate: .*401.*Check the key in the environment variable TEST_OPENAI_KEY\.$/);
    expect(outcome.error?.message).not.toContain(KEY.slice(0, 6));
    expect(fake.modelRequests.length).toBeLessThanOrEqual(2);
    expect(ms).toBeLessThan(5000);
  });

  it('explains output that is not codex JSON events', async () => {
    const script = join(temp('bin-'), 'not-codex');
    writeFileSync(script, '#!/bin/sh\necho "this is not codex"\necho "{oops"\nexit 0\n');
    chmodSync(script, 0o755);
    const { outcome } = await run({ config: { command: script } });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.kind).toBe('bad-response');
    expect(outcome.error?.message).toContain(`${script} printed no codex JSON events. It printed: "this is not codex / {oops"`);
  });

  it('names the missing key variable', async () => {
    const { outcome } = await run({ config: { apiKeyEnv: 'TEST_UNSET_KEY' } });
    expect(outcome.status).toBe('failed');
    // Caught before codex starts: the variable is empty and no keychain holds a key either.
    expect(outcome.error?.kind).toBe('config');
    expect(outcome.error?.message).toContain('TEST_UNSET_KEY is not set');
    expect(outcome.error?.message).toContain('codex login');
    expect(fake.modelRequests).toEqual([]);
  });

  it('reports a non-zero exit with the end of stderr', async () => {
    const script = join(temp('bin-'), 'dying-codex');
    writeFileSync(script, `#!/bin/sh\necho '{"type":"thread.started","thread_id":"t-1"}'\necho 'fatal: something broke' >&2\nexit 3\n`);
    chmodSync(script, 0o755);
    const { outcome } = await run({ config: { command: script } });
    expect(outcome).toMatchObject({ status: 'failed', externalSessionId: 't-1' });
    expect(outcome.error?.message).toBe('The codex CLI (codex) exited with code 3 (stderr: fatal: something broke).');
  });

  it('gives up on a CLI that stays silent for timeoutSeconds', async () => {
    fake.enqueue({ text: 'never arrives', headersDelayMs: 20_000 });
    const { outcome, ms } = await run({ config: { timeoutSeconds: 1 } });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.kind).toBe('unavailable');
    expect(outcome.error?.message).toContain('printed nothing for 1 s');
    expect(ms).toBeLessThan(5000);
  });

  it('cancels mid-stream quickly and leaves no codex process behind', async () => {
    const cwd = project();
    fake.enqueue({ text: 'one two three four five six', stallAfterChunks: 2 });
    const controller = new AbortController();
    const waiting = run({ cwd, signal: controller.signal });
    const deadline = Date.now() + 20_000;
    while (fake.modelRequests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.modelRequests.length).toBe(1);
    const abortedAt = Date.now();
    controller.abort();
    const { outcome } = await waiting;
    expect(Date.now() - abortedAt).toBeLessThan(2000);
    expect(outcome.status).toBe('cancelled');
    expect(outcome.error?.kind).toBe('cancelled');
    // argv carries `--cd <cwd>`: any process still holding it is a leftover.
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(processes.split('\n').filter((line) => line.includes(cwd))).toEqual([]);
  });
});
