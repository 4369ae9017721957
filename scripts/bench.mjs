// `npm run bench`: bundles bench/main.ts (which imports the server's own modules and the test
// fakes) with esbuild, then runs it. Needs a built server (`npm run build`) for the spawned parts.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, '.cache', 'bench', 'main.mjs');
await build({
  entryPoints: [join(root, 'bench', 'main.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', '@napi-rs/keyring', 'vscode-jsonrpc', 'vscode-languageserver', 'vscode-languageserver-textdocument', 'openai', '@anthropic-ai/sdk', 'ollama', 'node-llama-cpp'],
  banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
  logLevel: 'warning',
});
execFileSync(process.execPath, [outfile], { stdio: 'inherit', cwd: root, env: process.env });
