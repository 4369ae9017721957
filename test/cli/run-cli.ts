import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCodebench, type CliResult } from './terminal.js';

export { BIN, runCodebench, type CliResult } from './terminal.js';

/** A throw-away user: own HOME, config path, data directory and workspace, nothing inherited. */
export interface CliSandbox {
  root: string;
  /** The cwd the CLI runs in; not a git repository, so it is its own workspace. */
  workspace: string;
  workspaceUri: string;
  dataDir: string;
  databaseFile: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

// Anything that could reach a real account or colour the output is left out of the child's env.
const INHERITED = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT', 'TMPDIR'];

export function createCliSandbox(prefix = 'codebench-cli-'): CliSandbox {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const workspace = join(root, 'workspace');
  const dataDir = join(root, 'data');
  const home = join(root, 'home');
  for (const dir of [workspace, home]) mkdirSync(dir, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name];
  // The config is found where a user's would be ($XDG_CONFIG_HOME), not through CODEBENCH_CONFIG:
  // a CODEBENCH_CONFIG naming a missing file is an error, and most tests run without a config.
  const configPath = join(home, '.config', 'codebench', 'config.json');
  mkdirSync(join(home, '.config', 'codebench'), { recursive: true });
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    CODEBENCH_DATA_DIR: dataDir,
  });
  return {
    root,
    workspace,
    workspaceUri: pathToFileURL(workspace).href,
    dataDir,
    databaseFile: join(dataDir, 'codebench.db'),
    configPath,
    env,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** `codebench ARGS` in the sandbox, with pipes (never a terminal). */
export function runInSandbox(
  sandbox: CliSandbox,
  args: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; prefix?: string[] } = {},
): Promise<CliResult> {
  return runCodebench(args, {
    cwd: options.cwd ?? sandbox.workspace,
    env: { ...sandbox.env, ...options.env },
    input: options.input,
    timeoutMs: options.timeoutMs,
    prefix: options.prefix,
  });
}
