import { readFileSync } from 'node:fs';

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
  // The language server skips the CLI machinery: editors time its start-up.
  if (command === 'lsp') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write('Usage: codebench lsp\n\nStart the language server on stdin/stdout for an editor. See protocol.md.\n');
      return 0;
    }
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
  if (command === 'acp') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write('Usage: codebench acp\n\nSpeak the Agent Client Protocol on stdin/stdout (Zed\'s agent panel and other ACP clients).\n');
      return 0;
    }
    routeConsoleToStderr();
    const { startAcpServer } = await import('./acp/stdio.js');
    startAcpServer({ env: process.env, version: version() });
    return -1;
  }
  const { runCli } = await import('./cli/program.js');
  const code = await runCli(argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, process.env, version());
  // Idle keep-alive sockets to a provider must not hold a finished command open.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
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
