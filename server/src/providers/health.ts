import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ProviderConfig } from '../config/schema.js';
import { resolveApiKey } from './keys.js';
import { checkGgufFile, providerModelPath } from './model-files.js';
import { DEFAULT_BASE_URL, DEFAULT_KEY_ENV } from './registry.js';

/**
 * Whether a provider can work right now: key present, endpoint reachable with a cheap request,
 * model pulled (Ollama), CLI installed. Shared by `codebench doctor` and the server's
 * `codebench/health` (Neovim's :checkhealth). A check returns problems with their fix; it never throws.
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

const DEFAULT_CLI_COMMAND: Record<string, string> = { 'claude-cli': 'claude', 'codex-cli': 'codex' };

/** The variable a provider's key is read from; undefined when it needs none (local servers). */
export function keyEnvOf(provider: ProviderConfig): string | undefined {
  if (provider.kind === 'claude-cli' || provider.kind === 'codex-cli') return undefined;
  return provider.apiKeyEnv ?? DEFAULT_KEY_ENV[provider.kind];
}

export function baseUrlOf(provider: ProviderConfig): string | undefined {
  return (provider.baseURL ?? DEFAULT_BASE_URL[provider.kind as keyof typeof DEFAULT_BASE_URL])?.replace(/\/+$/, '');
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
  const secrets: string[] = [];
  const checks = await probeProvider(name, provider, env, timeoutMs, secrets);
  // A last guard for keys from the keychain, which doctor's own env-based redaction cannot know.
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return checks.map((check) => ({ ...check, message: scrub(check.message), ...(check.fix !== undefined ? { fix: scrub(check.fix) } : {}) }));
}

async function probeProvider(name: string, provider: ProviderConfig, env: NodeJS.ProcessEnv, timeoutMs: number, secrets: string[]): Promise<Check[]> {
  const label = `provider ${name}`;
  if (provider.kind === 'claude-cli' || provider.kind === 'codex-cli') {
    const command = provider.command ?? DEFAULT_CLI_COMMAND[provider.kind] ?? provider.kind;
    const found = findExecutable(command, env.PATH);
    if (found) return [ok(label, `${provider.kind}: ${found}`)];
    const where = command.includes('/') ? `${command} does not exist or is not executable` : `${command} is not on PATH`;
    return [error(label, `${provider.kind}: ${where}`, `install it, or set providers.${name}.command to its full path`)];
  }
  if (provider.kind === 'llama-cpp') {
    // In process: nothing to reach; the model file must be there and be GGUF (doctor-llama.ts checks the runtime).
    const path = providerModelPath(provider, env);
    const problem = await checkGgufFile(path);
    if (!problem) return [ok(label, `llama-cpp: ${path}`)];
    const fix = provider.modelPath ? `correct providers.${name}.modelPath` : `run \`codebench models pull ${provider.model}\`, or set providers.${name}.modelPath`;
    return [error(label, `llama-cpp: ${problem}`, fix)];
  }
  const baseURL = baseUrlOf(provider);
  if (!baseURL) return [error(label, `kind "${provider.kind}" needs a baseURL`, `set providers.${name}.baseURL, e.g. http://127.0.0.1:8080/v1`)];
  const keyEnv = keyEnvOf(provider);
  // Env var first, then the OS keychain, exactly as a real call resolves it.
  const resolved = await resolveApiKey(name, provider, env);
  if (!resolved.ok) {
    const fix = resolved.keychainUnavailable
      ? `${keyEnv ? `export ${keyEnv}=… in the environment your editor starts codebench from` : `set providers.${name}.apiKeyEnv and export that variable`}, or make a keychain available (see the message)`
      : `run \`codebench keys set ${name}\`${keyEnv ? `, or export ${keyEnv}=… in the environment your editor starts codebench from` : ''}`;
    return [error(label, resolved.message, fix)];
  }
  const key = resolved.apiKey;
  if (key && key.length >= 4) secrets.push(key);
  const checks: Check[] = [];
  if (resolved.source === 'env') checks.push(ok(label, `API key found in ${resolved.env}`));
  if (resolved.source === 'keychain') checks.push(ok(label, `API key found in the OS keychain (codebench/${name}, ${maskKey(resolved.apiKey)})`));
  const where = resolved.source === 'keychain' ? `the OS keychain entry (codebench keys set ${name})` : keyEnv;

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
    const fix = where ? `check the key in ${where}` : `set providers.${name}.apiKeyEnv to the variable holding this server's key, or store it with \`codebench keys set ${name}\` and set "apiKey": "keychain"`;
    const what = where ? `key rejected: ${shown} refused the key in ${where}` : `${shown} requires a key`;
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
