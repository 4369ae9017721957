import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlamaCppModel, type LlamaCppConfig } from '../../server/src/providers/llama-cpp.js';
import { LlamaRuntime } from '../../server/src/providers/llama-runtime.js';
import type { ModelRequest, StreamPart } from '../../server/src/providers/types.js';
import { writeTinyGguf } from '../fakes/gguf.js';
import { createCliSandbox, runInSandbox } from '../cli/run-cli.js';

// The real native runtime (node-llama-cpp's prebuilt CPU binary) on a GGUF the test writes itself.
// The model prefers `"`, `}`, `t`, `l`: under the JSON grammar it calls list_files with empty strings.
const root = mkdtempSync(join(tmpdir(), 'codebench-llama-'));
const modelPath = join(root, 'tiny.gguf');
const env = { CODEBENCH_DATA_DIR: join(root, 'data') };
// One thread: ggml's spinning worker threads crawl on a loaded two-core CI machine.
const base: LlamaCppConfig = { kind: 'llama-cpp', modelPath, contextWindow: 32768, threads: 1 };
const runtime = new LlamaRuntime();

beforeAll(() => {
  writeTinyGguf(modelPath, { preferred: ['"', '}', 't', 'l', '0', ']'] });
});
afterAll(async () => {
  await runtime.unloadAll();
  rmSync(root, { recursive: true, force: true });
});

const ask = (overrides: Partial<ModelRequest> = {}): ModelRequest => ({ system: 'You are terse.', messages: [{ role: 'user', content: 'hi' }], tools: [], ...overrides });

async function collect(stream: AsyncIterable<StreamPart>, onPart?: (part: StreamPart) => void): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) {
    parts.push(part);
    onPart?.(part);
  }
  return parts;
}

const rssMb = () => process.memoryUsage().rss / 1024 / 1024;

describe('llama-cpp provider on the real runtime', () => {
  it('loads the model and streams tokens as text deltas with usage', async () => {
    const model = createLlamaCppModel('embedded', { ...base, maxOutputTokens: 40 }, env, runtime);
    const parts = await collect(model.stream(ask(), new AbortController().signal));
    const deltas = parts.filter((part) => part.type === 'text-delta');
    expect(deltas.length).toBeGreaterThanOrEqual(10);
    expect(parts.find((part) => part.type === 'usage')).toMatchObject({ usage: { outputTokens: 40 } });
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'length' });
    expect(runtime.loadedModels).toBe(1);
  });

  it('a grammar-constrained turn emits a tool call that parses, optional arguments dropped when null', async () => {
    const model = createLlamaCppModel('embedded', base, env, runtime);
    const tools = [
      { name: 'list_files', description: 'List files', parameters: { type: 'object', properties: { path: { type: 'string' }, glob: { type: 'string' } } } },
      { name: 'read_file', description: 'Read', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
    ];
    const parts = await collect(model.stream(ask({ tools }), new AbortController().signal));
    const call = parts.find((part) => part.type === 'tool-call');
    expect(call).toMatchObject({ type: 'tool-call', call: { name: 'list_files', args: { path: '', glob: '' } } });
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'tool-calls' });
  });

  it('cancel ends the stream within 100 ms and frees the sequence for the next turn', async () => {
    const model = createLlamaCppModel('embedded', { ...base, maxOutputTokens: 20_000 }, env, runtime);
    const controller = new AbortController();
    let abortedAt = 0;
    let deltas = 0;
    const parts = await collect(model.stream(ask(), controller.signal), (part) => {
      if (part.type === 'text-delta' && ++deltas === 20) {
        abortedAt = performance.now();
        controller.abort();
      }
    });
    const elapsed = performance.now() - abortedAt;
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { kind: 'cancelled' } });
    expect(elapsed).toBeLessThan(100);
    // The aborted generation stopped and released the sequence: a new turn runs at once.
    const next = await collect(createLlamaCppModel('embedded', { ...base, maxOutputTokens: 5 }, env, runtime).stream(ask(), new AbortController().signal));
    expect(next.at(-1)).toEqual({ type: 'finish', reason: 'length' });
  });

  it('concurrent turns queue on the one sequence and both complete', async () => {
    const model = createLlamaCppModel('embedded', { ...base, maxOutputTokens: 30 }, env, runtime);
    const [first, second] = await Promise.all([collect(model.stream(ask(), new AbortController().signal)), collect(model.stream(ask(), new AbortController().signal))]);
    for (const parts of [first, second]) {
      expect(parts.filter((part) => part.type === 'text-delta').map((part) => (part as { text: string }).text).join('')).toHaveLength(30);
      expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'length' });
    }
  });

  it('unloading frees the memory the model and its context took', async () => {
    // Eight layers make a 64 MiB KV cache: above glibc's 32 MiB mmap ceiling, so freeing it shows in
    // RSS (smaller buffers go back to malloc's heap, not to the system, and RSS cannot tell).
    const bigger = join(root, 'eight-layers.gguf');
    writeTinyGguf(bigger, { blockCount: 8 });
    const own = new LlamaRuntime();
    await own.runtime();
    global.gc?.();
    const before = rssMb();
    await collect(createLlamaCppModel('embedded', { ...base, modelPath: bigger, maxOutputTokens: 2 }, env, own).stream(ask(), new AbortController().signal));
    const loaded = rssMb();
    expect(own.loadedModels).toBe(1);
    await own.unloadAll();
    const after = rssMb();
    expect(own.loadedModels).toBe(0);
    console.log(`llama-cpp memory: ${before.toFixed(1)} MB before load, ${loaded.toFixed(1)} MB loaded, ${after.toFixed(1)} MB after unload`);
    expect(loaded - before).toBeGreaterThan(50);
    // Most of what loading took is given back.
    expect(after - before).toBeLessThan((loaded - before) * 0.4);
  });

  it('the model stays loaded between turns and unloads after idleUnloadSeconds', async () => {
    const own = new LlamaRuntime();
    const model = createLlamaCppModel('embedded', { ...base, maxOutputTokens: 2, idleUnloadSeconds: 0.3 }, env, own);
    await collect(model.stream(ask(), new AbortController().signal));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(own.loadedModels).toBe(1);
    await collect(model.stream(ask(), new AbortController().signal));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(own.loadedModels).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(own.loadedModels).toBe(0);
  });

  it('a missing or non-GGUF model file is named before the runtime is touched', async () => {
    const fresh = new LlamaRuntime(() => Promise.reject(new Error('the runtime must not load')));
    const missing = join(root, 'nowhere.gguf');
    const parts = await collect(createLlamaCppModel('embedded', { ...base, modelPath: missing }, env, fresh).stream(ask(), new AbortController().signal));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ type: 'error', error: { kind: 'config', message: `embedded (llama-cpp): the model file ${missing} does not exist; correct "modelPath".` } });
    const text = join(root, 'notes.gguf');
    writeFileSync(text, 'not a model at all');
    const refused = await collect(createLlamaCppModel('embedded', { ...base, modelPath: text }, env, fresh).stream(ask(), new AbortController().signal));
    expect(refused[0]).toMatchObject({ type: 'error', error: { message: expect.stringContaining(`the model file ${text} is unusable: it is not a GGUF file`) } });
    const pulledName = await collect(createLlamaCppModel('embedded', { kind: 'llama-cpp', model: 'qwen2.5-coder-1.5b' }, env, fresh).stream(ask(), new AbortController().signal));
    expect(pulledName[0]).toMatchObject({ type: 'error', error: { message: expect.stringContaining(`${join(env.CODEBENCH_DATA_DIR, 'models', 'qwen2.5-coder-1.5b.gguf')} does not exist; pull it with \`codebench models pull qwen2.5-coder-1.5b\``) } });
  });

  it('codebench ask runs the grammar-constrained tool calls through the agent loop (built CLI)', async () => {
    const sandbox = createCliSandbox('codebench-llama-cli-');
    try {
      writeFileSync(join(sandbox.workspace, 'a.txt'), 'hello\n');
      writeFileSync(sandbox.configPath, JSON.stringify({ providers: { embedded: { ...base, maxOutputTokens: 300 } }, maxSteps: 2 }));
      const result = await runInSandbox(sandbox, ['ask', '--yes', 'what is here?'], { timeoutMs: 60_000 });
      expect(result.stderr.match(/→ listing/g)?.length, result.stderr).toBe(2);
      expect(result.stderr).not.toContain('invalid arguments');
      const session = /session ([0-9a-f-]{36})/.exec(result.stdout + result.stderr)?.[1];
      expect(session).toBeDefined();
      const transcript = await runInSandbox(sandbox, ['history', 'show', session!]);
      // The tool ran: its result (the workspace listing) is in the transcript.
      expect(transcript.stdout).toContain('list_files');
      expect(transcript.stdout).toContain('a.txt');
    } finally {
      sandbox.cleanup();
    }
  }, 90_000);
});
