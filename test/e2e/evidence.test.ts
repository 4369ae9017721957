import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { client, ndJsonStream } from '@agentclientprotocol/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, Requests } from '../../server/src/protocol/methods.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { runCodebench } from '../cli/terminal.js';
import { BIN, makeWorkspace, TEST_KEYS, TestClient, writeConfig, type Workspace } from './harness.js';

const SOURCE = 'export const a = 1;\n';
const PASS = 'node -e "process.exit(0)"';
const FAIL = 'node -e "process.exit(1)"';
/** A project action's command, allowed by a stored rule. */
const BOOM = `node -e "console.log('boom-output');process.exit(1)"`;
/** A project action's command with no rule: the user is asked, and denies it. */
const UNALLOWED = 'node -e "process.exit(3)"';

const editTurn = (from: string, to: string) => ({ toolCalls: [{ name: 'edit_file', args: { path: 'src/a.ts', old_string: from, new_string: to } }] });
const runTurn = (command: string) => ({ toolCalls: [{ name: 'run_command', args: { command } }] });

function cliEnv(workspace: Workspace): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, NO_COLOR: '1', ...TEST_KEYS };
}

/** The first user message of a model request: the context message with the instruction. */
function firstUserText(body: any): string {
  const message = (body.messages as Array<{ role: string; content: unknown }>).find((candidate) => candidate.role === 'user');
  return typeof message?.content === 'string' ? message.content : JSON.stringify(message?.content);
}

describe('the proposal shows what the commands after the last edit proved (Neovim-like client)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let approval = 'Allow once';
  /** What `codebench/proposal` answered while the Apply prompt was open, per prompt. */
  const views: any[] = [];

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/a.ts': SOURCE });
    writeConfig(workspace, fake, {
      presets: [
        { title: 'Fix failing tests', run: BOOM, instruction: 'Make the failing tests pass' },
        { title: 'Check three', run: UNALLOWED, instruction: 'Make it exit 0' },
      ],
    });
    const allowed = await runCodebench(['policy', 'allow', '--', 'node', '-e', "console.log('boom-output');process.exit(1)"], { cwd: workspace.root, env: cliEnv(workspace) });
    expect(allowed.code, allowed.stderr).toBe(0);
    client = TestClient.start({
      profile: 'neovim',
      workspace,
      runEvents: true,
      choose: async (_message, actions) => {
        if (actions.includes('Deny')) return approval;
        const event = client.runEvents.flatMap((batch) => batch.events).filter((candidate: any) => candidate.type === 'proposal').at(-1);
        views.push(await client.request(Requests.proposal.method, { proposalId: event.proposalId }));
        return 'Discard';
      },
    });
    await client.initialize();
    await client.open(workspace.uri('src/a.ts'), SOURCE);
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  /** Runs an ask to its Apply prompt (answered Discard); the end message, the prompt, the proposal event. */
  async function ask(args: Record<string, unknown>) {
    const before = { progress: client.progress.length, prompts: client.prompts.length, events: client.runEvents.length };
    const started = await client.command(Commands.ask.command, { uri: workspace.uri('src/a.ts'), ...args });
    const begin = await client.waitFor(() => client.progress.slice(before.progress).find((record) => record.value.kind === 'begin'));
    const end = await client.waitFor(() => client.progressEnd(begin.token), 20_000, 'run end');
    const events = client.runEvents.slice(before.events).flatMap((batch) => batch.events);
    const proposal = events.find((event: any) => event.type === 'proposal');
    const prompt = proposal
      ? await client.waitFor(() => client.prompts.slice(before.prompts).find((candidate) => candidate.actions.includes('Apply')), 10_000, 'Apply prompt')
      : undefined;
    if (prompt) await client.waitFor(() => views.length > 0 && views.at(-1).proposalId === proposal.proposalId && views.at(-1));
    return { started, end: end.value.message as string, proposal, prompt: prompt?.message, events, approvals: client.prompts.slice(before.prompts).filter((candidate) => candidate.actions.includes('Deny')) };
  }

  it('a passing command after the edit: the end message, run event, Apply prompt, proposal view and history all say it passed', async () => {
    fake.enqueue(editTurn('a = 1', 'a = 2'), runTurn(PASS), { text: 'Changed it; the check passes.' });
    const { started, end, proposal, prompt } = await ask({ instruction: 'make a two' });
    const sentence = `${PASS} passed after the last edit`;
    expect(end).toBe(`proposed changes to src/a.ts (+1 −1); ${sentence}`);
    expect(proposal.evidence).toEqual([{ command: PASS, exitCode: 0 }]);
    expect(prompt).toBe(`codebench proposes changes to src/a.ts (+1 −1); ${sentence}.`);
    expect(views.at(-1).evidence).toEqual([{ command: PASS, exitCode: 0 }]);
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: started.sessionId });
    expect(proposals.at(-1)).toMatchObject({ status: 'discarded', evidence: [{ command: PASS, exitCode: 0 }] });
    // The user's file was never touched: the proposal was discarded.
    expect(readFileSync(join(workspace.root, 'src/a.ts'), 'utf8')).toBe(SOURCE);
    const shown = await runCodebench(['history', 'show', started.sessionId], { cwd: workspace.root, env: cliEnv(workspace) });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`Checked: ${sentence}`);
  });

  it('a failing command after the edit is reported as failed, with its exit code', async () => {
    fake.enqueue(editTurn('a = 1', 'a = 3'), runTurn(FAIL), { text: 'The check still fails.' });
    const { end, proposal, prompt } = await ask({ instruction: 'make a three' });
    expect(end).toBe(`proposed changes to src/a.ts (+1 −1); ${FAIL} failed (exit 1) after the last edit`);
    expect(proposal.evidence).toEqual([{ command: FAIL, exitCode: 1 }]);
    expect(prompt).toContain(`${FAIL} failed (exit 1) after the last edit.`);
  });

  it('an edit after the command: no command was run after the last edit', async () => {
    fake.enqueue(runTurn(PASS), editTurn('a = 1', 'a = 4'), { text: 'Edited after checking.' });
    const { started, end, proposal, prompt } = await ask({ instruction: 'make a four' });
    expect(end).toBe('proposed changes to src/a.ts (+1 −1); no command was run after the last edit');
    expect(proposal.evidence).toEqual([]);
    expect(prompt).toContain('no command was run after the last edit');
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: started.sessionId });
    expect(proposals.at(-1).evidence).toEqual([]);
  });

  it('a run that ran no command says nothing about commands', async () => {
    fake.enqueue(editTurn('a = 1', 'a = 5'), { text: 'Edited.' });
    const { started, end, proposal, prompt } = await ask({ instruction: 'make a five' });
    expect(end).toBe('proposed changes to src/a.ts (+1 −1)');
    expect(proposal).not.toHaveProperty('evidence');
    expect(prompt).toBe('codebench proposes changes to src/a.ts (+1 −1).');
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: started.sessionId });
    expect(proposals.at(-1)).not.toHaveProperty('evidence');
  });

  it('a preset with run is a code action; its command runs first (allowed by a rule) and the model gets its output with the instruction', async () => {
    const actions: any[] = await client.request('textDocument/codeAction', {
      textDocument: { uri: workspace.uri('src/a.ts') },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [] },
    });
    const action = actions.find((candidate) => candidate.title === 'Agent: Fix failing tests');
    expect(action?.command.arguments[0]).toMatchObject({ instruction: 'Make the failing tests pass', run: BOOM });
    const requestsBefore = fake.modelRequests.length;
    fake.enqueue({ text: 'The test prints boom-output and exits 1.' });
    const before = { progress: client.progress.length, prompts: client.prompts.length, events: client.runEvents.length };
    await client.command(action.command.command, ...action.command.arguments);
    const begin = await client.waitFor(() => client.progress.slice(before.progress).find((record) => record.value.kind === 'begin'));
    await client.waitFor(() => client.progressEnd(begin.token), 20_000, 'run end');
    // The rule allowed it: nobody was asked.
    expect(client.prompts.slice(before.prompts)).toEqual([]);
    const first = fake.modelRequests[requestsBefore]!;
    const text = firstUserText(first.body);
    expect(text).toContain('Request: Make the failing tests pass');
    expect(text).toContain(`Output of \`${BOOM}\` (exit 1)`);
    expect(text).toContain('boom-output');
    // Shown like any tool step of the run.
    const events = client.runEvents.slice(before.events).flatMap((batch) => batch.events);
    expect(events.find((event: any) => event.type === 'tool-started')).toMatchObject({ name: 'run_command', activity: `running ${BOOM}` });
  });

  it('a project action whose command the user denies: the model is told it did not run', async () => {
    approval = 'Deny';
    try {
      const requestsBefore = fake.modelRequests.length;
      fake.enqueue({ text: 'It did not run, so I cannot tell.' });
      const { approvals } = await ask({ instruction: 'Make it exit 0', run: UNALLOWED });
      expect(approvals.map((prompt) => prompt.message).join('\n')).toContain(UNALLOWED);
      const text = firstUserText(fake.modelRequests[requestsBefore]!.body);
      expect(text).toContain(`The user asked to run \`${UNALLOWED}\` before this request, but it did not run: The command was not run`);
      expect(text).not.toContain('Output of');
    } finally {
      approval = 'Allow once';
    }
  });

  it('an empty run is refused, naming the field', async () => {
    await expect(client.command(Commands.ask.command, { uri: workspace.uri('src/a.ts'), instruction: 'x', run: '  ' })).rejects.toThrow(
      'Invalid params: codebench.ask arguments[0].run: must not be empty',
    );
  });
});

describe('ACP: the permission request for an edit says what the commands proved', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/a.ts': SOURCE });
    writeConfig(workspace, fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('names the failing command and its exit code in the title and first line', async () => {
    const allowed = await runCodebench(['policy', 'allow', '--', 'node', '-e', 'process.exit(1)'], { cwd: workspace.root, env: cliEnv(workspace) });
    expect(allowed.code, allowed.stderr).toBe(0);
    const child = spawn(process.execPath, [BIN, 'acp'], { cwd: workspace.root, env: cliEnv(workspace), stdio: ['pipe', 'pipe', 'pipe'] });
    const permissions: any[] = [];
    const app = client({ name: 'test-editor' })
      .onNotification('session/update', () => undefined)
      .onRequest('session/request_permission', ({ params }) => {
        permissions.push(params);
        return { outcome: { outcome: 'selected', optionId: params.options.some((option: any) => option.optionId === 'discard') ? 'discard' : 'deny' } };
      });
    const connection = app.connect(ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>));
    try {
      await connection.agent.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false } });
      const { sessionId } = await connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
      fake.enqueue(editTurn('a = 1', 'a = 2'), runTurn(FAIL), { text: 'Still failing.' });
      const response = await connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'make a two' }] });
      expect(response.stopReason).toBe('end_turn');
      // The rule allowed the command: the only permission request is the edit's.
      expect(permissions).toHaveLength(1);
      expect(permissions[0].toolCall.title).toBe(`Edit src/a.ts (+1 −1); ${FAIL} failed (exit 1) after the last edit`);
      expect(permissions[0].toolCall.content[0]).toEqual({ type: 'content', content: { type: 'text', text: `Checked: ${FAIL} failed (exit 1) after the last edit.` } });
      expect(permissions[0].toolCall.content[1]).toMatchObject({ type: 'diff' });
    } finally {
      connection.close();
      child.stdin!.end();
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
    }
  });
});
