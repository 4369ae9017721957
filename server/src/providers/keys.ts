import type { ProviderConfig } from '../config/schema.js';
import { keychainOptions, KeychainUnavailableError, osKeychain, type Keychain } from './keychain.js';

/**
 * Where a provider's API key comes from, decided at call time and never stored: the environment
 * variable first (apiKeyEnv, else the kind's default), then the OS keychain (service "codebench",
 * account = provider name). Used by the HTTP transports (registry.ts), doctor/health, and the
 * claude/codex CLI providers, which pass the key to their child process.
 */

/** Variables a kind reads its key from when the config names none. */
export const DEFAULT_KEY_ENV: Partial<Record<ProviderConfig['kind'], string>> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};

/**
 * The variable the CLI agents read their key from; a key found for a claude-cli/codex-cli
 * provider is passed to the child under this name. Not a default for lookups: the CLIs have
 * their own login and need no key from us.
 */
export const CLI_KEY_ENV: Partial<Record<ProviderConfig['kind'], string>> = {
  'claude-cli': 'ANTHROPIC_API_KEY',
  // `codex exec` ignores OPENAI_API_KEY for its built-in provider; it reads CODEX_API_KEY.
  'codex-cli': 'CODEX_API_KEY',
};

export type KeySource = 'env' | 'keychain';

export type ResolvedKey =
  /** `env` names the variable when the key came from one. */
  | { ok: true; apiKey: string; source: KeySource; env?: string }
  /** This provider needs no key (a local server) and none is configured. */
  | { ok: true; apiKey: undefined; source: 'none' }
  /** A key is needed and none was found; `message` says where we looked and what to do. */
  | { ok: false; message: string; keychainUnavailable: boolean };

/** The environment variable this provider's key is read from, if any. */
export function keyEnvFor(config: ProviderConfig): string | undefined {
  return config.apiKeyEnv ?? DEFAULT_KEY_ENV[config.kind];
}

/**
 * Resolves the key for one call. The keychain is consulted only when the provider needs a key
 * (openai/anthropic, or any provider naming apiKeyEnv) and the variable is unset, or when the
 * config says `"apiKey": "keychain"`: local providers never touch the keychain.
 */
export async function resolveApiKey(
  name: string,
  config: ProviderConfig,
  env: NodeJS.ProcessEnv,
  keychain: Keychain = osKeychain(),
): Promise<ResolvedKey> {
  const keyEnv = keyEnvFor(config);
  const fromEnv = keyEnv ? env[keyEnv]?.trim() : undefined;
  if (keyEnv && fromEnv) return { ok: true, apiKey: fromEnv, source: 'env', env: keyEnv };
  const explicit = config.apiKey === 'keychain';
  if (!explicit && !keyEnv) return { ok: true, apiKey: undefined, source: 'none' };

  let stored: string | undefined;
  let problem: KeychainUnavailableError | undefined;
  try {
    stored = (await keychain.get(name))?.trim() || undefined;
  } catch (error) {
    if (!(error instanceof KeychainUnavailableError)) throw error;
    problem = error;
  }
  if (stored) return { ok: true, apiKey: stored, source: 'keychain' };

  const envPart = keyEnv ? `the environment variable ${keyEnv} is not set or empty` : undefined;
  if (problem) {
    const what = [envPart, `the OS keychain is not available (${problem.reason})`].filter(Boolean).join(', and ');
    return {
      ok: false,
      keychainUnavailable: true,
      message: `Provider "${name}" needs an API key, but ${what}. ${keychainOptions(keyEnv)}`,
    };
  }
  const store = `store it with \`codebench keys set ${name}\``;
  const exportIt = keyEnv ? `, or export ${keyEnv} in the environment the editor starts codebench from` : '';
  const how = config.apiKeyEnv
    ? `The config names ${keyEnv} in "apiKeyEnv". `
    : keyEnv && !explicit
      ? `Kind "${config.kind}" reads ${keyEnv} by default; set "apiKeyEnv" to use another variable. `
      : '';
  const what = [envPart, `the OS keychain has no entry for "${name}"`].filter(Boolean).join(', and ');
  return {
    ok: false,
    keychainUnavailable: false,
    message: `Provider "${name}" needs an API key, but ${what}. ${how}To fix it, ${store}${exportIt}.`,
  };
}
