// Bundles the server into dist/ as ESM chunks. One file per entry means Node does not analyse the
// exports of dozens of CommonJS modules at start-up (vscode-languageserver alone costs ~80 ms
// unbundled); dynamic imports stay separate chunks, so SDKs, kysely and SQLite load after
// `initialize` has been answered.
import { build } from 'esbuild';
import { existsSync, renameSync, rmSync } from 'node:fs';

// Built beside dist/ and swapped in, so a server or test already running from dist/ never sees a
// half-written or emptied folder (hashed chunk names would otherwise pile up without a clean).
const staging = `dist.build-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
await build({
  entryPoints: { main: 'server/src/main.ts' },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Native addons: must be required from node_modules at run time.
  // node-llama-cpp: loaded with import() only when a llama-cpp provider runs; its native binaries sit beside it.
  external: ['better-sqlite3', '@napi-rs/keyring', 'node-llama-cpp'],
  // Bundled CommonJS calls require(); give ESM chunks one.
  banner: { js: "import { createRequire as __codebenchRequire } from 'node:module'; const require = __codebenchRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
const previous = `dist.old-${process.pid}`;
if (existsSync('dist')) renameSync('dist', previous);
renameSync(staging, 'dist');
rmSync(previous, { recursive: true, force: true });
