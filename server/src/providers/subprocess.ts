import { execa, type ResultPromise } from 'execa';

export interface JsonLinesOptions {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Each stdout line that parses as JSON. */
  onJson: (value: unknown) => void;
  /** Stdout lines that are not JSON (banners, warnings): kept for error messages. */
  onOtherLine?: (line: string) => void;
  /** Text written to the child's stdin, then closed. */
  input?: string;
  /** After SIGTERM, how long before the process group gets SIGKILL. */
  killGraceMs?: number;
}

export interface JsonLinesResult {
  exitCode: number | undefined;
  signal: string | undefined;
  cancelled: boolean;
  /** Last part of stderr, for error messages. */
  stderrTail: string;
  /** Set when the binary could not be started at all (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
}

const STDERR_TAIL = 4000;

/**
 * Runs a CLI that prints JSON lines, never through a shell. The child leads its own process
 * group so cancelling reaches everything it started (a CLI's own shell commands included):
 * SIGTERM to the group, then SIGKILL after a short grace.
 */
export async function runJsonLines(options: JsonLinesOptions): Promise<JsonLinesResult> {
  let child: ResultPromise<{ detached: true; reject: false; buffer: false; stdin: 'pipe' | 'ignore'; stdout: 'pipe'; stderr: 'pipe' }>;
  try {
    child = execa(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      detached: true,
      reject: false,
      buffer: false,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      stripFinalNewline: false,
    });
  } catch (error) {
    return { exitCode: undefined, signal: undefined, cancelled: false, stderrTail: '', spawnError: error as NodeJS.ErrnoException };
  }
  if (options.input !== undefined) child.stdin?.end(options.input);

  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL);
  });
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      handleLine(pending.slice(0, newline), options);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });

  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const cancel = () => {
    cancelled = true;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? 150);
  };
  if (options.signal.aborted) cancel();
  else options.signal.addEventListener('abort', cancel, { once: true });

  const result = await child;
  options.signal.removeEventListener('abort', cancel);
  if (pending.trim() !== '') handleLine(pending, options);
  if (killTimer) {
    clearTimeout(killTimer);
    // Grandchildren that ignored SIGTERM must not outlive the run.
    killGroup(child.pid, 'SIGKILL');
  }
  const spawnError = result.failed && result.exitCode === undefined && !result.signal ? (result.cause as NodeJS.ErrnoException | undefined) : undefined;
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    cancelled,
    stderrTail: stderrTail.trim(),
    ...(spawnError?.code ? { spawnError } : {}),
  };
}

function handleLine(line: string, options: JsonLinesOptions): void {
  const trimmed = line.trim();
  if (trimmed === '') return;
  if (trimmed.startsWith('{')) {
    try {
      options.onJson(JSON.parse(trimmed));
      return;
    } catch {
      // Fall through: reported as a non-JSON line.
    }
  }
  options.onOtherLine?.(trimmed);
}

/** Signals a detached child's whole process group (what it started, too); gone is fine. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
