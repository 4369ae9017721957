import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_TOOL_SUPPORT_REASON } from '../../server/src/providers/classify.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { collect, errorOf, modelFor, toolRequest } from './provider-harness.js';

/**
 * Servers refusing a request's tools, through the official SDKs on the real wire: classified once
 * as reason "no-tool-support" (the agent switches to edit blocks on it), and never retried.
 */

let server: FakeModelServer;
let refusing: FakeModelServer;
beforeAll(async () => {
  server = await startFakeModelServer();
  refusing = await startFakeModelServer({ refuseTools: true });
});
afterAll(async () => {
  await server.close();
  await refusing.close();
});
beforeEach(() => {
  server.reset();
  refusing.reset();
});

describe('a server that refuses tools', () => {
  it.each(['ollama', 'openai-compatible'] as const)('%s: 400 "does not support tools" is no-tool-support, sent once', async (kind) => {
    const error = errorOf(await collect(modelFor(kind, refusing).model, toolRequest));
    expect(error).toMatchObject({ kind: 'bad-request', statusCode: 400, reason: NO_TOOL_SUPPORT_REASON });
    expect(error.message).toContain('does not support tools');
    expect(error.message).toContain('"tools": "auto" or "text"');
    expect(refusing.modelRequests).toHaveLength(1);
  });

  it.each([
    [500, 'tools param requires --jinja flag'],
    [500, 'Unsupported param: tools'],
    [400, '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'],
  ])('llama.cpp / vLLM: %i %j is no-tool-support and not retried like other 5xx', async (status, message) => {
    server.enqueue({ status, errorMessage: message });
    const harness = modelFor('openai-compatible', server);
    const error = errorOf(await collect(harness.model, toolRequest));
    expect(error).toMatchObject({ kind: 'bad-request', statusCode: status, reason: NO_TOOL_SUPPORT_REASON });
    expect(server.modelRequests).toHaveLength(1);
    expect(harness.waits).toEqual([]);
  });

  it('other 400s keep their own classification', async () => {
    server.enqueue({ status: 400, errorMessage: 'Invalid value for temperature' });
    const error = errorOf(await collect(modelFor('ollama', server).model, toolRequest));
    expect(error.kind).toBe('bad-request');
    expect(error.reason).not.toBe(NO_TOOL_SUPPORT_REASON);
  });
});
