import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { collect, errorOf, KINDS, modelFor, ofType, textOf, toolRequest } from './provider-harness.js';

/** Happy paths through each official SDK against the fake server's real wire formats. */

let server: FakeModelServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

describe.each(KINDS)('%s streaming', (kind) => {
  it('streams text as several text-delta parts, then usage and finish', async () => {
    server.enqueue({ text: 'Hello there, this is a streamed answer.', usage: { inputTokens: 42, outputTokens: 9 } });
    const parts = await collect(modelFor(kind, server).model);

    const deltas = ofType(parts, 'text-delta');
    expect(deltas.length).toBeGreaterThan(3);
    expect(textOf(parts)).toBe('Hello there, this is a streamed answer.');
    expect(ofType(parts, 'usage')).toEqual([{ type: 'usage', usage: { inputTokens: 42, outputTokens: 9 } }]);
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(ofType(parts, 'error')).toEqual([]);
    expect(server.modelRequests).toHaveLength(1);
  });

  it('assembles a tool call streamed in fragments into one tool-call part', async () => {
    const args = { path: 'src/deep/nested/file.ts', startLine: 10, endLine: 20, note: 'fragmented "quoted" arg' };
    server.enqueue({ text: 'Let me look.', toolCalls: [{ id: 'call_abc', name: 'read_file', args }] });
    const parts = await collect(modelFor(kind, server).model, toolRequest);

    const calls = ofType(parts, 'tool-call');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.call.name).toBe('read_file');
    expect(calls[0]!.call.args).toEqual(args);
    // Ollama sends no ids; one is minted so the result can be matched to the call.
    if (kind === 'ollama') expect(calls[0]!.call.id).toMatch(/^call_/);
    else expect(calls[0]!.call.id).toBe('call_abc');
    expect(textOf(parts)).toBe('Let me look.');
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'tool-calls' });
  });

  it('emits two tool calls in order', async () => {
    server.enqueue({
      toolCalls: [
        { name: 'read_file', args: { path: 'a.ts' } },
        { name: 'list_dir', args: { path: '.' } },
      ],
    });
    const parts = await collect(modelFor(kind, server).model, toolRequest);
    const calls = ofType(parts, 'tool-call').map((p) => [p.call.name, p.call.args]);
    expect(calls).toEqual([
      ['read_file', { path: 'a.ts' }],
      ['list_dir', { path: '.' }],
    ]);
    const ids = ofType(parts, 'tool-call').map((p) => p.call.id);
    expect(new Set(ids).size).toBe(2);
  });

  it('reports finish length when the model ran out of tokens', async () => {
    server.enqueue({ text: 'cut short by the limit', finish: 'length' });
    const parts = await collect(modelFor(kind, server).model);
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'length' });
  });

  it('answers "ok" when nothing is queued', async () => {
    const parts = await collect(modelFor(kind, server).model);
    expect(textOf(parts)).toBe('ok');
    expect(server.modelRequests[0]!.turn).toEqual({ text: 'ok' });
  });
});

describe.each(['openai', 'openai-compatible', 'anthropic'] as const)('%s invalid tool arguments', (kind) => {
  it('passes invalid JSON through as __invalidJson so the model can be told', async () => {
    server.enqueue({ toolCalls: [{ id: 'call_bad', name: 'read_file', args: '{"path": "a.ts",' }] });
    const parts = await collect(modelFor(kind, server).model, toolRequest);
    const calls = ofType(parts, 'tool-call');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.call.args).toEqual({ __invalidJson: '{"path": "a.ts",' });
    expect(() => errorOf(parts)).toThrow();
  });
});
