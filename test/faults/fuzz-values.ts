import type { ChildProcess } from 'node:child_process';
import { frame } from './fault-harness.js';
import { Commands } from '../../server/src/protocol/methods.js';

/** Random JSON values and a raw LSP wire for protocol-fuzz.test.ts. */

export type Random = () => number;

const KEYS = ['uri', 'textDocument', 'range', 'start', 'line', 'character', 'instruction', 'sessionId', 'query', 'limit', 'runId', 'command', 'arguments', 'proposalId', 'hunks', 'settings', 'codebench', 'event', 'contentChanges', 'text', 'version', 'id', '__proto__', 'constructor'];
const STRINGS = ['', ' ', 'file:///', 'file:///etc/passwd', '../../x', '\u0000', '\ud800', 'é😀', '%', '${x}', Commands.ask.command, 'null', '-1', 'a'.repeat(5000)];
const NUMBERS = [0, -1, 1, 0.5, -0.0, 1e308, -1e308, 2 ** 31, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER, 1e-300];

export function randomValue(random: Random, depth: number): unknown {
  const roll = random();
  if (depth <= 0 || roll < 0.45) {
    const leaf = random();
    if (leaf < 0.15) return null;
    if (leaf < 0.3) return random() < 0.5;
    if (leaf < 0.55) return NUMBERS[Math.floor(random() * NUMBERS.length)];
    if (leaf < 0.8) return STRINGS[Math.floor(random() * STRINGS.length)];
    return String.fromCodePoint(...Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * 0x2ffff)));
  }
  if (roll < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth - 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 5); i > 0; i--) object[KEYS[Math.floor(random() * KEYS.length)]!] = randomValue(random, depth - 1);
  return object;
}

interface Response {
  id: unknown;
  result?: unknown;
  error?: { code: unknown; message: unknown };
}

/** Writes raw frames to the server's stdin and parses what comes back, answering its requests. */
export class LspWire {
  readonly expected = new Map<string, string>();
  readonly responses = new Map<string, Response>();
  readonly outputProblems: string[] = [];
  stderr = '';
  private buffer = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-20_000)));
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const match = /^Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString('ascii'));
      if (!match) {
        this.outputProblems.push(`bad header from server: ${this.buffer.subarray(0, 80).toString()}`);
        this.buffer = Buffer.alloc(0);
        return;
      }
      const length = Number(match[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      let message: any;
      try {
        message = JSON.parse(body);
      } catch {
        this.outputProblems.push(`server sent non-JSON: ${body.slice(0, 80)}`);
        continue;
      }
      if (typeof message.method === 'string' && message.id !== undefined) {
        // A request from the server (progress tokens, applyEdit): answer so nothing waits on us.
        const result = message.method === 'workspace/applyEdit' ? { applied: false } : null;
        this.write(frame(JSON.stringify({ jsonrpc: '2.0', id: message.id, result })));
      } else if (message.id !== undefined && message.method === undefined) {
        const key = JSON.stringify(message.id);
        if (this.responses.has(key) && this.expected.has(key)) this.outputProblems.push(`answered twice: ${key}`);
        this.responses.set(key, message);
      }
      for (const waiter of [...this.waiters]) waiter();
    }
  }

  private write(bytes: Buffer | string): void {
    if (!this.child.stdin!.destroyed) this.child.stdin!.write(bytes);
  }

  /** Sends one well-framed message; `expectAnswer` records its id as one that must be answered. */
  send(message: unknown, expectAnswer: boolean): void {
    const id = (message as { id?: unknown } | null)?.id;
    if (expectAnswer) this.expected.set(JSON.stringify(id), (message as { method: string }).method);
    this.write(frame(JSON.stringify(message)));
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params }, false);
  }

  /** A framing fault around `message`; returns its name. Requests still answerable are expected. */
  mangled(random: Random, message: { id: number | string; [key: string]: unknown }): string {
    const body = Buffer.from(JSON.stringify(message));
    const roll = random();
    if (roll < 0.25) {
      // Too long, then the missing bytes as whitespace: decoded late, and answered.
      const extra = 1 + Math.floor(random() * 50);
      this.expected.set(JSON.stringify(message.id), 'too-long frame');
      this.write(Buffer.concat([frame(body, extra), Buffer.from(' '.repeat(extra))]));
      return 'too long';
    }
    if (roll < 0.5) {
      // Too short: the truncated JSON is a parse error; the leftover bytes end with a blank line.
      const short = 1 + Math.floor(random() * Math.min(20, body.length - 1));
      this.write(Buffer.concat([frame(body, -short), Buffer.from('\r\n\r\n')]));
      return 'too short';
    }
    if (roll < 0.65) {
      this.write(Buffer.concat([Buffer.from('X-Fuzz: yes\r\n\r\n'), body]));
      this.write('\r\n\r\n');
      return 'no content-length';
    }
    if (roll < 0.8) {
      this.write('Content-Length: twelve\r\n\r\n');
      return 'length not a number';
    }
    const garbage = body.toString().replace(/[{}":]/g, (c) => (random() < 0.5 ? '' : c));
    this.write(frame(garbage.length > 0 ? `${garbage}}` : '{'));
    return 'body not JSON';
  }

  drain(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.stdin!.writableNeedDrain) this.child.stdin!.once('drain', () => resolve());
      else setImmediate(resolve);
    });
  }

  /** Waits until every expected id has a response; returns the ones still missing. */
  waitForAnswers(timeoutMs: number): Promise<string[]> {
    const missing = () => [...this.expected.keys()].filter((key) => !this.responses.has(key)).map((key) => `${key} (${this.expected.get(key)})`);
    return new Promise((resolve) => {
      const check = () => {
        if (missing().length > 0) return;
        done();
      };
      const done = () => {
        clearTimeout(timer);
        clearInterval(poke);
        this.waiters.delete(check);
        resolve(missing());
      };
      const timer = setTimeout(done, timeoutMs);
      // vscode-jsonrpc stops reading the current chunk at a framing error and resumes only when more
      // bytes arrive: keep a trickle of harmless notifications coming so any backlog is read.
      const poke = setInterval(() => this.write(frame('{"jsonrpc":"2.0","method":"$/fuzzPoke"}')), 20);
      this.child.once('exit', () => clearInterval(poke));
      this.waiters.add(check);
      this.child.once('exit', done);
      check();
    });
  }

  /** Responses that are neither a result nor an error with a numeric code and a message. */
  badResponses(): string[] {
    return [...this.responses.values()]
      .filter((r) => !('result' in r) && !(r.error && typeof r.error.code === 'number' && typeof r.error.message === 'string'))
      .map((r) => JSON.stringify(r).slice(0, 200));
  }

  /** InternalError (-32603) messages by count: handlers that threw instead of validating. */
  internalErrors(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.responses.values()) {
      if (r.error?.code !== -32603) continue;
      const key = String(r.error.message).slice(0, 120);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  private nextOwnId = 1;

  async request(method: string, params: unknown, timeoutMs = 10_000): Promise<unknown> {
    const id = `own-${this.nextOwnId++}`;
    this.send({ jsonrpc: '2.0', id, method, params }, true);
    const key = JSON.stringify(id);
    const deadline = Date.now() + timeoutMs;
    while (!this.responses.has(key)) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no answer to ${method}; stderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const response = this.responses.get(key)!;
    if (response.error) throw new Error(`${method} failed: ${JSON.stringify(response.error)}`);
    return response.result;
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}
