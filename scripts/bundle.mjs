// Bundles the server into dist/ as ESM chunks. One file per entry means Node does not analyse the
// exports of dozens of CommonJS modules at start-up (vscode-languageserver alone costs ~80 ms
// unbundled); dynamic imports stay separate chunks, so SDKs, kysely and SQLite load after
// `initialize` has been answered.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { main: 'server/src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Native addon: must be required from node_modules at run time.
  external: ['better-sqlite3'],
  // Bundled CommonJS calls require(); give ESM chunks one.
  banner: { js: "import { createRequire as __codebenchRequire } from 'node:module'; const require = __codebenchRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
