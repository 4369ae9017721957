import { Worker } from 'node:worker_threads';

/**
 * Regular-expression matching for `grep`, off the event loop.
 *
 * A model's pattern can backtrack catastrophically (`(a+)+$` over a 30-character line runs for
 * hours), and a regex cannot be interrupted from the thread it runs on: on the main thread it
 * would freeze every LSP request, cancel included. So lines are matched in a worker thread, with a
 * time budget; `worker.terminate()` stops V8 even in the middle of one `test()`. File reading
 * stays on the caller's side (through `WorkspaceFiles.read`, which enforces protected files and
 * overlays); the worker only ever sees text.
 */

/**
 * The worker's program, evaluated as a string: the same code runs from the esbuild bundle in
 * dist/ and from the TypeScript sources under vitest, with no second entry point to locate on
 * disk. It mirrors `splitLines` (text.ts) and answers each file as soon as it is done, so the
 * matches of finished files survive a later timeout.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let compiled = { key: undefined, regex: undefined };
parentPort.on('message', (batch) => {
  const key = batch.flags + '/' + batch.source;
  if (compiled.key !== key) compiled = { key, regex: new RegExp(batch.source, batch.flags) };
  const regex = compiled.regex;
  let left = batch.limit;
  for (let file = 0; file < batch.texts.length; file++) {
    const text = batch.texts[file];
    const lines = [];
    let start = 0;
    for (let index = 0; left > 0 && start < text.length; index++) {
      let end = text.indexOf('\\n', start);
      if (end === -1) end = text.length;
      let line = text.slice(start, end);
      if (line.endsWith('\\r')) line = line.slice(0, -1);
      if (regex.test(line)) {
        lines.push(index);
        left--;
      }
      start = end + 1;
    }
    parentPort.postMessage({ id: batch.id, file, lines });
  }
  parentPort.postMessage({ id: batch.id, done: true });
});
`;

/** What one batch came to: matching 0-based line numbers per text, in the order given. */
export interface BatchResult {
  status: 'done' | 'timeout' | 'cancelled' | 'crashed';
  /** One entry per text that finished (all of them when done); later texts are absent. */
  lines: number[][];
  elapsedMs: number;
  /** Why the worker died, for 'crashed'. */
  error?: string;
}

export interface MatchBatch {
  source: string;
  flags: string;
  texts: string[];
  /** Stop after this many matching lines in the batch. */
  limit: number;
}

interface SearcherOptions {
  /** An idle worker is kept this long for the next search, then ended (default 60 s). */
  idleMs?: number;
  /** V8 heap cap of a worker, so a runaway batch ends the worker rather than the server. */
  maxHeapMb?: number;
}

/**
 * Hands batches to worker threads. A search that completes gives its worker back for reuse (the
 * start-up costs ~30 ms); one that times out or is cancelled has its worker terminated, and the
 * next search starts a fresh one. Concurrent searches (two runs grepping at once) each get their
 * own worker, so one run's runaway pattern never delays another's.
 */
export class RegexSearcher {
  private idle: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly idleMs: number;
  private readonly maxHeapMb: number;

  constructor(options: SearcherOptions = {}) {
    this.idleMs = options.idleMs ?? 60_000;
    this.maxHeapMb = options.maxHeapMb ?? 64;
  }

  /** Matches one batch within `timeoutMs`; never rejects. */
  match(batch: MatchBatch, timeoutMs: number, signal: AbortSignal): Promise<BatchResult> {
    const started = performance.now();
    const lines: number[][] = [];
    if (signal.aborted) return Promise.resolve({ status: 'cancelled', lines, elapsedMs: 0 });
    const worker = this.take();
    const id = this.nextId++;
    return new Promise<BatchResult>((resolve) => {
      let settled = false;
      const finish = (status: BatchResult['status'], keepWorker: boolean, error?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (keepWorker) this.giveBack(worker);
        // Not awaited: terminate() interrupts a running regex, and the caller need not wait for it.
        else void worker.terminate().catch(() => undefined);
        resolve({ status, lines, elapsedMs: performance.now() - started, ...(error ? { error } : {}) });
      };
      const onMessage = (message: { id: number; file?: number; lines?: number[]; done?: boolean }) => {
        if (message.id !== id) return;
        if (message.done) finish('done', true);
        else lines[message.file!] = message.lines!;
      };
      const onError = (error: Error) => finish('crashed', false, error.message);
      const onExit = () => finish('crashed', false, 'the search worker exited');
      const onAbort = () => finish('cancelled', false);
      const timer = setTimeout(() => finish('timeout', false), Math.max(0, timeoutMs));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ id, ...batch });
    });
  }

  /** Ends the idle worker (tests, shutdown); a later search starts a new one. */
  dispose(): void {
    clearTimeout(this.idleTimer);
    const worker = this.idle;
    this.idle = undefined;
    void worker?.terminate().catch(() => undefined);
  }

  private take(): Worker {
    clearTimeout(this.idleTimer);
    const reused = this.idle;
    this.idle = undefined;
    if (reused) {
      reused.ref();
      return reused;
    }
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    // An idle worker has no batch listening: an error there must not become an uncaught one, and a
    // dead worker must not be handed out again.
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      if (this.idle === worker) this.idle = undefined;
    });
    return worker;
  }

  private giveBack(worker: Worker): void {
    if (this.idle) {
      void worker.terminate().catch(() => undefined);
      return;
    }
    // An idle worker must not keep `codebench ask` alive after its turn.
    worker.unref();
    this.idle = worker;
    this.idleTimer = setTimeout(() => this.dispose(), this.idleMs);
    this.idleTimer.unref();
  }
}
