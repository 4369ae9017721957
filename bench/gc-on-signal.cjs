// Preloaded (`node --expose-gc -r bench/gc-on-signal.cjs bin/codebench.js lsp`) into the server
// that bench/memory.ts measures, so no measuring hook lives in the server itself: on SIGUSR2, a
// full garbage collection, then the memory figures on one stderr line (stdout carries only frames).
process.on('SIGUSR2', () => {
  global.gc();
  global.gc();
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  process.stderr.write(`codebench-bench-memory ${JSON.stringify({ rss, heapUsed, heapTotal, external, arrayBuffers })}\n`);
});
