import { readFileSync } from 'node:fs';

const USAGE = `codebench — a local-first coding agent in your editor

Usage:
  codebench lsp          start the language server on stdio
  codebench --version    print the version
  codebench --help       show this help

Configuration: $CODEBENCH_CONFIG or $XDG_CONFIG_HOME/codebench/config.json
History:       $CODEBENCH_DATA_DIR or $XDG_DATA_HOME/codebench/codebench.db`;

function version(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return packageJson.version;
}

/** stdout belongs to the protocol: anything a dependency logs must not corrupt the frames. */
function routeConsoleToStderr(): void {
  const toStderr = (...args: unknown[]) => {
    process.stderr.write(`${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'lsp') {
    routeConsoleToStderr();
    const unknown = rest.filter((arg) => arg !== '--stdio');
    if (unknown.length > 0) {
      process.stderr.write(`codebench lsp: unknown argument ${unknown[0]} (the server always speaks on stdio)\n`);
      return 2;
    }
    const { startStdioServer } = await import('./lsp/stdio.js');
    startStdioServer({ env: process.env, version: version() });
    return -1;
  }
  process.stderr.write(`codebench: unknown command "${command}". Run "codebench --help".\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`codebench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
