import { createConnection } from 'vscode-languageserver/node';
import { startServer, type ServerOptions } from './server.js';

/** `codebench lsp`: the server on this process's stdin/stdout. */
export function startStdioServer(options: ServerOptions): void {
  startServer(createConnection(process.stdin, process.stdout), options);
}
