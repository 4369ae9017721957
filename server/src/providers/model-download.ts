import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { basename } from 'node:path';
import { catalogueEntry, ggufHeaderProblem, isValidModelName, modelFilePath, modelsDirectory } from './model-files.js';

/**
 * `codebench models pull`: download a GGUF into the models directory as NAME.gguf.part, resume a cut
 * transfer with an HTTP Range request, check the GGUF header as soon as its bytes arrive, verify the
 * SHA-256 before the file is usable, then rename it into place (atomic on one file system). Failures
 * are values with one line for the user; a refused file is deleted.
 */

export interface PullProgress {
  receivedBytes: number;
  totalBytes: number | undefined;
  bytesPerSecond: number;
  secondsLeft: number | undefined;
  /** Set on the update that starts a resumed transfer. */
  resumedFrom?: number;
}

export interface PullOptions {
  env: NodeJS.ProcessEnv;
  /** A catalogue name or an http(s) URL of a .gguf. */
  source: string;
  sha256?: string;
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  /** Transfers tried before giving up, each resuming where the last one was cut. */
  attempts?: number;
}

export type PullResult =
  | { ok: true; name: string; path: string; bytes: number; sha256: string; verified: 'given' | 'catalogue' | 'server' | 'none'; resumed: boolean }
  | { ok: false; message: string };

export async function pullModel(options: PullOptions): Promise<PullResult> {
  const target = resolveSource(options.source);
  if ('message' in target) return { ok: false, message: target.message };
  const expected = (options.sha256 ?? target.sha256)?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) return { ok: false, message: `--sha256 must be 64 hexadecimal digits` };
  const finalPath = modelFilePath(options.env, target.name);
  if (await exists(finalPath)) return { ok: false, message: `${target.name} is already pulled (${finalPath}); remove it first with \`codebench models rm ${target.name}\`` };
  await mkdir(modelsDirectory(options.env), { recursive: true });
  const partPath = `${finalPath}.part`;
  const refuse = async (message: string): Promise<PullResult> => {
    await rm(partPath, { force: true });
    return { ok: false, message };
  };

  let serverSha: string | undefined;
  let resumed = false;
  let lastError = '';
  const attempts = options.attempts ?? 5;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const offset = (await stat(partPath).catch(() => undefined))?.size ?? 0;
    const outcome = await transfer(target.url, partPath, offset, options, (sha) => (serverSha ??= sha));
    if (outcome.kind === 'done') break;
    if (outcome.kind === 'refused') return refuse(outcome.message);
    if (outcome.kind === 'cancelled') return { ok: false, message: `The download of ${target.name} was cancelled; run the same command again to resume it.` };
    if (offset > 0 || outcome.received > 0) resumed = true;
    lastError = outcome.message;
    if (attempt === attempts - 1) {
      return { ok: false, message: `The download of ${target.name} failed (${lastError}); run the same command again to resume it from ${partPath}.` };
    }
  }

  const header = await readHeader(partPath);
  const headerProblem = ggufHeaderProblem(header);
  if (headerProblem) return refuse(`Refused ${target.url}: ${headerProblem}; the download was deleted.`);
  const actual = await sha256Of(partPath);
  const wanted = expected ?? serverSha;
  if (wanted !== undefined && actual !== wanted) {
    return refuse(`Refused ${target.name}: its SHA-256 is ${actual}, expected ${wanted}; the download was deleted.`);
  }
  await rename(partPath, finalPath);
  const bytes = (await stat(finalPath)).size;
  const verified = options.sha256 ? 'given' : target.sha256 ? 'catalogue' : serverSha ? 'server' : 'none';
  return { ok: true, name: target.name, path: finalPath, bytes, sha256: actual, verified, resumed };
}

type Transfer = { kind: 'done' } | { kind: 'refused'; message: string } | { kind: 'cancelled' } | { kind: 'cut'; message: string; received: number };

/** One HTTP request appending to the .part file from `offset`. */
async function transfer(
  url: string,
  partPath: string,
  offset: number,
  options: PullOptions,
  onServerSha: (sha: string) => void,
): Promise<Transfer> {
  let received = 0;
  try {
    const response = await fetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {}, signal: options.signal });
    // Hugging Face names the LFS object's SHA-256 in X-Linked-Etag.
    const linked = /^"?([0-9a-f]{64})"?$/i.exec(response.headers.get('x-linked-etag') ?? '')?.[1];
    if (linked) onServerSha(linked.toLowerCase());
    if (response.status === 416 && offset > 0) return { kind: 'done' };
    if (!response.ok) return { kind: 'refused', message: `Could not download ${url}: HTTP ${response.status} ${response.statusText}`.trim() };
    let start = offset;
    if (offset > 0 && response.status !== 206) {
      // The server ignored the Range header: start over.
      await truncate(partPath, 0);
      start = 0;
    }
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    const totalBytes = Number.isFinite(length) ? start + length : undefined;
    const began = Date.now();
    let lastReport = 0;
    let headerChecked = start >= 8;
    let headBytes = Buffer.alloc(0);
    if (!response.body) return { kind: 'done' };
    if (start > 0) options.onProgress?.({ receivedBytes: start, totalBytes, bytesPerSecond: 0, secondsLeft: undefined, resumedFrom: start });
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const bytes = Buffer.from(chunk);
      if (!headerChecked) {
        headBytes = Buffer.concat([headBytes, bytes]);
        if (headBytes.length >= 8) {
          const problem = ggufHeaderProblem(headBytes);
          if (problem) return { kind: 'refused', message: `Refused ${url}: ${problem}; the download was deleted.` };
          headerChecked = true;
        }
      }
      await appendFile(partPath, bytes);
      received += bytes.length;
      const now = Date.now();
      if (now - lastReport >= 100) {
        lastReport = now;
        options.onProgress?.(progressOf(start + received, totalBytes, received, now - began));
      }
    }
    if (totalBytes !== undefined && start + received < totalBytes) {
      return { kind: 'cut', message: `the connection closed after ${start + received} of ${totalBytes} bytes`, received };
    }
    options.onProgress?.(progressOf(start + received, totalBytes, received, Date.now() - began));
    return { kind: 'done' };
  } catch (error) {
    if (options.signal?.aborted) return { kind: 'cancelled' };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'cut', message: cause?.code ?? cause?.message ?? (error as Error).message, received };
  }
}

function progressOf(receivedBytes: number, totalBytes: number | undefined, transferred: number, elapsedMs: number): PullProgress {
  const bytesPerSecond = elapsedMs > 0 ? (transferred * 1000) / elapsedMs : 0;
  const secondsLeft = totalBytes !== undefined && bytesPerSecond > 0 ? (totalBytes - receivedBytes) / bytesPerSecond : undefined;
  return { receivedBytes, totalBytes, bytesPerSecond, secondsLeft };
}

/** A catalogue name, or a URL whose file name (without .gguf) becomes the model's name. */
export function resolveSource(source: string): { name: string; url: string; sha256?: string } | { message: string } {
  const entry = catalogueEntry(source);
  if (entry) return { name: entry.name, url: entry.url, ...(entry.sha256 ? { sha256: entry.sha256 } : {}) };
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return { message: `"${source}" is neither a catalogue model nor a URL; \`codebench models list --available\` shows the catalogue` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { message: `${source}: only http(s) URLs can be pulled` };
  const name = basename(decodeURIComponent(url.pathname)).replace(/\.gguf$/i, '');
  if (!isValidModelName(name)) return { message: `${source}: the file name does not make a model name (letters, digits, . _ + -); rename it or download it yourself and use "modelPath"` };
  return { name, url: url.toString() };
}

async function readHeader(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start: 0, end: 7 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
