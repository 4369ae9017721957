import { execa } from 'execa';
import { killGroup } from '../../providers/subprocess.js';

export interface ProcessOptions {
  /** Either an argv run directly, or a script given to /bin/sh -c verbatim. */
  run: { argv: string[] } | { script: string };
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Bytes of output kept for the model: half from the start, half from the end. */
  outputLimit: number;
  signal: AbortSignal;
  /** After SIGTERM, how long before the process group gets SIGKILL. */
  killGraceMs?: number;
}

export interface ProcessResult {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** stdout and stderr interleaved, capped (head + "… N bytes omitted …" + tail). */
  output: string;
  totalBytes: number;
  /** The program could not be started (ENOENT, EACCES). */
  spawnError?: string;
}

/**
 * Runs one approved command. The child leads its own process group, so a timeout or a cancel
 * reaches everything it started (test runners fork); stdin is closed so nothing waits for input.
 */
export async function runProcess(options: ProcessOptions): Promise<ProcessResult> {
  const started = Date.now();
  const [file, args] = 'argv' in options.run ? [options.run.argv[0]!, options.run.argv.slice(1)] : ['/bin/sh', ['-c', options.run.script]];
  const capture = new HeadTail(options.outputLimit);
  let child;
  try {
    child = execa(file, args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      detached: true,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      windowsHide: true,
    });
  } catch (error) {
    return { exitCode: undefined, signal: undefined, timedOut: false, cancelled: false, durationMs: 0, output: '', totalBytes: 0, spawnError: (error as Error).message };
  }
  child.stdout?.on('data', (chunk: Buffer) => capture.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => capture.push(chunk));

  let timedOut = false;
  let cancelled = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    killGroup(child.pid, 'SIGTERM');
    graceTimer ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? 2000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const onAbort = () => {
    cancelled = true;
    stop();
  };
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });

  const result = await child;
  clearTimeout(timer);
  options.signal.removeEventListener('abort', onAbort);
  if (graceTimer) {
    clearTimeout(graceTimer);
    // Grandchildren that ignored SIGTERM must not outlive the command.
    killGroup(child.pid, 'SIGKILL');
  }
  const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  const spawnError = result.exitCode === undefined && !result.signal && code ? `${file}: ${code === 'ENOENT' ? 'command not found' : code}` : undefined;
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut,
    cancelled,
    durationMs: Date.now() - started,
    output: capture.text(),
    totalBytes: capture.total,
    ...(spawnError ? { spawnError } : {}),
  };
}

/** Keeps the first and last `limit / 2` bytes of a stream without holding the middle. */
class HeadTail {
  total = 0;
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const half = Math.floor(this.limit / 2);
    if (this.head.length < half) {
      const take = Math.min(half - this.head.length, chunk.length);
      this.head = Buffer.concat([this.head, chunk.subarray(0, take)]);
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) this.tail = Buffer.concat([this.tail, chunk]).subarray(-half);
  }

  text(): string {
    const omitted = this.total - this.head.length - this.tail.length;
    if (omitted <= 0) return Buffer.concat([this.head, this.tail]).toString('utf8');
    return `${this.head.toString('utf8')}\n… ${omitted} bytes of output omitted …\n${this.tail.toString('utf8')}`;
  }
}

/**
 * The environment commands get: the user's, minus anything that looks like a credential. Provider
 * keys named in config go first; then, since a test script has no business with them and a
 * malicious one would exfiltrate them:
 * - names ending in TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, CREDENTIAL(S), or in _API_KEY,
 *   APIKEY, _ACCESS_KEY(_ID), _SECRET_KEY, _PRIVATE_KEY, _PWD, _AUTH, _COOKIE (any letter case:
 *   `npm_config_//registry/:_authToken`, `PGPASSWORD`, `MYSQL_PWD`, `REDISCLI_AUTH`);
 * - names with TOKEN, SECRET, PASSWORD or PASSWD as a whole `_`-separated part
 *   (`AWS_SECRET_ACCESS_KEY`, `SECRET_KEY_BASE`);
 * - well-known ones that fit no pattern (`PGPASSFILE`, `NETRC`, …);
 * - any value holding a URL with credentials (`DATABASE_URL=postgres://user:pw@host`).
 * `PWD` and `OLDPWD` are the working directory, not passwords, and stay.
 */
export function commandEnvironment(env: NodeJS.ProcessEnv, providerKeyNames: string[]): NodeJS.ProcessEnv {
  const drop = new Set(['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', ...providerKeyNames]);
  const result: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (drop.has(name) || isCredentialName(name) || (value !== undefined && URL_WITH_CREDENTIALS.test(value))) continue;
    result[name] = value;
  }
  return result;
}

const CREDENTIAL_SUFFIX = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?|_API_KEY|APIKEY|_ACCESS_KEY|_ACCESS_KEY_ID|_SECRET_KEY|_PRIVATE_KEY|_PWD|_AUTH|_COOKIE)$/i;
const CREDENTIAL_PART = /(^|_)(TOKEN|SECRET|PASSWORD|PASSWD)(_|$)/i;
// The *_ASKPASS helpers hand out credentials to whoever runs them (an editor's git askpass).
const CREDENTIAL_NAMES = new Set(['PGPASSFILE', 'NETRC', 'DOCKER_AUTH_CONFIG', 'KAGGLE_KEY', 'SSHPASS', 'GIT_ASKPASS', 'SSH_ASKPASS', 'SUDO_ASKPASS', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_WEB_IDENTITY_TOKEN_FILE']);
/** scheme://user:password@host, or scheme://secret@host (Sentry DSNs, tokens as user names). */
const URL_WITH_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^\s/@:]+(:[^\s/@]*)?@/i;

export function isCredentialName(name: string): boolean {
  if (name === 'PWD' || name === 'OLDPWD') return false;
  return CREDENTIAL_SUFFIX.test(name) || CREDENTIAL_PART.test(name) || CREDENTIAL_NAMES.has(name.toUpperCase());
}
