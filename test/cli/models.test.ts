import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tinyGguf } from '../fakes/gguf.js';
import { createCliSandbox, runInSandbox, type CliSandbox } from './run-cli.js';

// `codebench models pull|list|rm` against a file server on 127.0.0.1: nothing leaves the machine.
const model = tinyGguf({ seed: 7 });
const modelSha = createHash('sha256').update(model).digest('hex');
const notGguf = Buffer.alloc(200_000, 'this is an HTML error page, not a model\n');

let server: Server;
let base: string;
const requests: Array<{ path: string; range?: string }> = [];
/** Paths whose first request is cut half-way (the socket destroyed). */
const cutOnce = new Set<string>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({ path, ...(request.headers.range ? { range: request.headers.range } : {}) });
    const body = path.startsWith('/not-a-model') ? notGguf : model;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const slice = body.subarray(start);
    response.writeHead(range ? 206 : 200, {
      'content-length': String(slice.length),
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (cutOnce.delete(path)) {
      // Half the file, then the connection drops.
      response.write(slice.subarray(0, Math.floor(slice.length / 2)), () => setTimeout(() => request.socket.destroy(), 20));
      return;
    }
    response.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('codebench models', () => {
  let sandbox: CliSandbox;
  beforeEach(() => {
    requests.length = 0;
    sandbox?.cleanup();
    sandbox = createCliSandbox('codebench-models-');
  });

  const modelsDir = () => join(sandbox.dataDir, 'models');

  it('pulls by URL with progress, names the model after the file, lists and removes it', async () => {
    const pulled = await runInSandbox(sandbox, ['models', 'pull', `${base}/files/tiny-coder.gguf`, '--sha256', modelSha]);
    expect(pulled.stderr).toMatch(/downloading 100%: .* at .*\/s/);
    expect(pulled.stdout).toContain('pulled tiny-coder');
    expect(pulled.stdout).toContain('SHA-256 verified (--sha256)');
    expect(pulled.code).toBe(0);
    expect(readFileSync(join(modelsDir(), 'tiny-coder.gguf')).equals(model)).toBe(true);
    expect(readdirSync(modelsDir())).toEqual(['tiny-coder.gguf']);

    const listed = await runInSandbox(sandbox, ['models', 'list']);
    expect(listed.stdout).toMatch(/^tiny-coder {2}\d+(\.\d)? KB {2}\S+tiny-coder\.gguf {2}unused$/m);

    const removed = await runInSandbox(sandbox, ['models', 'rm', 'tiny-coder']);
    expect(removed.stdout).toBe('removed tiny-coder\n');
    expect(existsSync(join(modelsDir(), 'tiny-coder.gguf'))).toBe(false);
    const again = await runInSandbox(sandbox, ['models', 'rm', 'tiny-coder']);
    expect(again.code).toBe(1);
  });

  it('resumes a download cut half-way with a Range request', async () => {
    cutOnce.add('/files/cut.gguf');
    const pulled = await runInSandbox(sandbox, ['models', 'pull', `${base}/files/cut.gguf`, '--sha256', modelSha]);
    expect(pulled.stderr, pulled.stderr).toMatch(/resuming at \d/);
    expect(pulled.code).toBe(0);
    const ranges = requests.filter((entry) => entry.path === '/files/cut.gguf');
    expect(ranges).toHaveLength(2);
    expect(ranges[0]!.range).toBeUndefined();
    expect(ranges[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(ranges[1]!.range!)![0])).toBeGreaterThan(0);
    expect(readFileSync(join(modelsDir(), 'cut.gguf')).equals(model)).toBe(true);
  });

  it('refuses a wrong checksum and removes the partial file', async () => {
    const wrong = 'ab'.repeat(32);
    const pulled = await runInSandbox(sandbox, ['models', 'pull', `${base}/files/bad-sum.gguf`, '--sha256', wrong]);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr.trim().split('\n').at(-1)).toBe(`codebench: Refused bad-sum: its SHA-256 is ${modelSha}, expected ${wrong}; the download was deleted.`);
    expect(readdirSync(modelsDir())).toEqual([]);
  });

  it('refuses a file that is not GGUF with one error naming it, and deletes it', async () => {
    const url = `${base}/not-a-model.gguf`;
    const pulled = await runInSandbox(sandbox, ['models', 'pull', url]);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toContain(`Refused ${url}: it is not a GGUF file (no "GGUF" magic at its start); the download was deleted.`);
    expect(readdirSync(modelsDir())).toEqual([]);
  });
});
