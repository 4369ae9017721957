import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyGguf } from '../test/fakes/gguf.js';
import { createLlamaCppModel } from '../server/src/providers/llama-cpp.js';
import { LlamaRuntime } from '../server/src/providers/llama-runtime.js';
import type { Result } from './stats.js';

/**
 * The embedded runtime on the tests' tiny GGUF (random weights, ~460 KB): how long loading the
 * native binary and the model takes, and generation speed. It measures the runtime's overhead, not
 * a real model's speed; without node-llama-cpp installed it reports that and nothing else.
 */
export async function llamaBenchmarks(): Promise<Result[]> {
  const root = mkdtempSync(join(tmpdir(), 'codebench-bench-llama-'));
  const modelPath = join(root, 'tiny.gguf');
  writeTinyGguf(modelPath);
  const runtime = new LlamaRuntime();
  try {
    let started = performance.now();
    try {
      await runtime.runtime();
    } catch (error) {
      return [{ name: 'llama-cpp: runtime', value: 0, unit: 'ms', note: (error as Error).message }];
    }
    const binaryMs = performance.now() - started;
    const config = { kind: 'llama-cpp' as const, modelPath, contextWindow: 4096, threads: 1, maxOutputTokens: 1 };
    started = performance.now();
    for await (const _part of createLlamaCppModel('bench', config, {}, runtime).stream(request(), new AbortController().signal)) void _part;
    const loadMs = performance.now() - started;
    const tokens = 500;
    started = performance.now();
    const model = createLlamaCppModel('bench', { ...config, maxOutputTokens: tokens }, {}, runtime);
    for await (const part of model.stream(request(), new AbortController().signal)) void part;
    const seconds = (performance.now() - started) / 1000;
    return [
      { name: 'llama-cpp: load node-llama-cpp + binary', value: Math.round(binaryMs), unit: 'ms' },
      { name: 'llama-cpp: load tiny model + first token', value: Math.round(loadMs), unit: 'ms' },
      { name: 'llama-cpp: tiny model generation (1 thread)', value: Math.round(tokens / seconds), unit: 'tokens/s' },
    ];
  } finally {
    await runtime.unloadAll();
    rmSync(root, { recursive: true, force: true });
  }
}

function request() {
  return { system: 'bench', messages: [{ role: 'user' as const, content: 'hi' }], tools: [] };
}
