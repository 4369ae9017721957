import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, Requests } from '../../server/src/protocol/methods.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { runCodebench } from '../cli/terminal.js';
import { applyTextEdits, eventually, makeWorkspace, TEST_KEYS, TestClient, writeConfig, type Workspace } from './harness.js';

/**
 * run_command runs in a private copy of the workspace that holds the run's staged edits: the
 * agent can test its change before proposing it, the user's files stay as they are, what a command
 * rewrites comes back into the proposal, and no copy outlives its run (not even a kill -9).
 */

const ANSWER = 'exports.answer = () => 41;\n';
const STYLE = 'export const greeting = "hello";\n';
const FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'private-copy-fixture', version: '1.0.0', private: true, scripts: { test: 'node test.js' } }, null, 2),
  // Passes only when src/answer.js gives what the ignored dependency expects.
  'test.js': [
    "const { expected } = require('fake-dep');",
    "const { answer } = require('./src/answer.js');",
    "if (answer() !== expected) { console.log(`FAIL: answer() is ${answer()}, expected ${expected}`); process.exit(1); }",
    "console.log('PASS: answer() is ' + expected);",
    '',
  ].join('\n'),
  'src/answer.js': ANSWER,
  'src/style.ts': STYLE,
  // A formatter: double quotes to single quotes, in place.
  'format.js': "const fs = require('fs');\nconst file = 'src/style.ts';\nfs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/\"/g, \"'\"));\nfs.writeFileSync('format.log', 'formatted\\n');\n",
  // Runs until it is cancelled or its server dies (a write to a closed pipe ends it), at most 20 s.
  'sleep.js': "setInterval(() => process.stdout.write('.'), 100);\nsetTimeout(() => process.exit(0), 20000);\n",
  '.gitignore': 'node_modules/\nformat.log\n',
  'node_modules/fake-dep/index.js': 'module.exports = { expected: 42 };\n',
};

const runTurn = (command: string) => ({ toolCalls: [{ name: 'run_command', args: { command } }] });
const editTurn = { toolCalls: [{ name: 'edit_file', args: { path: 'src/answer.js', old_string: '41', new_string: '42' } }] };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

function cliEnv(workspace: Workspace): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, NO_COLOR: '1', ...TEST_KEYS };
}

/** Copies in the data directory, and worktrees git knows of besides the user's own. */
function leftovers(workspace: Workspace): { copies: string[]; worktrees: string[] } {
  const shadows = join(workspace.dataDir, 'shadows');
  const copies = existsSync(shadows) ? readdirSync(shadows) : [];
  const worktrees = git(workspace.root, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length))
    .filter((path) => path !== workspace.root);
  return { copies, worktrees };
}

/** The tool result the model got for its (last) run_command call. */
function commandResult(fake: FakeModelServer): string {
  const body = fake.modelRequests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
  const tool = body.messages.filter((message) => message.role === 'tool').at(-1);
  return typeof tool?.content === 'string' ? tool.content : JSON.stringify(tool?.content);
}

function lastCommandAudit(workspace: Workspace): { kind: string; detail: Record<string, unknown> } {
  const db = new Database(join(workspace.dataDir, 'codebench.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT kind, detail FROM audit_log WHERE kind = 'command-run' ORDER BY id DESC LIMIT 1").get() as { kind: string; detail: string };
    return { kind: row.kind, detail: JSON.parse(row.detail) as Record<string, unknown> };
  } finally {
    db.close();
  }
}

describe('commands run in a private copy with the staged edits (Neovim-like client)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  /** What the user's src/answer.js held on disk while the Apply prompt was open. */
  const onDiskAtPrompt: string[] = [];
  let answerPrompt: 'Apply' | 'Discard' = 'Discard';
  /** What `codebench/proposal` answered while the Apply prompt was open. */
  const views: any[] = [];

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace(FILES);
    git(workspace.root, 'init', '--quiet');
    git(workspace.root, 'add', '-A');
    git(workspace.root, 'commit', '--quiet', '-m', 'fixture');
    expect(git(workspace.root, 'status', '--porcelain', '--ignored')).toBe('!! node_modules/\n');
    writeConfig(workspace, fake);
    for (const rule of [['npm', 'test'], ['node', 'format.js'], ['node', 'sleep.js']]) {
      const stored = await runCodebench(['policy', 'allow', ...rule], { cwd: workspace.root, env: cliEnv(workspace) });
      expect(stored.code, stored.stderr).toBe(0);
    }
    client = TestClient.start({
      profile: 'neovim',
      workspace,
      runEvents: true,
      choose: async (_message, actions) => {
        if (actions.includes('Deny')) return 'Deny';
        onDiskAtPrompt.push(readFileSync(join(workspace.root, 'src/answer.js'), 'utf8'));
        const event = client.runEvents.flatMap((batch) => batch.events).filter((candidate: any) => candidate.type === 'proposal').at(-1);
        views.push(await client.request(Requests.proposal.method, { proposalId: event.proposalId }));
        return answerPrompt;
      },
    });
    await client.initialize();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  async function ask(instruction: string) {
    const finished = await client.request(Requests.ask.method, { uri: workspace.uri('src/answer.js'), instruction, provider: 'ollama' });
    expect(finished.status, finished.error).toBe('completed');
    return finished;
  }

  it('the model edits, runs npm test against its edit (with the ignored node_modules) and is told it passed; the user\'s file is untouched until Apply', async () => {
    answerPrompt = 'Apply';
    fake.enqueue(editTurn, runTurn('npm test'), { text: 'Fixed; npm test passes.' });
    const finished = await ask('make the test pass');
    const result = commandResult(fake);
    expect(result).toMatch(/^The command exited with code 0 after/);
    expect(result).toContain('PASS: answer() is 42');
    expect(finished.proposalId).toBeDefined();
    await client.waitFor(() => onDiskAtPrompt.length === 1 || undefined, 10_000, 'Apply prompt');
    expect(onDiskAtPrompt[0]).toBe(ANSWER);
    // Applied through the editor: the buffer has the edit (the editor saves it, not the server).
    await client.waitFor(() => client.appliedEdits.length === 1 || undefined, 10_000, 'applied edit');
    const change = client.appliedEdits[0].documentChanges[0];
    expect(change.textDocument.uri).toBe(workspace.uri('src/answer.js'));
    expect(applyTextEdits(ANSWER, change.edits, 'utf-16')).toBe('exports.answer = () => 42;\n');
    expect(lastCommandAudit(workspace).detail).toMatchObject({ cwd: workspace.root, exitCode: 0, privateCopy: true });
    expect(leftovers(workspace)).toEqual({ copies: [], worktrees: [] });
  });

  it('a failing test run (on the staged, wrong edit) is reported to the model as exit code 1', async () => {
    answerPrompt = 'Discard';
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'src/answer.js', old_string: '41', new_string: '43' } }] }, runTurn('npm test'), { text: 'The test fails.' });
    await ask('make the test pass');
    const result = commandResult(fake);
    expect(result).toMatch(/^The command exited with code 1 after/);
    expect(result).toContain('FAIL: answer() is 43, expected 42');
    expect(readFileSync(join(workspace.root, 'src/answer.js'), 'utf8')).toBe(ANSWER);
    expect(leftovers(workspace)).toEqual({ copies: [], worktrees: [] });
  });

  it('a formatter\'s rewrite arrives in the proposal; its ignored log does not; the user\'s file is unchanged', async () => {
    answerPrompt = 'Discard';
    fake.enqueue(runTurn('node format.js'), { text: 'Formatted.' });
    const finished = await ask('format the code');
    expect(commandResult(fake)).toContain("The command changed 1 file: src/style.ts (staged for the user's review");
    const view = await eventually(async () => {
      const found = views.find((candidate) => candidate.proposalId === finished.proposalId);
      expect(found).toBeDefined();
      return found;
    }, 10_000);
    expect(view.files.map((file: { path: string }) => file.path)).toEqual(['src/style.ts']);
    expect(applyTextEdits(STYLE, view.files[0].hunks, 'utf-16')).toBe("export const greeting = 'hello';\n");
    // A command that changed files is an edit for the evidence: it checked the text before its change.
    expect(view.evidence).toEqual([]);
    expect(readFileSync(join(workspace.root, 'src/style.ts'), 'utf8')).toBe(STYLE);
    expect(existsSync(join(workspace.root, 'format.log'))).toBe(false);
    expect(leftovers(workspace)).toEqual({ copies: [], worktrees: [] });
  });

  it('a cancelled run leaves no copy behind', async () => {
    fake.enqueue(runTurn('node sleep.js'), { text: 'never' });
    const pending = client.request(Requests.ask.method, { uri: workspace.uri('src/answer.js'), instruction: 'sleep', provider: 'ollama' });
    // The command is running in its copy.
    await eventually(async () => {
      expect(leftovers(workspace).copies).toHaveLength(1);
      expect(client.runEvents.flatMap((batch) => batch.events).some((event: any) => event.type === 'tool-started' && event.name === 'run_command')).toBe(true);
    }, 10_000);
    // Give the command a moment to start in it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.command(Commands.cancel.command, {});
    expect((await pending).status).toBe('cancelled');
    expect(leftovers(workspace)).toEqual({ copies: [], worktrees: [] });
  });
});

describe('a copy left by a killed server', () => {
  it('is removed, with its worktree entry, as soon as the next server opens the store', async () => {
    const fake = await startFakeModelServer();
    const workspace = makeWorkspace(FILES);
    git(workspace.root, 'init', '--quiet');
    git(workspace.root, 'add', '-A');
    git(workspace.root, 'commit', '--quiet', '-m', 'fixture');
    writeConfig(workspace, fake);
    const stored = await runCodebench(['policy', 'allow', 'node', 'sleep.js'], { cwd: workspace.root, env: cliEnv(workspace) });
    expect(stored.code, stored.stderr).toBe(0);
    try {
      const first = TestClient.start({ profile: 'neovim', workspace });
      await first.initialize();
      fake.enqueue(runTurn('node sleep.js'), { text: 'never' });
      void first.request(Requests.ask.method, { uri: workspace.uri('src/answer.js'), instruction: 'sleep', provider: 'ollama' }).catch(() => undefined);
      await eventually(async () => expect(leftovers(workspace)).toMatchObject({ copies: [expect.stringMatching(/^\d+-commands-/)], worktrees: [expect.any(String)] }), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      first.child.kill('SIGKILL');
      await new Promise((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve(null) : first.child.once('exit', resolve)));
      first.connection.dispose();
      // Nothing removed it: the process that would have is gone.
      expect(leftovers(workspace).copies).toHaveLength(1);

      const second = TestClient.start({ profile: 'neovim', workspace });
      await second.initialize();
      await second.request(Requests.sessions.method, {});
      expect(leftovers(workspace)).toEqual({ copies: [], worktrees: [] });
      expect(await second.stop()).toBe(0);
    } finally {
      await fake.close();
    }
  }, 30_000);
});
