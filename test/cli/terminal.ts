import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../e2e/harness.js';

export const BIN = join(REPO, 'bin', 'codebench.js');

/** util-linux `script` gives the CLI a real pseudo-terminal; Debian ships it in every install. */
export const HAVE_SCRIPT = spawnSync('script', ['--version']).status === 0;
if (!HAVE_SCRIPT) {
  process.stderr.write('\n!!! `script` (util-linux) is missing: pseudo-terminal CLI tests will be SKIPPED. Install bsdutils.\n\n');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Strips colours and cursor movement so assertions read what a person would see. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

export class TerminalSession {
  output = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const waiter of [...this.waiters]) waiter();
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Runs `codebench ARGS` in a pseudo-terminal; `script -e` exits with the command's status. */
  static start(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): TerminalSession {
    const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
    const child = spawn('script', ['-q', '-f', '-e', '-c', `stty cols 200; exec ${command}`, '/dev/null'], {
      cwd: options.cwd,
      env: { ...options.env, TERM: 'xterm-256color' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new TerminalSession(child);
  }

  type(text: string): void {
    this.child.stdin!.write(text);
  }

  waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<void> {
    const matches = () => (typeof pattern === 'string' ? plain(this.output).includes(pattern) : pattern.test(plain(this.output)));
    if (matches()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!matches()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${pattern}; screen so far:\n${plain(this.output)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `codebench ARGS` with pipes (no terminal), feeding `input` on stdin. */
export function runCodebench(
  args: string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    input?: string;
    timeoutMs?: number;
    onStdout?: (text: string, child: ChildProcess) => void;
    /** A command that runs node for us, e.g. setpriv to run as another user. */
    prefix?: string[];
  },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [program, ...rest] = [...(options.prefix ?? []), process.execPath, BIN, ...args];
    const child = spawn(program!, rest, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`codebench ${args.join(' ')} timed out\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
