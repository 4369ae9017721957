import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An Ollama-compatible NDJSON endpoint that streams tokens at a set rate and records when each
 * was written and when the client went away, so latency and cancel figures are measured at the
 * wire, not inferred.
 */
export interface StreamServer {
  url: string;
  /** Set before a request: how many tokens, how fast. */
  plan: { tokens: number; tokensPerSecond: number };
  firstTokenAt: number;
  lastTokenAt: number;
  closedAt: number;
  close(): Promise<void>;
}

export async function startStreamServer(): Promise<StreamServer> {
  const state: StreamServer = {
    url: '',
    plan: { tokens: 10, tokensPerSecond: 1000 },
    firstTokenAt: 0,
    lastTokenAt: 0,
    closedAt: 0,
    close: async () => undefined,
  };
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"models":[]}');
      return;
    }
    // Asked once per model before the first chat (context length, capabilities); not a stream.
    if (request.url === '/api/show') {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"model_info":{"general.architecture":"bench","bench.context_length":32768}}');
      return;
    }
    request.resume();
    request.on('end', () => {
      const { tokens, tokensPerSecond } = state.plan;
      state.firstTokenAt = 0;
      state.closedAt = 0;
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.on('close', () => (state.closedAt = performance.now()));
      const line = (content: string) => `${JSON.stringify({ model: 'bench', created_at: new Date().toISOString(), message: { role: 'assistant', content }, done: false })}\n`;
      const start = performance.now();
      let sent = 0;
      const tick = () => {
        if (response.destroyed) return;
        // Catch up to the schedule in one write when the timer was late.
        const due = Math.min(tokens, Math.floor(((performance.now() - start) / 1000) * tokensPerSecond) + 1);
        let chunk = '';
        while (sent < due) chunk += line(`t${sent++} `);
        if (chunk) {
          response.write(chunk);
          if (state.firstTokenAt === 0) state.firstTokenAt = performance.now();
          state.lastTokenAt = performance.now();
        }
        if (sent >= tokens) {
          response.end(`${JSON.stringify({ model: 'bench', created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 10, eval_count: tokens })}\n`);
          return;
        }
        setTimeout(tick, Math.max(1, 1000 / tokensPerSecond));
      };
      tick();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
