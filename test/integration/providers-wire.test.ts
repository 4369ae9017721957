import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLanguageModel } from '../../server/src/providers/registry.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { collect, configFor, ENV, errorOf, KEYS, modelFor, ofType, textOf, toolRequest } from './provider-harness.js';

/** What each transport puts on the wire: the request shapes the real services expect. */

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

describe.each(['openai', 'openai-compatible'] as const)('%s request body', (kind) => {
  it('carries the system prompt, tool specs, prior tool calls and results', async () => {
    await collect(modelFor(kind, server, { temperature: 0.2, maxOutputTokens: 500 }).model, toolRequest);
    const [request] = server.modelRequests;
    expect(request!.path).toBe('/v1/chat/completions');
    const body = request!.body;
    expect(body.model).toBe('fake-model');
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.temperature).toBe(0.2);
    // api.openai.com wants max_completion_tokens; imitators mostly only know max_tokens.
    if (kind === 'openai') expect(body.max_completion_tokens).toBe(500);
    else expect(body.max_tokens).toBe(500);
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are codebench, a careful coding agent.' },
      { role: 'user', content: 'Open a.ts and b.ts' },
      {
        role: 'assistant',
        content: 'Reading both files.',
        tool_calls: [
          { id: 'call_prev_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } },
          { id: 'call_prev_2', type: 'function', function: { name: 'read_file', arguments: '{"path":"b.ts"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_prev_1', content: 'export const a = 1;' },
      { role: 'tool', tool_call_id: 'call_prev_2', content: 'ENOENT: b.ts' },
    ]);
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'read_file',
          description: 'Read a file from the workspace.',
          parameters: toolRequest.tools[0]!.parameters,
        },
      },
    ]);
    expect(request!.headers['x-stainless-retry-count']).toBe('0');
  });

  it('sends the key only as a bearer token', async () => {
    await collect(modelFor(kind, server).model);
    const [request] = server.modelRequests;
    const expected = kind === 'openai' ? KEYS.openai : 'not-needed';
    expect(request!.headers.authorization).toBe(`Bearer ${expected}`);
    expect(request!.rawBody).not.toContain(KEYS.openai);
  });
});

describe('anthropic request body', () => {
  it('puts the system prompt in `system`, merges consecutive tool results into one user turn', async () => {
    await collect(modelFor('anthropic', server).model, toolRequest);
    const [request] = server.modelRequests;
    expect(request!.path).toBe('/v1/messages');
    // SDK 1.x sends the key as a bearer token; older versions used x-api-key.
    const sentKey = request!.headers['x-api-key'] ?? request!.headers.authorization?.replace(/^Bearer /, '');
    expect(sentKey).toBe(KEYS.anthropic);
    const body = request!.body;
    expect(body.system).toBe('You are codebench, a careful coding agent.');
    expect(body.max_tokens).toBe(8192);
    expect(body.stream).toBe(true);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Open a.ts and b.ts' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Reading both files.' },
          { type: 'tool_use', id: 'call_prev_1', name: 'read_file', input: { path: 'a.ts' } },
          { type: 'tool_use', id: 'call_prev_2', name: 'read_file', input: { path: 'b.ts' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_prev_1', content: 'export const a = 1;' },
          { type: 'tool_result', tool_use_id: 'call_prev_2', content: 'ENOENT: b.ts', is_error: true },
        ],
      },
    ]);
    expect(body.tools).toEqual([
      {
        name: 'read_file',
        description: 'Read a file from the workspace.',
        input_schema: toolRequest.tools[0]!.parameters,
      },
    ]);
  });

  it('honours maxOutputTokens from the config', async () => {
    await collect(modelFor('anthropic', server, { maxOutputTokens: 1234 }).model);
    expect(server.modelRequests[0]!.body.max_tokens).toBe(1234);
  });
});

describe('ollama request body', () => {
  it('sends messages with tool_name, tools and options, streaming by default', async () => {
    await collect(modelFor('ollama', server, { temperature: 0, maxOutputTokens: 64 }).model, toolRequest);
    const [request] = server.modelRequests;
    expect(request!.path).toBe('/api/chat');
    const body = request!.body;
    expect(body.stream).toBe(true);
    // num_ctx: the prompt plus the answer budget, never below 8192 (issue 14).
    expect(body.options).toEqual({ num_predict: 64, temperature: 0, num_ctx: 8192 });
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are codebench, a careful coding agent.' },
      { role: 'user', content: 'Open a.ts and b.ts' },
      {
        role: 'assistant',
        content: 'Reading both files.',
        tool_calls: [
          { function: { name: 'read_file', arguments: { path: 'a.ts' } } },
          { function: { name: 'read_file', arguments: { path: 'b.ts' } } },
        ],
      },
      { role: 'tool', content: 'export const a = 1;', tool_name: 'read_file' },
      { role: 'tool', content: 'ENOENT: b.ts', tool_name: 'read_file' },
    ]);
    expect(body.tools).toEqual([{ type: 'function', function: { ...toolRequest.tools[0] } }]);
    expect(request!.headers.authorization).toBeUndefined();
  });

  it('with streamToolCalls: false makes a non-streaming call when tools are offered', async () => {
    server.enqueue({ text: 'Reading it.', toolCalls: [{ name: 'read_file', args: { path: 'c.ts' } }], usage: { inputTokens: 7, outputTokens: 3 } });
    const parts = await collect(modelFor('ollama', server, { streamToolCalls: false }).model, toolRequest);
    expect(server.modelRequests[0]!.body.stream).toBe(false);
    expect(textOf(parts)).toBe('Reading it.');
    expect(ofType(parts, 'tool-call').map((p) => p.call.args)).toEqual([{ path: 'c.ts' }]);
    expect(ofType(parts, 'usage')[0]!.usage).toEqual({ inputTokens: 7, outputTokens: 3 });
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'tool-calls' });
  });

  it.each(['openai', 'openai-compatible'] as const)('%s with streamToolCalls: false falls back to a non-streaming call', async (kind) => {
    server.enqueue({ text: 'Reading it.', toolCalls: [{ name: 'read_file', args: { path: 'c.ts' } }], usage: { inputTokens: 7, outputTokens: 3 } });
    const parts = await collect(modelFor(kind, server, { streamToolCalls: false }).model, toolRequest);
    expect(server.modelRequests[0]!.body.stream).toBe(false);
    expect(textOf(parts)).toBe('Reading it.');
    expect(ofType(parts, 'tool-call').map((p) => p.call.args)).toEqual([{ path: 'c.ts' }]);
    expect(ofType(parts, 'usage')[0]!.usage).toEqual({ inputTokens: 7, outputTokens: 3 });
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'tool-calls' });
  });

  it('with streamToolCalls: false still streams when no tools are offered', async () => {
    await collect(modelFor('ollama', server, { streamToolCalls: false }).model);
    expect(server.modelRequests[0]!.body.stream).toBe(true);
  });

  it('sends a bearer key only when apiKeyEnv names one', async () => {
    await collect(modelFor('ollama', server, { apiKeyEnv: 'CB_TEST_OLLAMA_KEY' }).model);
    expect(server.modelRequests[0]!.headers.authorization).toBe(`Bearer ${KEYS.ollama}`);
  });
});

describe('registry', () => {
  it('reports CLI kinds as not available yet', async () => {
    const model = createLanguageModel('cli', { kind: 'claude-cli' }, ENV);
    const error = errorOf(await collect(model));
    expect(error.kind).toBe('config');
    expect(error.message).toMatch(/not available yet/);
  });

  it('requires baseURL for openai-compatible', async () => {
    const model = createLanguageModel('lm', { kind: 'openai-compatible', model: 'x' }, ENV);
    const error = errorOf(await collect(model));
    expect(error.kind).toBe('config');
    expect(error.message).toMatch(/baseURL/);
  });

  it('reads OPENAI_API_KEY / ANTHROPIC_API_KEY when apiKeyEnv is unset, at call time', async () => {
    const env: NodeJS.ProcessEnv = {};
    const openai = createLanguageModel('o', { ...configFor('openai', server.url), apiKeyEnv: undefined } as never, env);
    const anthropic = createLanguageModel('a', { ...configFor('anthropic', server.url), apiKeyEnv: undefined } as never, env);
    expect(errorOf(await collect(openai)).message).toMatch(/OPENAI_API_KEY/);
    expect(errorOf(await collect(anthropic)).message).toMatch(/ANTHROPIC_API_KEY/);
    expect(server.modelRequests).toHaveLength(0);

    env.OPENAI_API_KEY = 'sk-late-bound-key-123456';
    const parts = await collect(openai);
    expect(textOf(parts)).toBe('ok');
    expect(server.modelRequests[0]!.headers.authorization).toBe('Bearer sk-late-bound-key-123456');
  });
});
