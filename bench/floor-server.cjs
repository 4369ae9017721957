// The floor of our stack: a vscode-languageserver server that answers initialize and nothing else.
// Benchmarks report codebench's figures beside this one, so they read as ratios, not just times.
const { createConnection } = require('vscode-languageserver/node');
const connection = createConnection(process.stdin, process.stdout);
connection.onInitialize(() => ({ capabilities: { textDocumentSync: 2, codeActionProvider: true } }));
connection.onCodeAction(() => []);
connection.listen();
