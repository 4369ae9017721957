import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TEST_KEYS, writeConfig, type Workspace } from '../e2e/harness.js';
import { HAVE_SCRIPT, plain, runCodebench, TerminalSession } from './terminal.js';

const SOURCE = 'def greet(name):\n    return "hi " + name  # ünïcode ✓\n';
const EDITED = SOURCE.replace('"hi "', '"hello "');

describe('codebench ask and chat in a terminal', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    workspace = makeWorkspace({ 'greet.py': SOURCE, '.git/HEAD': 'ref: refs/heads/main\n' });
    writeConfig(workspace, fake);
    env = {
      PATH: process.env.PATH,
      HOME: workspace.dataDir,
      CODEBENCH_CONFIG: workspace.configFile,
      CODEBENCH_DATA_DIR: workspace.dataDir,
      NO_COLOR: '1',
      ...TEST_KEYS,
    };
  });

  const enqueueEdit = () =>
    fake.enqueue(
      { text: 'Looking at greet.', toolCalls: [{ name: 'edit_file', args: { path: 'greet.py', old_string: '"hi "', new_string: '"hello "' } }] },
      { text: 'Now it says hello.' },
    );

  async function withStore<T>(use: (store: Store) => Promise<T>): Promise<T> {
    const store = await Store.open(join(workspace.dataDir, 'codebench.db'));
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }

  it('ask --yes streams the answer, prints the diff and changes the file exactly', async () => {
    enqueueEdit();
    const result = await runCodebench(['ask', '--yes', '--file', 'greet.py', '--lines', '1:2', 'say hello instead of hi'], { cwd: workspace.root, env });
    expect(result.code).toBe(0);
    expect(readFileSync(join(workspace.root, 'greet.py'), 'utf8')).toBe(EDITED);
    expect(result.stdout).toContain('Looking at greet.');
    expect(result.stdout).toContain('Now it says hello.');
    expect(result.stdout).toContain('-    return "hi " + name');
    expect(result.stdout).toContain('+    return "hello " + name');
    expect(result.stderr).toContain('→ editing greet.py');
    expect(result.stderr).toContain('applied: greet.py');
    // The selection reached the model.
    expect(JSON.stringify(fake.modelRequests.at(-2)!.body)).toContain('Selected lines 1-2');
    await withStore(async (store) => {
      const [session] = await store.listSessions({});
      const proposals = await store.listProposals({ sessionId: session!.id });
      expect(proposals.map((proposal) => proposal.status)).toEqual(['applied']);
    });
    // No temporary files left beside the target.
    expect(readdirSync(workspace.root).sort()).toEqual(['.git', 'greet.py']);
  });

  it('ask without a terminal and without --yes prints the diff and applies nothing', async () => {
    enqueueEdit();
    const result = await runCodebench(['ask', 'say hello'], { cwd: workspace.root, env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+    return "hello " + name');
    expect(result.stderr).toContain('rerun with --yes');
    expect(readFileSync(join(workspace.root, 'greet.py'), 'utf8')).toBe(SOURCE);
    await withStore(async (store) => {
      const [session] = await store.listSessions({});
      const [proposal] = await store.listProposals({ sessionId: session!.id });
      expect(proposal).toMatchObject({ status: 'discarded', detail: expect.stringContaining('no --yes') });
    });
  });

  it('SIGINT mid-stream cancels the model call, records a cancelled run and writes nothing', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'greet.py', old_string: '"hi "', new_string: '"hey "' } }] },
      { text: 'one two three four five six seven eight nine ten', chunkDelayMs: 250 },
    );
    let sent = false;
    const result = await runCodebench(['ask', '--yes', 'slowly'], {
      cwd: workspace.root,
      env,
      onStdout: (stdout, child) => {
        if (!sent && stdout.includes('two')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('cancelled');
    expect(readFileSync(join(workspace.root, 'greet.py'), 'utf8')).toBe(SOURCE);
    expect(readdirSync(workspace.root).sort()).toEqual(['.git', 'greet.py']);
    await withStore(async (store) => {
      const [session] = await store.listSessions({});
      const [run] = await store.listRuns(session!.id);
      expect(run!.status).toBe('cancelled');
      const messages = await store.listMessages(session!.id);
      expect(messages.at(-1)!.content).toMatch(/^one two/);
      expect(await store.listProposals({ sessionId: session!.id })).toEqual([]);
    });
  });

  it.skipIf(!HAVE_SCRIPT)('in a terminal: the prompt\'s "a" applies, and Ctrl-C cancels a second run', async () => {
    enqueueEdit();
    const terminal = TerminalSession.start(['ask', 'say hello'], { cwd: workspace.root, env });
    await terminal.waitFor('Apply these changes? [a]pply / [d]iscard');
    terminal.type('a\r');
    expect(await terminal.exited).toBe(0);
    expect(readFileSync(join(workspace.root, 'greet.py'), 'utf8')).toBe(EDITED);

    fake.enqueue({ text: 'alpha beta gamma delta epsilon zeta eta theta', chunkDelayMs: 250 });
    const second = TerminalSession.start(['ask', 'talk'], { cwd: workspace.root, env });
    await second.waitFor('beta');
    second.type('\x03');
    expect(await second.exited).toBe(130);
    expect(plain(second.output)).toContain('cancelled');
    expect(plain(second.output)).not.toContain('theta');
  });

  it('chat continues a session across two invocations and applies with /apply', async () => {
    enqueueEdit();
    const first = await runCodebench(['chat'], { cwd: workspace.root, env, input: 'please say hello\n/apply\n/quit\n' });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Now it says hello.');
    expect(first.stderr).toContain('applied: greet.py');
    expect(readFileSync(join(workspace.root, 'greet.py'), 'utf8')).toBe(EDITED);
    const sessionId = /session ([0-9a-f-]{36})/.exec(first.stderr)![1]!;

    fake.enqueue({ text: 'Yes, I changed hi to hello.' });
    const second = await runCodebench(['chat', '--session', sessionId], { cwd: workspace.root, env, input: 'what did you change?\n' });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Yes, I changed hi to hello.');
    const sent = JSON.stringify(fake.modelRequests.at(-1)!.body.messages);
    expect(sent).toContain('please say hello');
    expect(sent).toContain('Now it says hello.');
    expect(sent).toContain('what did you change?');
    await withStore(async (store) => {
      const messages = await store.listMessages(sessionId);
      expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    });
  });

  it.skipIf(!HAVE_SCRIPT)('chat in a terminal: prompt, /sessions, /provider and Ctrl-D', async () => {
    fake.enqueue({ text: 'Hi there.' });
    const terminal = TerminalSession.start(['chat'], { cwd: workspace.root, env });
    await terminal.waitFor('you ›');
    terminal.type('hello\r');
    await terminal.waitFor('Hi there.');
    terminal.type('/provider nope\r');
    await terminal.waitFor('unknown provider "nope"');
    terminal.type('/sessions\r');
    await terminal.waitFor(/\* [0-9a-f-]{36} .* hello/);
    terminal.type('\x04');
    expect(await terminal.exited).toBe(0);
  });

  it('rejects bad flags and values with one line and status 2', async () => {
    const cases = [
      ['ask', '--lines', '5:2', '--file', 'greet.py', 'x'],
      ['ask', '--frobnicate', 'x'],
      ['ask', '--file', 'missing.py', 'x'],
      ['ask', '--provider', 'nope', 'x'],
      ['chat', '--session', 'nope'],
    ];
    for (const args of cases) {
      const result = await runCodebench(args, { cwd: workspace.root, env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const help = await runCodebench(['ask', '--help'], { cwd: workspace.root, env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--yes');
  });
});
