import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
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
export function checkConfigFile(path: string): { check: Check; config?: Config } {
  if (!statOrUndefined(path)) {
    return { check: ok('config', `${path} not found: using built-in defaults: local Ollama`), config: resolveConfig([]) };
  }
  try {
    const config = resolveConfig([{ source: path, config: readConfigFile(path) }]);
    return { check: ok('config', `${path} is valid`), config };
  } catch (problem) {
    if (!(problem instanceof ConfigError)) throw problem;
    return { check: error('config', problem.message, `fix the key named above in ${path}, or start over with codebench config init --force`) };
  }
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
  const fix = `move it aside (mv ${file} ${file}.broken, with its -wal and -shm files); codebench creates a new one`;
  const { default: Database } = await import('better-sqlite3');
  let db: InstanceType<typeof Database> | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const results = rows.map((row) => row.integrity_check);
    if (results.length === 1 && results[0] === 'ok') checks.push(ok('database', `${file} passes the integrity check`));
    else checks.push(error('database', `${file} is damaged: ${results.slice(0, 3).join('; ')}`, fix));
  } catch (problem) {
    const code = String((problem as { code?: unknown }).code ?? '');
    const what = code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' ? 'is damaged' : 'cannot be read';
    checks.push(error('database', `${file} ${what}: ${(problem as Error).message}`, fix));
  } finally {
    db?.close();
  }
  if ((stat.mode & 0o777) !== 0o600) {
    checks.push(warning('database permissions', `${file} is mode ${octal(stat.mode)}; history holds your prompts and code`, `chmod 600 ${file}`));
  }
  return checks;
}

export function checkDataDirectory(directory: string): Check | undefined {
  const stat = statOrUndefined(directory);
  if (!stat || (stat.mode & 0o077) === 0) return undefined;
  return warning('data directory', `${directory} is accessible to other users (mode ${octal(stat.mode)})`, `chmod 700 ${directory}`);
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

/** Editor set-up as far as it can be seen from PATH and config files: warnings at most. */
export async function checkEditors(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const home = env.HOME;
  const configHome = env.XDG_CONFIG_HOME || (home ? join(home, '.config') : undefined);
  const mentions = (relative: string) => (configHome ? mentionsCodebench(join(configHome, relative)) : false);
  const checks: Check[] = [];

  const self = findExecutable('codebench', env.PATH);
  checks.push(self ? ok('codebench on PATH', self) : warning('codebench on PATH', 'editors start `codebench lsp`, but codebench is not on PATH', 'npm install -g codebench, or put bin/codebench.js on PATH'));

  const nvim = findExecutable('nvim', env.PATH);
  if (nvim) {
    const version = await commandVersion(nvim, env);
    const [, major = '0', minor = '0'] = /v(\d+)\.(\d+)/.exec(version ?? '') ?? [];
    const old = Number(major) === 0 && Number(minor) < 10;
    const configured = mentions('nvim');
    const message = `${version ?? 'nvim (version unknown)'}; ${configured ? 'its config mentions codebench' : 'its config does not mention codebench'}`;
    if (old) checks.push(warning('neovim', message, 'upgrade to Neovim 0.10 or later (0.11 for vim.lsp.config)'));
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
