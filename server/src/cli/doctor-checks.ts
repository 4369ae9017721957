import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, readConfigFile, resolveConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { type Check, findExecutable } from '../providers/health.js';

export { baseUrlOf, checkProvider, findExecutable, keyEnvOf, maskKey, maskSecrets, type Check, type CheckStatus } from '../providers/health.js';

const ok = (name: string, message: string): Check => ({ name, status: 'ok', message });
const warning = (name: string, message: string, fix: string): Check => ({ name, status: 'warning', message, fix });
const error = (name: string, message: string, fix: string): Check => ({ name, status: 'error', message, fix });

/**
 * The checks behind `codebench doctor`, one small function each so tests can call them directly.
 * A check never throws for a problem it is looking for: it returns it, phrased with the fix.
 */

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

export function checkNode(version = process.versions.node): Check {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > 20 || (major === 20 && minor >= 19)) return ok('node', `Node ${version}`);
  return error('node', `Node ${version} is too old`, 'install Node 20.19 or later');
}

/** The effective config (defaults + file) when it is valid, with the check that says so. */
export function checkConfigFile(path: string, namedBy?: string): { check: Check; config?: Config } {
  if (!statOrUndefined(path) && !namedBy) {
    return { check: ok('config', `${path} not found: using built-in defaults: local Ollama`), config: resolveConfig([]) };
  }
  try {
    const config = resolveConfig([{ source: path, config: readConfigFile(path, namedBy) }]);
    return { check: ok('config', `${path} is valid`), config };
  } catch (problem) {
    if (!(problem instanceof ConfigError)) throw problem;
    return { check: error('config', problem.message, configFix(problem, path, namedBy)) };
  }
}

/** Names the keys only when the message does: a JSON syntax error or a missing file has none. */
function configFix(problem: ConfigError, path: string, namedBy: string | undefined): string {
  if (!statOrUndefined(path)) return `codebench config init writes a starter config there, or unset ${namedBy ?? 'CODEBENCH_CONFIG'}`;
  const keys = problem.keys.length === 1 ? `the key ${problem.keys[0]}` : `the keys ${problem.keys.join(', ')}`;
  const what = problem.keys.length > 0 ? keys : 'the place named above';
  return `fix ${what} in ${path}, or start over with codebench config init --force`;
}

export function checkConfigPermissions(path: string): Check | undefined {
  const stat = statOrUndefined(path);
  if (!stat || (stat.mode & 0o022) === 0) return undefined;
  return warning('config permissions', `${path} is writable by others (mode ${octal(stat.mode)}): they could point codebench at their server`, `chmod 600 ${path}`);
}

/** Opens the history read-only and runs the full integrity check (quick_check skips index contents). */
export async function checkDatabase(file: string): Promise<Check[]> {
  const stat = statOrUndefined(file);
  if (!stat) return [ok('database', `${file} does not exist yet: it will be created on first use`)];
  const checks: Check[] = [];
  // Only a damaged file is worth moving aside; one that cannot be opened for lack of permission is
  // fine, and a new one could not be created beside it anyway.
  const moveAside = `move it aside (mv ${file} ${file}.broken, with its -wal and -shm files); codebench creates a new one`;
  const permissions = `make ${file} and ${dirname(file)} writable by you (ls -ld them), or set CODEBENCH_DATA_DIR to a writable directory`;
  const { default: Database } = await import('better-sqlite3');
  let db: InstanceType<typeof Database> | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const results = rows.map((row) => row.integrity_check);
    if (results.length === 1 && results[0] === 'ok') checks.push(ok('database', `${file} passes the integrity check`));
    else checks.push(error('database', `${file} is damaged: ${results.slice(0, 3).join('; ')}`, moveAside));
  } catch (problem) {
    const code = String((problem as { code?: unknown }).code ?? '');
    const damaged = code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
    checks.push(error('database', `${file} ${damaged ? 'is damaged' : 'cannot be opened'}: ${(problem as Error).message}`, damaged ? moveAside : permissions));
  } finally {
    db?.close();
  }
  if (!writable(file)) checks.push(error('database writable', `${file} is read-only: codebench cannot record history`, permissions));
  if ((stat.mode & 0o777) !== 0o600) {
    checks.push(warning('database permissions', `${file} is mode ${octal(stat.mode)}; history holds your prompts and code`, `chmod 600 ${file}`));
  }
  return checks;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether codebench can create its files there (the directory, or the nearest ancestor it would
 * be made in), and whether others can read them.
 */
export function checkDataDirectory(directory: string): Check[] {
  const checks: Check[] = [];
  let existing = directory;
  while (!statOrUndefined(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!writable(existing)) {
    const what = existing === directory ? `${directory} is not writable` : `${directory} cannot be created (${existing} is not writable)`;
    checks.push(error('history location', `${what}: codebench cannot record history`, `make ${existing} writable by you, or set CODEBENCH_DATA_DIR to a writable directory`));
  } else {
    checks.push(ok('history location', `${directory} is writable`));
  }
  const stat = statOrUndefined(directory);
  if (stat && (stat.mode & 0o077) !== 0) {
    checks.push(warning('data directory', `${directory} is accessible to other users (mode ${octal(stat.mode)})`, `chmod 700 ${directory}`));
  }
  return checks;
}

/** Whether a config file, or any small text file under a config directory, names codebench. */
export function mentionsCodebench(path: string, depth = 4): boolean {
  const stat = statOrUndefined(path);
  if (stat?.isFile()) {
    if (stat.size > 1_000_000) return false;
    try {
      return readFileSync(path, 'utf8').includes('codebench');
    } catch {
      return false;
    }
  }
  if (!stat?.isDirectory() || depth === 0) return false;
  let entries: string[];
  try {
    entries = readdirSync(path).filter((entry) => !entry.startsWith('.')).slice(0, 500);
  } catch {
    return false;
  }
  return entries.some((entry) => mentionsCodebench(join(path, entry), depth - 1));
}

const execFileAsync = promisify(execFile);

/** First line of `nvim --version`, e.g. "NVIM v0.11.1"; undefined when it fails or hangs. */
export async function commandVersion(file: string, env: NodeJS.ProcessEnv, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(file, ['--version'], { env, timeout: timeoutMs, windowsHide: true });
    return stdout.split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * codebench is not in the npm registry (`npm install -g codebench` installs nothing of ours): it
 * is installed from its checkout, which is the package this code runs from.
 */
function installAdvice(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'codebench') {
        return `run npm link in ${directory} (or there: npm pack, then npm install -g ./codebench-${manifest.version ?? '<version>'}.tgz)`;
      }
    } catch {
      // Not the package root yet.
    }
    const parent = dirname(directory);
    if (parent === directory) return 'run npm link in the codebench checkout (or npm pack there, then npm install -g ./codebench-<version>.tgz)';
    directory = parent;
  }
}

/** Neovim 0.10 has no vim.lsp.config: the plugin (which starts the server with vim.lsp.start there), or vim.lsp.start itself. */
const NEOVIM_010_ADVICE =
  "use the plugin in clients/nvim: link it into ~/.local/share/nvim/site/pack/codebench/opt/codebench, then vim.cmd.packadd('codebench') and require('codebench').setup({}) in init.lua (or, without it, vim.lsp.start({ name = 'codebench', cmd = { 'codebench', 'lsp' }, root_dir = vim.fn.getcwd() }) on BufEnter); vim.lsp.config needs Neovim 0.11";

/** Editor set-up as far as it can be seen from PATH and config files: warnings at most. */
export async function checkEditors(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const home = env.HOME;
  const configHome = env.XDG_CONFIG_HOME || (home ? join(home, '.config') : undefined);
  const mentions = (relative: string) => (configHome ? mentionsCodebench(join(configHome, relative)) : false);
  const checks: Check[] = [];

  const self = findExecutable('codebench', env.PATH);
  checks.push(self ? ok('codebench on PATH', self) : warning('codebench on PATH', 'editors start `codebench lsp`, but codebench is not on PATH', installAdvice()));

  const nvim = findExecutable('nvim', env.PATH);
  if (nvim) {
    const version = await commandVersion(nvim, env);
    const [, major = '0', minor = '0'] = /v(\d+)\.(\d+)/.exec(version ?? '') ?? [];
    const old = Number(major) === 0 && Number(minor) < 10;
    // vim.lsp.config and vim.lsp.enable arrived in 0.11: a 0.10 user is told what works there.
    const before011 = Number(major) === 0 && Number(minor) < 11;
    const configured = mentions('nvim');
    const message = `${version ?? 'nvim (version unknown)'}; ${configured ? 'its config mentions codebench' : 'its config does not mention codebench'}`;
    if (old) checks.push(warning('neovim', message, 'upgrade to Neovim 0.10 or later (0.11 for vim.lsp.config)'));
    else if (!configured && before011) checks.push(warning('neovim', message, NEOVIM_010_ADVICE));
    else if (!configured) checks.push(warning('neovim', message, "add vim.lsp.config('codebench', { cmd = { 'codebench', 'lsp' } }) and vim.lsp.enable('codebench')"));
    else checks.push(ok('neovim', message));
  } else checks.push(ok('neovim', 'nvim not on PATH (skipped)'));

  const hx = findExecutable('hx', env.PATH) ?? findExecutable('helix', env.PATH);
  if (hx && mentions('helix/languages.toml')) checks.push(ok('helix', `${hx}; languages.toml mentions codebench`));
  else if (hx) checks.push(warning('helix', `${hx}; languages.toml does not mention codebench`, 'add [language-server.codebench] command = "codebench", args = ["lsp"] and list it in language-servers'));
  else checks.push(ok('helix', 'hx not on PATH (skipped)'));

  const zed = findExecutable('zed', env.PATH) ?? findExecutable('zeditor', env.PATH);
  const zedConfigured = mentions('zed/settings.json');
  if (zedConfigured) checks.push(ok('zed', 'settings.json mentions codebench'));
  else if (zed) checks.push(warning('zed', `${zed}; settings.json does not mention codebench`, 'add codebench under "lsp" in ~/.config/zed/settings.json'));
  else checks.push(ok('zed', 'zed not found (skipped)'));
  return checks;
}
