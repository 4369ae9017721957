import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, readConfigFile, resolveConfig } from '../config/load.js';
import type { Config, ProviderConfig } from '../config/schema.js';

/**
 * The checks behind `codebench doctor`, one small function each so tests can call them directly.
 * A check never throws for a problem it is looking for: it returns it, phrased with the fix.
 */

export type CheckStatus = 'ok' | 'warning' | 'error';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  /** What to do; present whenever status is not ok. */
  fix?: string;
}

const ok = (name: string, message: string): Check => ({ name, status: 'ok', message });
const warning = (name: string, message: string, fix: string): Check => ({ name, status: 'warning', message, fix });
const error = (name: string, message: string, fix: string): Check => ({ name, status: 'error', message, fix });

// Mirrors providers/registry.ts, which does not export its defaults.
const DEFAULT_BASE_URL: Record<string, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  ollama: 'http://127.0.0.1:11434',
};
const DEFAULT_KEY_ENV: Record<string, string> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };
const DEFAULT_CLI_COMMAND: Record<string, string> = { 'claude-cli': 'claude', 'codex-cli': 'codex' };

/** The variable a provider's key is read from; undefined when it needs none (local servers). */
export function keyEnvOf(provider: ProviderConfig): string | undefined {
  if (provider.kind === 'claude-cli' || provider.kind === 'codex-cli') return undefined;
  return provider.apiKeyEnv ?? DEFAULT_KEY_ENV[provider.kind];
}

export function baseUrlOf(provider: ProviderConfig): string | undefined {
  return (provider.baseURL ?? DEFAULT_BASE_URL[provider.kind])?.replace(/\/+$/, '');
}

/** Enough to recognise which key is set, never enough to use it: a short prefix and the last 4. */
export function maskKey(key: string): string {
  const value = key.trim();
  if (value.length < 12) return '…';
  const prefix = /^[A-Za-z]{2,4}[-_]/.exec(value)?.[0] ?? '';
  return `${prefix}…${value.slice(-4)}`;
}

/** Masks credentials that can hide in config values: URL user:password, key=… parameters, bare keys. */
export function maskSecrets(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@')
    .replace(/((?:^|[?&;\s-])[a-z0-9_-]*(?:key|token|secret|password|passwd|pwd|signature|sig|credential)[a-z0-9_-]*=)[^&#\s"]+/gi, '$1***')
    .replace(/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|\bAIza[0-9A-Za-z_-]{20,}/g, (key) => maskKey(key));
}

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

/** A fetch failure in words: connection refused, DNS, timeout. */
function describeFetchError(problem: unknown, timeoutMs: number): string {
  if ((problem as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  let current: unknown = problem;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return 'connection refused';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name could not be resolved';
    if (code) return `${code}: ${current.message}`;
    current = current.cause;
  }
  return (problem as Error).message;
}

/** Key, reachability and (Ollama) model presence for one provider; never prints the key. */
export async function checkProvider(name: string, provider: ProviderConfig, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Check[]> {
  const label = `provider ${name}`;
  if (provider.kind === 'claude-cli' || provider.kind === 'codex-cli') {
    const command = provider.command ?? DEFAULT_CLI_COMMAND[provider.kind] ?? provider.kind;
    const found = findExecutable(command, env.PATH);
    if (found) return [ok(label, `${provider.kind}: ${found}`)];
    const where = command.includes('/') ? `${command} does not exist or is not executable` : `${command} is not on PATH`;
    return [error(label, `${provider.kind}: ${where}`, `install it, or set providers.${name}.command to its full path`)];
  }
  const baseURL = baseUrlOf(provider);
  if (!baseURL) return [error(label, `kind "${provider.kind}" needs a baseURL`, `set providers.${name}.baseURL, e.g. http://127.0.0.1:8080/v1`)];
  const keyEnv = keyEnvOf(provider);
  const key = keyEnv ? env[keyEnv]?.trim() || undefined : undefined;
  const checks: Check[] = [];
  if (keyEnv && !key) {
    const fix = `export ${keyEnv}=… in the environment your editor starts codebench from`;
    return [error(label, `needs an API key, but ${keyEnv} is not set or empty${provider.apiKeyEnv ? ' (apiKeyEnv)' : ''}`, fix)];
  }
  if (keyEnv) checks.push(ok(label, `API key found in ${keyEnv}`));

  const shown = maskSecrets(baseURL);
  const headers: Record<string, string> = {};
  let url: string;
  if (provider.kind === 'anthropic') {
    url = `${baseURL}/v1/models`;
    headers['anthropic-version'] = '2023-06-01';
    if (key) headers['x-api-key'] = key;
  } else {
    // An Ollama behind an authenticating proxy gets the bearer token too, as the transport sends it.
    url = provider.kind === 'ollama' ? `${baseURL}/api/tags` : `${baseURL}/models`;
    if (key) headers.authorization = `Bearer ${key}`;
  }
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (problem) {
    const fix = provider.kind === 'ollama' ? `start Ollama with \`ollama serve\` (or fix providers.${name}.baseURL)` : `check that the server is up and providers.${name}.baseURL is right`;
    return [...checks, error(label, `cannot reach ${provider.kind} at ${shown}: ${maskSecrets(describeFetchError(problem, timeoutMs))}`, fix)];
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    const fix = keyEnv ? `check the key in ${keyEnv}` : `set providers.${name}.apiKeyEnv to the variable holding this server's key`;
    const what = keyEnv ? `key rejected: ${shown} refused the key in ${keyEnv}` : `${shown} requires a key`;
    return [...checks, error(label, `${what} (HTTP ${response.status})`, fix)];
  }
  if (!response.ok) {
    await response.body?.cancel();
    return [...checks, warning(label, `${shown} answered HTTP ${response.status} to GET ${maskSecrets(url.slice(baseURL.length))}`, `check providers.${name}.baseURL`)];
  }
  if (provider.kind !== 'ollama') {
    await response.body?.cancel();
    return [...checks, ok(label, `${provider.kind} at ${shown} is reachable`)];
  }
  const tags = (await response.json().catch(() => undefined)) as { models?: Array<{ name?: string }> } | undefined;
  const names = (tags?.models ?? []).map((model) => model.name).filter((model): model is string => typeof model === 'string');
  checks.push(ok(label, `ollama at ${shown} is reachable (${names.length} models)`));
  // Ollama reports an untagged name with ":latest".
  const wanted = provider.model.includes(':') ? provider.model : `${provider.model}:latest`;
  if (names.includes(provider.model) || names.includes(wanted)) checks.push(ok(label, `model ${provider.model} is pulled`));
  else checks.push(warning(label, `model ${provider.model} is not pulled on ${shown}`, `ollama pull ${provider.model}`));
  return checks;
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

export function findExecutable(command: string, pathEnv: string | undefined): string | undefined {
  const candidates = command.includes('/') ? [command] : (pathEnv ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
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
