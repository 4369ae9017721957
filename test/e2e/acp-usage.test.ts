import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { client, ndJsonStream, type SessionNotification } from '@agentclientprotocol/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { BIN, makeWorkspace, TEST_KEYS, type Workspace } from './harness.js';

/**
 * ACP's `usage_update` (the SDK's UsageUpdate: `used` tokens in context, context `size`, the
 * session's cumulative `cost`) after every turn of `codebench acp`, checked by the SDK's client.
 */

describe('codebench acp sends usage_update after each turn', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/answer.ts': 'export const answer = 42;\n' });
    const config = {
      defaultProvider: 'anthropic',
      providers: {
        anthropic: {
          kind: 'anthropic', model: 'claude-test', baseURL: fake.url, apiKeyEnv: 'TEST_ANTHROPIC_KEY', timeoutSeconds: 10,
          contextWindow: 200_000, price: { input: 3, output: 15, cachedInput: 0.3 },
        },
      },
    };
    writeFileSync(workspace.configFile, JSON.stringify(config));
  });
  afterAll(async () => {
    await fake?.close();
    if (workspace) rmSync(dirname(workspace.root), { recursive: true, force: true });
  });

  it('reports the context in use, its size and the session’s cost so far', async () => {
    const child = spawn(process.execPath, [BIN, 'acp'], {
      cwd: workspace.root,
      env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...TEST_KEYS },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const updates: SessionNotification[] = [];
    const app = client({ name: 'test-editor' }).onNotification('session/update', ({ params }) => {
      updates.push(params);
    });
    const connection = app.connect(ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>));
    try {
      await connection.agent.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false } });
      const { sessionId } = await connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
      const usageUpdates = () => updates.filter((notification) => notification.update.sessionUpdate === 'usage_update').map((notification) => notification.update);

      fake.enqueue(
        { toolCalls: [{ name: 'read_file', args: { path: 'src/answer.ts' } }], usage: { inputTokens: 2000, outputTokens: 80, cachedInputTokens: 1500 } },
        { text: 'It is 42.', usage: { inputTokens: 2300, outputTokens: 120, cachedInputTokens: 1800 } },
      );
      const first = await connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'what is the answer?' }] });
      expect(first.stopReason, stderr).toBe('end_turn');
      // Sent before the turn's answer: the client has it when the prompt returns.
      const firstCost = ((4300 - 3300) * 3 + 3300 * 0.3 + 200 * 15) / 1e6;
      expect(usageUpdates()).toEqual([
        {
          sessionUpdate: 'usage_update',
          // The newest request's prompt and reply: what the model's context holds now.
          used: 2300 + 120,
          size: 200_000,
          cost: { amount: expect.closeTo(firstCost, 12), currency: 'USD' },
          _meta: { codebench: { inputTokens: 4300, outputTokens: 200, cachedInputTokens: 3300, costUsd: expect.closeTo(firstCost, 12) } },
        },
      ]);

      fake.enqueue({ text: 'Still 42.', usage: { inputTokens: 2600, outputTokens: 10, cachedInputTokens: 2400 } });
      expect((await connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'sure?' }] })).stopReason).toBe('end_turn');
      const secondCost = firstCost + ((2600 - 2400) * 3 + 2400 * 0.3 + 10 * 15) / 1e6;
      expect(usageUpdates()).toHaveLength(2);
      expect(usageUpdates()[1]).toMatchObject({ used: 2610, size: 200_000, cost: { amount: expect.closeTo(secondCost, 12), currency: 'USD' } });
      expect(updates.map((notification) => notification.sessionId).every((id) => id === sessionId)).toBe(true);
    } finally {
      connection.close();
      child.stdin!.end();
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
    }
  });
});
