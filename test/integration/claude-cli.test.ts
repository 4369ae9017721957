import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeArgs, runClaude } from '../../server/src/providers/claude-cli.js';
import type { CliCall, CliProviderConfig } from '../../server/src/providers/cli-call.js';
import type { ExternalAgentOutcome, ExternalEvent } from '../../server/src/providers/types.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { CLAUDE, HAVE_CLAUDE } from './claude-tool.js';

/** The real claude CLI against the fake Anthropic API, through runClaude. */

const KEY = 'sk-ant-test-secret-value';
const SOURCE = 'export const answer = 1;\n';

let fake: FakeModelServer;
let base: string;
let home: string;
const temp = (prefix: string) => mkdtempSync(join(base, prefix));
beforeAll(async () => {
  fake = await startFakeModelServer();
  base = mkdtempSync(join(tmpdir(), 'codebench-claude-'));
  home = temp('home-');
});
afterAll(async () => {
  await fake?.close();
  rmSync(base, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

function project(): string {
  const cwd = temp('cwd-');
  mkdirSync(join(cwd, 'src'));
  writeFileSync(join(cwd, 'src/a.ts'), SOURCE);
  return cwd;
}

interface Run {
  outcome: ExternalAgentOutcome;
  events: ExternalEvent[];
  ms: number;
}

async function run(options: {
  cwd?: string;
  config?: Partial<CliProviderConfig>;
  env?: NodeJS.ProcessEnv;
  resume?: string;
  system?: string;
  signal?: AbortSignal;
  onEvent?: (event: ExternalEvent) => void;
} = {}): Promise<Run> {
  const events: ExternalEvent[] = [];
  const call: CliCall = {
    providerName: 'claude',
    config: { kind: 'claude-cli', command: CLAUDE, baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', model: 'claude-test', timeoutSeconds: 60, ...options.config },
    // A private HOME: the developer's own claude login and settings stay out of the test.
    env: options.env ?? { PATH: process.env.PATH, HOME: home, TEST_ANTHROPIC_KEY: KEY },
    request: {
      cwd: options.cwd ?? project(),
      prompt: 'Change the answer to 2',
      system: options.system ?? 'codebench test run',
      resumeSessionId: options.resume,
      signal: options.signal ?? new AbortController().signal,
      onEvent: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
    },
  };
  const started = Date.now();
  const outcome = await runClaude(call);
  return { outcome, events, ms: Date.now() - started };
}

const toolResults = (request: { body: any }) =>
  (request.body.messages as any[]).flatMap((message) => (Array.isArray(message.content) ? message.content : [])).filter((block: any) => block.type === 'tool_result');

describe.skipIf(!HAVE_CLAUDE)('claude CLI through runClaude', { timeout: 60_000 }, () => {
  it('edits a file in its cwd and streams text, tool events, session id and usage in order', async () => {
    fake.enqueue(
      { text: 'Editing now.', toolCalls: [{ id: 'toolu_edit', name: 'Edit', args: { file_path: 'src/a.ts', old_string: '= 1', new_string: '= 2' } }] },
      { text: 'Changed the answer.' },
    );
    const cwd = project();
    const { outcome, events } = await run({ cwd });
    expect(outcome.error?.message).toBeUndefined();
    expect(outcome).toMatchObject({ status: 'completed', text: 'Changed the answer.', usage: { inputTokens: 20, outputTokens: expect.any(Number) } });
    expect(outcome.externalSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.costUsd).toEqual(expect.any(Number));
    expect(readFileSync(join(cwd, 'src/a.ts'), 'utf8')).toBe('export const answer = 2;\n');

    const kinds = events.map((event) => (event.type === 'text-delta' ? 'text' : event.type));
    const compact = kinds.filter((kind, index) => kind !== kinds[index - 1]);
    expect(compact).toEqual(['text', 'tool-started', 'tool-finished', 'text']);
    expect(events.find((event) => event.type === 'tool-started')).toMatchObject({ callId: 'toolu_edit', name: 'Edit', activity: 'editing src/a.ts' });
    expect(events.find((event) => event.type === 'tool-finished')).toMatchObject({ isError: false, result: expect.stringContaining('updated') });

    const [first] = fake.modelRequests;
    expect(first!.headers['x-api-key']).toBe(KEY);
    expect(first!.body.model).toBe('claude-test');
    expect(JSON.stringify(first!.body.system)).toContain('codebench test run');
    expect(JSON.stringify(first!.body.messages)).toContain('Change the answer to 2');
    // Only file tools are offered to the model.
    expect(first!.body.tools.map((tool: any) => tool.name)).not.toContain('Bash');
    // The CLI made no calls besides the two scripted turns (telemetry and friends are off).
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /v1/messages', 'POST /v1/messages']);
  });

  it('resumes a session from another cwd and sends the earlier conversation', async () => {
    fake.enqueue({ text: 'First answer.' });
    const first = await run();
    const id = first.outcome.externalSessionId!;
    fake.enqueue({ text: 'Second answer.' });
    const second = await run({ resume: id });
    expect(second.outcome).toMatchObject({ status: 'completed', text: 'Second answer.', externalSessionId: id });
    const sent = JSON.stringify(fake.modelRequests.at(-1)!.body.messages);
    expect(sent).toContain('First answer.');
    expect(sent.split('Change the answer to 2').length - 1).toBe(2);
  });

  it('starts a new session, with a notice, when the one to resume is gone', async () => {
    fake.enqueue({ text: 'Fresh answer.' });
    const missing = '4b0cbd0c-1111-4222-8333-944444444444';
    const { outcome, events } = await run({ resume: missing });
    expect(outcome).toMatchObject({ status: 'completed', text: 'Fresh answer.' });
    expect(outcome.externalSessionId).not.toBe(missing);
    expect(events[0]).toEqual({ type: 'notice', message: expect.stringContaining(`could not resume claude session ${missing}`) });
  });

  it('denies shell commands and keeps file tools inside the cwd', async () => {
    const outside = temp('outside-');
    writeFileSync(join(outside, 'secret.txt'), 'top secret\n');
    fake.enqueue(
      { toolCalls: [{ id: 'toolu_bash', name: 'Bash', args: { command: 'touch MARKER; node -e "require(\'fs\').writeFileSync(\'MARKER2\', \'x\')"', description: 'marker' } }] },
      {
        toolCalls: [
          { id: 'toolu_read_out', name: 'Read', args: { file_path: join(outside, 'secret.txt') } },
          { id: 'toolu_write_out', name: 'Write', args: { file_path: join(outside, 'planted.txt'), content: 'x\n' } },
        ],
      },
      { text: 'Could not do it.' },
    );
    const cwd = project();
    const { outcome, events } = await run({ cwd });
    expect(outcome.status).toBe('completed');
    expect(existsSync(join(cwd, 'MARKER'))).toBe(false);
    expect(existsSync(join(cwd, 'MARKER2'))).toBe(false);
    expect(existsSync(join(outside, 'planted.txt'))).toBe(false);

    // What the CLI told the model, as the fake server received it.
    const [bash] = toolResults(fake.modelRequests[1]!);
    expect(bash).toMatchObject({ tool_use_id: 'toolu_bash', is_error: true });
    expect(bash.content).toMatch(/Bash is disabled|denied/);
    const escapes = toolResults(fake.modelRequests[2]!).filter((block: any) => block.tool_use_id !== 'toolu_bash');
    expect(escapes).toHaveLength(2);
    for (const block of escapes) {
      expect(block.is_error).toBe(true);
      expect(block.content).toContain('outside');
    }
    expect(JSON.stringify(fake.modelRequests[2]!.body)).not.toContain('top secret');
    expect(events.filter((event) => event.type === 'tool-finished').every((event) => event.type === 'tool-finished' && event.isError)).toBe(true);
    expect(events.find((event) => event.type === 'tool-started')).toMatchObject({ activity: expect.stringMatching(/^running touch MARKER/) });
  });

  it('never asks the CLI to bypass permissions, and refuses args that would', async () => {
    const args = claudeArgs({
      providerName: 'claude',
      config: { kind: 'claude-cli' },
      env: {},
      request: { cwd: '/x', prompt: 'p', system: 's', signal: new AbortController().signal, onEvent: () => undefined },
    });
    expect(args.join(' ')).not.toMatch(/dangerously|bypass|acceptEdits/);
    expect(args).toContain('--permission-mode=dontAsk');
    expect(args).toContain('--restricted');
    for (const arg of ['--dangerously-skip-permissions', '--permission-mode=acceptEdits']) {
      const { outcome } = await run({ config: { args: [arg] } });
      expect(outcome).toMatchObject({ status: 'failed', error: { kind: 'config', message: expect.stringContaining(`"args" contains ${arg}`) } });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('reports rejected credentials quickly as an auth error naming the variable, without the key', async () => {
    fake.enqueue({ status: 401 }, { status: 401 }, { status: 401 }, { status: 401 });
    const { outcome, ms } = await run();
    expect(outcome).toMatchObject({ status: 'failed', error: { kind: 'auth' } });
    expect(outcome.error!.message).toContain('TEST_ANTHROPIC_KEY');
    expect(outcome.error!.message).not.toContain(KEY);
    // The CLI would retry a 401 ten times with backoff; codebench stops after the second.
    expect(ms).toBeLessThan(20_000);
  });

  it('tells the user to log in when there is no key and no login', async () => {
    const { outcome } = await run({ config: { apiKeyEnv: undefined }, env: { PATH: process.env.PATH, HOME: temp('nologin-') } });
    expect(outcome).toMatchObject({ status: 'failed', error: { kind: 'auth' } });
    expect(outcome.error!.message).toMatch(/not logged in.*\/login.*apiKeyEnv/s);
    expect(fake.modelRequests).toHaveLength(0);
  });

  it('reports a missing binary with how to install it', async () => {
    const { outcome } = await run({ config: { command: '/nonexistent/bin/claude' } });
    expect(outcome).toMatchObject({ status: 'failed', error: { kind: 'config' } });
    expect(outcome.error!.message).toContain('claude CLI not found at "/nonexistent/bin/claude"');
    expect(outcome.error!.message).toContain('npm i -g @anthropic-ai/claude-code');
  });

  it('reports an unset apiKeyEnv before starting anything', async () => {
    const { outcome } = await run({ env: { PATH: process.env.PATH, HOME: home } });
    expect(outcome).toMatchObject({ status: 'failed', error: { kind: 'config', message: expect.stringContaining('TEST_ANTHROPIC_KEY is not set') } });
  });

  it('reports a command that prints no stream-json, and one that exits non-zero with its stderr', async () => {
    const bin = temp('bin-');
    const script = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
      return join(bin, name);
    };
    const garbage = await run({ config: { command: script('garbage', 'echo "hello, I am not claude"; echo "{not json"; exit 0') } });
    expect(garbage.outcome).toMatchObject({ status: 'failed', error: { kind: 'bad-response' } });
    expect(garbage.outcome.error!.message).toContain('did not print stream-json output');
    expect(garbage.outcome.error!.message).toContain('hello, I am not claude');

    const crash = await run({ config: { command: script('crash', 'echo "fatal: config is broken" >&2; exit 3') } });
    expect(crash.outcome).toMatchObject({ status: 'failed', error: { kind: 'bad-response' } });
    expect(crash.outcome.error!.message).toMatch(/exited with code 3: fatal: config is broken/);
  });

  it('stops a CLI that goes quiet for timeoutSeconds', async () => {
    fake.enqueue({ text: 'one two three four five', stallAfterChunks: 1 });
    // 3 s, not less: on a loaded machine the CLI's own start-up must not look like the stall.
    const { outcome, ms } = await run({ config: { timeoutSeconds: 3 } });
    expect(outcome).toMatchObject({ status: 'failed', error: { kind: 'unavailable', message: expect.stringContaining('printed nothing for 3 s (timeoutSeconds)') } });
    expect(ms).toBeLessThan(15_000);
  });

  it('cancels mid-stream: status cancelled, quickly, and no process left behind', async () => {
    fake.enqueue({ text: Array.from({ length: 60 }, (_, i) => `word${i}`).join(' '), chunkDelayMs: 100 });
    const marker = `codebench-cancel-${process.pid}-${Date.now()}`;
    const controller = new AbortController();
    let pid: number | undefined;
    let cancelledAt = 0;
    const { outcome } = await run({
      system: marker,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type !== 'text-delta' || pid !== undefined) return;
        pid = processesWith(marker)[0]?.pid;
        cancelledAt = Date.now();
        controller.abort();
      },
    });
    expect(Date.now() - cancelledAt).toBeLessThan(3000);
    expect(outcome).toMatchObject({ status: 'cancelled', error: { kind: 'cancelled' } });
    expect(outcome.text.startsWith('word0')).toBe(true);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid!)).toBe(false);
    // Nothing from its process group survived either.
    expect(processesWith(marker)).toEqual([]);
    expect(groupMembers(pid!)).toEqual([]);
  });
});

function processesWith(marker: string): Array<{ pid: number; pgid: number }> {
  return psRows().filter((row) => row.args.includes(marker) && row.pid !== process.pid);
}

function groupMembers(pgid: number): number[] {
  return psRows().filter((row) => row.pgid === pgid).map((row) => row.pid);
}

function psRows(): Array<{ pid: number; pgid: number; args: string }> {
  return execFileSync('ps', ['-eww', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), pgid: Number(match[2]), args: match[3]! }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
