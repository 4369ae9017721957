import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentRuntime } from '../agent/runtime.js';
import { enclosingGitRoot } from '../agent/workspace/path-checks.js';

/** A failure to report as one line and an exit status; anything else is a bug with a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Error codes that mean "this process may not write there", from Node's fs and from SQLite. */
const ACCESS_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_AUTH']);

/**
 * A failure to create or write the history database because of permissions or a read-only file
 * system, as one line naming the directory and the fix; undefined for anything else (a bug keeps
 * its stack). The store wraps the fs/SQLite error, so the cause chain is searched for the code.
 */
export function dataDirectoryProblem(error: unknown, directory: string): CliError | undefined {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && chain.length < 5; current = current.cause) chain.push(current);
  // SQLite is only ever our history; a file-system error must be about the data directory.
  const aboutDirectory = chain.some((link) => link.message.includes(directory) || link.message.includes(resolve(directory)));
  for (const current of chain) {
    const code = String((current as { code?: unknown }).code ?? '');
    if (!ACCESS_CODES.has(code) && !code.startsWith('SQLITE_READONLY')) continue;
    if (!code.startsWith('SQLITE') && !aboutDirectory) continue;
    const reason = code === 'EROFS' ? 'it is on a read-only file system' : code.startsWith('SQLITE') ? 'the database or its directory is read-only' : 'permission denied';
    return new CliError(
      `cannot write the history in ${directory} (${reason}): make it and its files writable by you, or set CODEBENCH_DATA_DIR to a writable directory`,
    );
  }
  return undefined;
}

export interface CliIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * What every terminal command runs on. The runtime is created on first use so `--help` and
 * `config path` never open the database or load an SDK.
 */
export class CliContext {
  private runtimeInstance: AgentRuntime | undefined;

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly cwd: string,
    readonly io: CliIo,
  ) {}

  runtime(): AgentRuntime {
    this.runtimeInstance ??= new AgentRuntime({
      env: this.env,
      // The terminal has no unsaved buffers: the agent reads the disk.
      documents: { get: () => undefined },
      log: (message) => {
        if (this.env.CODEBENCH_DEBUG) this.io.stderr.write(`${message}\n`);
      },
      reportConfigError: (message) => {
        throw new CliError(message);
      },
    });
    return this.runtimeInstance;
  }

  /** The enclosing git work tree, else the current directory: what "this workspace" means. */
  workspaceRoot(): string {
    return enclosingGitRoot(this.cwd) ?? resolve(this.cwd);
  }

  workspaceUri(): string {
    return pathToFileURL(this.workspaceRoot()).href;
  }

  get isInteractive(): boolean {
    return Boolean(this.io.stdin.isTTY && this.io.stdout.isTTY);
  }

  async close(): Promise<void> {
    await this.runtimeInstance?.close();
  }
}
