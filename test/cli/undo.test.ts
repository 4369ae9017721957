import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TEST_KEYS, writeConfig, type Workspace } from '../e2e/harness.js';
import { HAVE_SCRIPT, runCodebench, TerminalSession } from './terminal.js';

/**
 * `codebench undo` through the built CLI on real files: the reverse diff first, then the same
 * convention as `ask` (a terminal asks, --yes applies, neither applies nothing and says so, exit
 * 0); a conflict is one line naming file and lines, exit 1, nothing written; short ids work.
 */

const lines = (name: string, count: number) => Array.from({ length: count }, (_, index) => `${name}${index + 1} = ${index + 1}\n`).join('');
const A = lines('a', 15);
const B = lines('b', 15);
const A_AGENT = A.replace('a8 = 8', 'a8 = 80');
const B_AGENT = B.replace('b3 = 3', 'b3 = 30');

describe('codebench undo', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let env: NodeJS.ProcessEnv;
  const disk = (path: string) => readFileSync(join(workspace.root, path), 'utf8');
  const cli = (args: string[]) => runCodebench(args, { cwd: workspace.root, env });
  const sessionId = async () => JSON.parse((await cli(['history', 'list', '--json'])).stdout)[0].id as string;

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    workspace = makeWorkspace({ 'a.py': A, 'b.py': B, '.git/HEAD': 'ref: refs/heads/main\n' });
    writeConfig(workspace, fake);
    env = { PATH: process.env.PATH, HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, NO_COLOR: '1', ...TEST_KEYS };
    fake.enqueue(
      {
        toolCalls: [
          { name: 'edit_file', args: { path: 'a.py', old_string: 'a8 = 8', new_string: 'a8 = 80' } },
          { name: 'edit_file', args: { path: 'b.py', old_string: 'b3 = 3', new_string: 'b3 = 30' } },
        ],
      },
      { text: 'Done.' },
    );
    const asked = await cli(['ask', '--yes', 'bump a8 and b3']);
    expect(asked.code, asked.stderr).toBe(0);
    expect([disk('a.py'), disk('b.py')]).toEqual([A_AGENT, B_AGENT]);
  });

  it('without a terminal and without --yes: prints the reverse diff, applies nothing and says so (exit 0); --yes reverts', async () => {
    const dry = await cli(['undo']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Undo 2 files (+2 −2)');
    expect(dry.stdout).toContain('-a8 = 80\n+a8 = 8\n');
    expect(dry.stdout).toContain('-b3 = 30\n+b3 = 3\n');
    expect(dry.stderr).toBe('not reverted (no terminal to confirm); rerun with --yes to revert\n');
    expect([disk('a.py'), disk('b.py')]).toEqual([A_AGENT, B_AGENT]);

    // A line of the user's far from the agent's is kept.
    writeFileSync(join(workspace.root, 'a.py'), `${A_AGENT}mine = 1\n`);
    const done = await cli(['undo', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toBe('reverted "2 files (+2 −2)" in a.py, b.py\n');
    expect([disk('a.py'), disk('b.py')]).toEqual([`${A}mine = 1\n`, B]);

    const again = await cli(['undo', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('no applied agent change to undo in this workspace');
    const history = await cli(['history', 'show', await sessionId()]);
    expect(history.stdout).toContain('### Proposal · reverted');
  });

  it('a conflict is one line naming the file and lines, exit 1, and nothing is written', async () => {
    const mine = A_AGENT.replace('a8 = 80', 'a8 = 81');
    writeFileSync(join(workspace.root, 'a.py'), mine);
    const result = await cli(['undo', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('not reverted: you changed a.py line 8 since the agent wrote them; nothing was changed\n');
    expect([disk('a.py'), disk('b.py')]).toEqual([mine, B_AGENT]);
  });

  it('takes a short id as `history show` prints it; an unknown one is a usage error', async () => {
    const shown = await cli(['history', 'show', await sessionId()]);
    const id = /Proposal id: `([0-9a-f]{8})`/.exec(shown.stdout)?.[1];
    expect(id, shown.stdout).toBeDefined();
    const result = await cli(['undo', id!, '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect([disk('a.py'), disk('b.py')]).toEqual([A, B]);
    const unknown = await cli(['undo', 'ffffffff']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no proposal matches "ffffffff"');
  });

  it.skipIf(!HAVE_SCRIPT)('on a terminal it asks Apply / Discard; Enter alone keeps the files, "a" reverts', async () => {
    const kept = TerminalSession.start(['undo'], { cwd: workspace.root, env });
    await kept.waitFor('Revert these changes? [a]pply / [d]iscard (default: discard):');
    kept.type('\r');
    expect(await kept.exited).toBe(0);
    expect([disk('a.py'), disk('b.py')]).toEqual([A_AGENT, B_AGENT]);

    const applied = TerminalSession.start(['undo'], { cwd: workspace.root, env });
    await applied.waitFor('Revert these changes?');
    applied.type('a\r');
    expect(await applied.exited).toBe(0);
    await applied.waitFor('reverted "2 files (+2 −2)" in a.py, b.py');
    expect([disk('a.py'), disk('b.py')]).toEqual([A, B]);
  });
});
