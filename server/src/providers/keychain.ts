/**
 * The OS keychain through @napi-rs/keyring: macOS Keychain, Windows Credential Manager, and on
 * Linux the Secret Service (gnome-keyring, KWallet, KeePassXC) with the kernel keyring (keyutils)
 * as fallback. Entries are service "codebench", account = provider name.
 *
 * The native module is imported on first use: start-up must not pay for it, and most runs (a
 * local Ollama) never touch it. Nothing here ever writes a file as a fallback: when no keychain
 * is reachable the caller gets a KeychainUnavailableError that says what to do.
 */

export const KEYCHAIN_SERVICE = 'codebench';

/** Secret Service calls can block on an unlock prompt; give up rather than hang a run. */
const TIMEOUT_MS = 15_000;

export interface Keychain {
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  /** True when an entry was removed, false when there was none. */
  delete(account: string): Promise<boolean>;
}

export class KeychainUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`The OS keychain is not available (${reason}). ${keychainOptions()}`);
    this.name = 'KeychainUnavailableError';
  }
}

/** The three ways out, named in every "no keychain" message. */
export function keychainOptions(keyEnv?: string): string {
  return [
    'On Linux codebench needs a Secret Service or the kernel keyring. Either run a Secret Service',
    "(e.g. gnome-keyring: `dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock --components=secrets; codebench …'` on a headless machine),",
    'or run codebench inside a kernel keyring session (`keyctl session - codebench …`, package keyutils),',
    keyEnv
      ? `or skip the keychain and export ${keyEnv} instead.`
      : 'or skip the keychain: set "apiKeyEnv" for this provider and export that variable instead.',
  ].join(' ');
}

interface AsyncEntryLike {
  getPassword(signal?: AbortSignal): Promise<string | null>;
  setPassword(password: string, signal?: AbortSignal): Promise<void>;
  deletePassword(signal?: AbortSignal): Promise<boolean>;
}
type KeyringModule = { AsyncEntry: new (service: string, account: string) => AsyncEntryLike };

let modulePromise: Promise<KeyringModule> | undefined;

async function loadKeyring(): Promise<KeyringModule> {
  modulePromise ??= import('@napi-rs/keyring').then((mod) => ((mod as { default?: KeyringModule }).default ?? mod) as KeyringModule);
  try {
    return await modulePromise;
  } catch (error) {
    modulePromise = undefined;
    throw new KeychainUnavailableError(`the keyring module could not be loaded: ${(error as Error).message}`);
  }
}

/**
 * The platform's errors ("Couldn't access platform storage: AccessDenied", "Platform failure:
 * DBus error: …") in one line; they never contain the secret, but are kept short anyway.
 */
function unavailable(error: unknown): KeychainUnavailableError {
  if (error instanceof KeychainUnavailableError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const line = raw.split('\n')[0]!.trim().slice(0, 200);
  if (/AccessDenied|NoStorageAccess/i.test(line)) return new KeychainUnavailableError(`no credential store accepted the request: ${line}`);
  return new KeychainUnavailableError(line || 'unknown error');
}

async function withTimeout<T>(what: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new KeychainUnavailableError(`no answer within ${TIMEOUT_MS / 1000} s; is the keyring locked?`));
    }, TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([what(controller.signal), timeout]);
  } catch (error) {
    throw unavailable(error);
  } finally {
    clearTimeout(timer);
  }
}

async function entry(account: string): Promise<AsyncEntryLike> {
  const { AsyncEntry } = await loadKeyring();
  try {
    return new AsyncEntry(KEYCHAIN_SERVICE, account);
  } catch (error) {
    throw unavailable(error);
  }
}

/** The real keychain. Stateless apart from the lazily loaded module, so one per caller is fine. */
export function osKeychain(): Keychain {
  return {
    async get(account) {
      const found = await withTimeout(async (signal) => (await entry(account)).getPassword(signal));
      return found ?? undefined;
    },
    async set(account, secret) {
      await withTimeout(async (signal) => (await entry(account)).setPassword(secret, signal));
    },
    async delete(account) {
      return withTimeout(async (signal) => (await entry(account)).deletePassword(signal));
    },
  };
}
