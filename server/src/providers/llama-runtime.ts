import type * as NodeLlamaCpp from 'node-llama-cpp';

/**
 * The embedded llama.cpp runtime of one process (ProviderRegistry owns it): node-llama-cpp imported
 * on first use only, so `codebench lsp` neither loads nor needs it otherwise; one loaded model per
 * file and settings, kept between asks and unloaded after `idleUnloadSeconds` without use. Each model
 * has one context with one sequence, and turns take it one at a time (a queue), so concurrent runs
 * never share a sequence's state.
 */

type Module = typeof NodeLlamaCpp;

export interface LlamaModelSettings {
  path: string;
  gpuLayers: 'auto' | number;
  contextSize: number;
  threads?: number;
  idleUnloadSeconds: number;
}

/** What a turn holds while it generates; `release` hands the sequence to the next turn. */
export interface LlamaLease {
  module: Module;
  llama: NodeLlamaCpp.Llama;
  model: NodeLlamaCpp.LlamaModel;
  sequence: NodeLlamaCpp.LlamaContextSequence;
  chat: NodeLlamaCpp.LlamaChat;
  release(): void;
}

/** Why the runtime cannot run at all (module or binary missing); one line for the user. */
export class LlamaUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlamaUnavailableError';
  }
}

interface Loaded {
  key: string;
  model: NodeLlamaCpp.LlamaModel;
  context: NodeLlamaCpp.LlamaContext;
  sequence: NodeLlamaCpp.LlamaContextSequence;
  chat: NodeLlamaCpp.LlamaChat;
  /** Resolves when the last queued turn releases the sequence. */
  tail: Promise<void>;
  waiting: number;
  idleTimer?: NodeJS.Timeout;
  idleUnloadSeconds: number;
}

export class LlamaRuntime {
  private module?: Promise<Module>;
  private llama?: Promise<NodeLlamaCpp.Llama>;
  private readonly loaded = new Map<string, Promise<Loaded>>();

  constructor(private readonly importModule: () => Promise<Module> = () => import('node-llama-cpp')) {}

  /** node-llama-cpp and its native binary, loaded once; a missing one is a LlamaUnavailableError. */
  async runtime(): Promise<{ module: Module; llama: NodeLlamaCpp.Llama }> {
    this.module ??= this.importModule().catch((error: unknown) => {
      this.module = undefined;
      throw new LlamaUnavailableError(
        'the embedded runtime node-llama-cpp is not installed (an optional dependency); reinstall codebench without --omit=optional, or use an Ollama provider',
        { cause: error },
      );
    });
    const module = await this.module;
    this.llama ??= module
      .getLlama({
        gpu: 'auto',
        // Never compile llama.cpp or download anything at run time: the prebuilt binary or nothing.
        build: 'never',
        skipDownload: true,
        progressLogs: false,
        logLevel: module.LlamaLogLevel.error,
        // stdout carries protocol frames in `codebench lsp`; llama.cpp's own log lines go to stderr.
        logger: (_level, message) => process.stderr.write(`llama.cpp: ${message.trimEnd()}\n`),
      })
      .catch((error: unknown) => {
        this.llama = undefined;
        const detail = ((error as Error).message ?? String(error)).split('\n')[0];
        throw new LlamaUnavailableError(
          `node-llama-cpp has no usable prebuilt binary for ${process.platform}-${process.arch} here (${detail}); reinstall it with \`npm install node-llama-cpp\` where the registry is reachable`,
          { cause: error },
        );
      });
    return { module, llama: await this.llama };
  }

  /** Waits for the model's sequence (loading the model on first use); aborting leaves the queue. */
  async lease(settings: LlamaModelSettings, signal: AbortSignal): Promise<LlamaLease> {
    const { module, llama } = await this.runtime();
    const key = JSON.stringify([settings.path, settings.gpuLayers, settings.contextSize, settings.threads ?? null]);
    let pending = this.loaded.get(key);
    if (!pending) {
      pending = this.load(module, llama, key, settings);
      this.loaded.set(key, pending);
      pending.catch(() => this.loaded.delete(key));
    }
    const entry = await pending;
    entry.idleUnloadSeconds = settings.idleUnloadSeconds;
    clearTimeout(entry.idleTimer);
    entry.waiting++;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous = entry.tail;
    entry.tail = previous.then(() => mine);
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) resolve('aborted');
      else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      entry.waiting--;
      release();
      this.scheduleUnload(entry);
    };
    if ((await Promise.race([previous, aborted])) === 'aborted') {
      done();
      throw Object.assign(new Error('cancelled while waiting for the model'), { name: 'AbortError' });
    }
    return { module, llama, model: entry.model, sequence: entry.sequence, chat: entry.chat, release: done };
  }

  private async load(module: Module, llama: NodeLlamaCpp.Llama, key: string, settings: LlamaModelSettings): Promise<Loaded> {
    const model = await llama.loadModel({ modelPath: settings.path, gpuLayers: settings.gpuLayers });
    try {
      const context = await model.createContext({
        contextSize: Math.min(settings.contextSize, model.trainContextSize),
        sequences: 1,
        ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
      });
      const sequence = context.getSequence();
      const chat = new module.LlamaChat({ contextSequence: sequence });
      return { key, model, context, sequence, chat, tail: Promise.resolve(), waiting: 0, idleUnloadSeconds: settings.idleUnloadSeconds };
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  private scheduleUnload(entry: Loaded): void {
    if (entry.waiting > 0) return;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => void this.unload(entry.key), entry.idleUnloadSeconds * 1000);
    // An idle model must not keep a finished `codebench ask` alive.
    entry.idleTimer.unref();
  }

  /** Frees one model (after its running turn); the next ask loads it again. */
  async unload(key: string): Promise<void> {
    const pending = this.loaded.get(key);
    if (!pending) return;
    this.loaded.delete(key);
    const entry = await pending.catch(() => undefined);
    if (!entry) return;
    clearTimeout(entry.idleTimer);
    await entry.tail;
    entry.chat.dispose();
    await entry.context.dispose();
    await entry.model.dispose();
  }

  async unloadAll(): Promise<void> {
    await Promise.all([...this.loaded.keys()].map((key) => this.unload(key)));
  }

  /** How many models are in memory now (for tests and `doctor`). */
  get loadedModels(): number {
    return this.loaded.size;
  }
}
