import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentRuntime } from '../agent/runtime.js';

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
    let directory = resolve(this.cwd);
    for (;;) {
      if (existsSync(join(directory, '.git'))) return directory;
      const parent = dirname(directory);
      if (parent === directory) return resolve(this.cwd);
      directory = parent;
    }
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
