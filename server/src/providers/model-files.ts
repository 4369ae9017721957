import { open, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { dataDirectory } from '../config/load.js';
import type { ProviderConfig } from '../config/schema.js';

/**
 * GGUF files on this machine: where `codebench models` keeps them, what the catalogue offers, the
 * header check every file passes before it is usable, and which file a llama-cpp provider means.
 * No network here (model-download.ts) and no native code (llama-runtime.ts).
 */

export interface CatalogueEntry {
  name: string;
  url: string;
  /** Approximate download size in bytes, shown before a pull. */
  approxBytes: number;
  /** Expected SHA-256; when absent the server's X-Linked-Etag (Hugging Face's LFS sha256) is used. */
  sha256?: string;
  licence: string;
  /** A contextWindow that fits a laptop's memory; the models were trained on more. */
  contextWindow: number;
  description: string;
}

/**
 * Small coding models as published on Hugging Face. The sha256 values are left to Hugging Face's
 * X-Linked-Etag header (the LFS object's sha256) because they could not be read from the machine
 * this was written on; whoever updates this list must check each URL, size and checksum against the
 * repository's file page and add `sha256` here, so a pull no longer trusts the server for it.
 */
export const MODEL_CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'qwen2.5-coder-0.5b',
    url: 'https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/resolve/main/qwen2.5-coder-0.5b-instruct-q8_0.gguf',
    approxBytes: 531_000_000,
    licence: 'Apache-2.0',
    contextWindow: 8192,
    description: 'Qwen2.5-Coder 0.5B Instruct, Q8_0: fast, for small edits',
  },
  {
    name: 'qwen2.5-coder-1.5b',
    url: 'https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/main/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
    approxBytes: 1_120_000_000,
    licence: 'Apache-2.0',
    contextWindow: 8192,
    description: 'Qwen2.5-Coder 1.5B Instruct, Q4_K_M: the default suggestion',
  },
  {
    name: 'qwen2.5-coder-3b',
    url: 'https://huggingface.co/Qwen/Qwen2.5-Coder-3B-Instruct-GGUF/resolve/main/qwen2.5-coder-3b-instruct-q4_k_m.gguf',
    approxBytes: 2_100_000_000,
    licence: 'Qwen Research License (non-commercial)',
    contextWindow: 8192,
    description: 'Qwen2.5-Coder 3B Instruct, Q4_K_M: better answers, needs ~3 GB of memory',
  },
];

export const SUGGESTED_MODEL = 'qwen2.5-coder-1.5b';
export const DEFAULT_LLAMA_CONTEXT_WINDOW = 8192;

export function modelsDirectory(env: NodeJS.ProcessEnv): string {
  return join(dataDirectory(env), 'models');
}

export function catalogueEntry(name: string): CatalogueEntry | undefined {
  return MODEL_CATALOGUE.find((entry) => entry.name === name);
}

/** A model's file name is its name plus .gguf, so names stay plain file names. */
export function isValidModelName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/.test(name) && !name.endsWith('.gguf');
}

export function modelFilePath(env: NodeJS.ProcessEnv, name: string): string {
  return join(modelsDirectory(env), `${name}.gguf`);
}

type LlamaConfig = Extract<ProviderConfig, { kind: 'llama-cpp' }>;

/** The file a llama-cpp provider loads: `modelPath`, else the pulled model `model`. */
export function providerModelPath(config: LlamaConfig, env: NodeJS.ProcessEnv): string {
  return config.modelPath ?? modelFilePath(env, config.model ?? '');
}

/** GGUF versions llama.cpp reads (v1 was dropped long ago). */
const SUPPORTED_GGUF_VERSIONS = [2, 3];

/** Why the first bytes are not a usable GGUF header; undefined when they are. */
export function ggufHeaderProblem(bytes: Buffer): string | undefined {
  if (bytes.length < 8 || bytes.subarray(0, 4).toString('latin1') !== 'GGUF') return 'it is not a GGUF file (no "GGUF" magic at its start)';
  const version = bytes.readUInt32LE(4);
  if (!SUPPORTED_GGUF_VERSIONS.includes(version)) return `it is GGUF version ${version}, which llama.cpp does not read (supported: ${SUPPORTED_GGUF_VERSIONS.join(', ')})`;
  return undefined;
}

/** Reads and checks a file's header: a one-line reason naming the path, or undefined. */
export async function checkGgufFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `the model file ${path} does not exist` : `the model file ${path} cannot be read (${code ?? (error as Error).message})`;
  }
  try {
    const header = Buffer.alloc(8);
    const { bytesRead } = await handle.read(header, 0, 8, 0);
    const problem = ggufHeaderProblem(header.subarray(0, bytesRead));
    return problem ? `the model file ${path} is unusable: ${problem}` : undefined;
  } finally {
    await handle.close();
  }
}

export interface LocalModel {
  name: string;
  path: string;
  bytes: number;
  /** Providers in the config that load this file. */
  usedBy: string[];
}

/** The pulled models, by name; half-downloaded `.part` files are not models. */
export async function listModels(env: NodeJS.ProcessEnv, providers: Record<string, ProviderConfig> = {}): Promise<LocalModel[]> {
  const directory = modelsDirectory(env);
  const names = await readdir(directory).catch(() => [] as string[]);
  const models: LocalModel[] = [];
  for (const file of names.filter((entry) => entry.endsWith('.gguf')).sort()) {
    const path = join(directory, file);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const usedBy = Object.entries(providers)
      .filter(([, config]) => config.kind === 'llama-cpp' && providerModelPath(config, env) === path)
      .map(([name]) => name);
    models.push({ name: basename(file, '.gguf'), path, bytes: info.size, usedBy });
  }
  return models;
}

/** Deletes a pulled model (and any partial download of it); false when there was none. */
export async function removeModel(env: NodeJS.ProcessEnv, name: string): Promise<boolean> {
  const path = modelFilePath(env, name);
  const existed = await stat(path).then(
    () => true,
    () => false,
  );
  await rm(path, { force: true });
  await rm(`${path}.part`, { force: true });
  return existed;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
