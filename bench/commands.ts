import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { commandEnvironment } from '../server/src/agent/commands/exec.js';
import { CommandGate, commandLimits } from '../server/src/agent/commands/gate.js';
import { runCommandTool } from '../server/src/agent/tools/run-command.js';
import { CommandWorkspace } from '../server/src/agent/workspace/command-workspace.js';
import { WorkspaceFiles } from '../server/src/agent/workspace/workspace-files.js';
import { Store } from '../server/src/store/store.js';
import { median, result, type Result } from './stats.js';

const FILES = 5_000;
const RUNS = 7;

/**
 * run_command in the run's private copy, through the real tool, gate (an allow rule in a real
 * store) and CommandWorkspace, on a generated 5,000-file git repository with an ignored
 * node_modules. Measured: from the tool call to the command's process running (the command prints
 * the clock as it starts), for a run's first command (the copy is made: worktree checkout, the
 * user's uncommitted work, the staged edit) and for a later one (one more staged edit to sync).
 */
export async function commandBenchmarks(): Promise<Result[]> {
  const base = mkdtempSync(join(tmpdir(), 'codebench-bench-commands-'));
  const root = join(base, 'repo');
  const store = await Store.open(join(base, 'codebench.db'));
  try {
    writeRepository(root);
    const workspaceUri = pathToFileURL(root).href;
    const session = await store.createSession({ workspaceUri, title: 'bench', provider: 'fake' });
    // The command prints the clock as it starts; an allow rule lets it run without a prompt.
    const clock = 'node -e "process.stdout.write(String(Date.now()))"';
    await store.addCommandRule({ workspaceUri, kind: 'allow', argv: ['node', '-e', 'process.stdout.write(String(Date.now()))'] });
    const nodeStartup = measureNodeStartup(root);

    const first: number[] = [];
    const later: number[] = [];
    const whole: number[] = [];
    const disposal: number[] = [];
    const floor: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      // Each run starts on a quiet disk, as a user's would: the files written just before (the
      // generated repository, the previous run's copy) are flushed first, or their write-back,
      // which blocks new files on this ext4 for seconds, is what gets measured.
      execFileSync('sync');
      // What the disk allows at this moment: the same 5,000 files written by cp, no git involved.
      const copying = Date.now();
      execFileSync('cp', ['-r', join(root, 'src'), join(base, `floor-${run}`)]);
      floor.push(Date.now() - copying);
      rmSync(join(base, `floor-${run}`), { recursive: true, force: true });
      const runId = (await store.createRun({ sessionId: session.id, provider: 'fake', model: 'm', instruction: 'bench' })).id;
      const commands = new CommandGate({ store, runId, sessionId: session.id, workspaceUri, limits: commandLimits(), env: commandEnvironment(process.env, []) });
      const workspace = new WorkspaceFiles([root], { get: () => undefined });
      const copy = new CommandWorkspace({ workspace, documents: { get: () => undefined }, shadowsDirectory: join(base, 'shadows') });
      const signal = new AbortController().signal;
      await stage(workspace, 'src/feature-1/module-1.ts', `export const edited = ${run};\n`);
      const started = Date.now();
      const firstResult = await runCommandTool.execute({ command: clock }, { workspace, signal, commands, commandWorkspace: copy });
      whole.push(Date.now() - started);
      first.push(startedAt(firstResult.output) - started);
      await stage(workspace, 'src/feature-2/module-2.ts', `export const edited = ${run};\n`);
      const again = Date.now();
      const laterResult = await runCommandTool.execute({ command: clock }, { workspace, signal, commands, commandWorkspace: copy });
      later.push(startedAt(laterResult.output) - again);
      const disposing = Date.now();
      await copy.dispose();
      disposal.push(Date.now() - disposing);
    }
    const spread = (samples: number[]) => `runs ${samples.map((sample) => Math.round(sample)).join(', ')} ms`;
    return [
      result(`first run_command of a run → command running (${FILES.toLocaleString('en')}-file git repo, copy made)`, median(first) - nodeStartup, 'ms', { max: 500 }, {
        floor: median(floor),
        note: `median of ${RUNS}, node's own start-up (${Math.round(nodeStartup)} ms) subtracted; ${spread(first)} with it; floor: cp -r of the same files (${spread(floor)})`,
      }),
      result('later run_command of the same run → command running (one staged edit synced)', median(later) - nodeStartup, 'ms', { max: 50 }, {
        note: `median of ${RUNS}, node start-up subtracted; ${spread(later)} with it`,
      }),
      result('first run_command, whole call (copy, command, changes taken back)', median(whole), 'ms', undefined, { note: spread(whole) }),
      result('removing the copy and its worktree entry at the end of the run', median(disposal), 'ms', undefined, { note: spread(disposal) }),
    ];
  } finally {
    await store.close();
    rmSync(base, { recursive: true, force: true });
  }
}

function writeRepository(root: string): void {
  for (let index = 0; index < FILES; index++) {
    const file = join(root, `src/feature-${index % 100}/module-${index}.ts`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `export const value${index} = ${index};\n`);
  }
  writeFileSync(join(root, '.gitignore'), 'node_modules/\n');
  writeFileSync(join(root, 'package.json'), '{ "name": "bench", "private": true }\n');
  for (let index = 0; index < 200; index++) {
    const file = join(root, `node_modules/dep-${index}/index.js`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'module.exports = 1;\n');
  }
  const env = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };
  execFileSync('git', ['init', '--quiet'], { cwd: root });
  execFileSync('git', ['add', '-A'], { cwd: root });
  execFileSync('git', ['commit', '--quiet', '-m', 'generated'], { cwd: root, env });
  // Uncommitted work the copy has to carry.
  writeFileSync(join(root, 'src/feature-3/module-3.ts'), 'export const uncommitted = true;\n');
}

async function stage(workspace: WorkspaceFiles, path: string, text: string): Promise<void> {
  const absolutePath = join(workspace.roots[0]!, path);
  await workspace.read(absolutePath);
  workspace.overlay.stage(absolutePath, text);
}

/** The clock the command printed as it started ("The command exited with code 0 after … s (in .).\n<ms>"). */
function startedAt(output: string): number {
  const printed = /\n(\d{13})\b/.exec(output)?.[1];
  if (printed === undefined) throw new Error(`bench: the command did not print its start time:\n${output}`);
  return Number(printed);
}

/** From spawning node to its first line of script, median of 5: part of every figure, not of the copy. */
function measureNodeStartup(cwd: string): number {
  const samples: number[] = [];
  for (let index = 0; index < 5; index++) {
    const before = Date.now();
    const printed = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))'], { cwd, encoding: 'utf8' });
    samples.push(Number(printed) - before);
  }
  return median(samples);
}
