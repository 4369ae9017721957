import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TEST_KEYS, writeConfig, type Workspace } from '../e2e/harness.js';
import { runCodebench } from './terminal.js';

const SOURCE = 'def greet(name):\n    return "hi " + name\n';
const PASS = 'node -e "process.exit(0)"';
const FAILING = `node -e "console.log('two-failing');process.exit(3)"`;

describe('codebench ask: the evidence before Apply, and --run', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    workspace = makeWorkspace({ 'greet.py': SOURCE, '.git/HEAD': 'ref: refs/heads/main\n' });
    writeConfig(workspace, fake);
    env = { PATH: process.env.PATH, HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, NO_COLOR: '1', ...TEST_KEYS };
    // Without a terminal only a rule lets a command run.
    for (const words of [['node', '-e', 'process.exit(0)'], ['node', '-e', "console.log('two-failing');process.exit(3)"]]) {
      const added = await runCodebench(['policy', 'allow', '--', ...words], { cwd: workspace.root, env });
      expect(added.code, added.stderr).toBe(0);
    }
  });

  it('prints what the command after the last edit proved right after the diff, before the apply decision', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'greet.py', old_string: '"hi "', new_string: '"hello "' } }] },
      { toolCalls: [{ name: 'run_command', args: { command: PASS } }] },
      { text: 'Says hello; the check passes.' },
    );
    const result = await runCodebench(['ask', 'say hello'], { cwd: workspace.root, env });
    expect(result.code, result.stderr).toBe(0);
    const checked = result.stdout.indexOf(`Checked: ${PASS} passed after the last edit`);
    expect(checked).toBeGreaterThan(result.stdout.indexOf('+    return "hello " + name'));
    expect(result.stdout.indexOf('Proposed changes: greet.py (+1 −1)')).toBeGreaterThan(-1);
    expect(result.stderr).toContain('not applied (no terminal to confirm)');
    expect(readFileSync(join(workspace.root, 'greet.py'), 'utf8')).toBe(SOURCE);
  });

  it('--run runs the command first and gives its output and exit code to the model with the instruction', async () => {
    const before = fake.modelRequests.length;
    fake.enqueue({ text: 'The check prints two-failing and exits 3.' });
    const result = await runCodebench(['ask', '--run', FAILING, 'make the check pass'], { cwd: workspace.root, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`→ running ${FAILING}`);
    const messages = fake.modelRequests[before]!.body.messages as Array<{ role: string; content: string }>;
    const first = messages.find((message) => message.role === 'user')!.content;
    expect(first).toContain('Request: make the check pass');
    expect(first).toContain(`Output of \`${FAILING}\` (exit 3)`);
    expect(first).toContain('two-failing');
  });

  it('--run with an empty command is a usage error naming the option', async () => {
    const result = await runCodebench(['ask', '--run', ' ', 'make the check pass'], { cwd: workspace.root, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--run: the command is empty');
  });
});
