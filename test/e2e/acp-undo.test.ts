import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { client, ndJsonStream, type SessionNotification } from '@agentclientprotocol/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { BIN, makeWorkspace, TEST_KEYS, writeConfig, type Workspace } from './harness.js';

/**
 * ACP's `/undo`: a prompt that is exactly `/undo` reverts the session workspace's most recently
 * applied proposal through the editor's fs (reads and writes go through the client), answers
 * with one line and never calls the model.
 */

const SOURCE = Array.from({ length: 12 }, (_, index) => `export const v${index + 1} = ${index + 1};\n`).join('');
const EDITED = SOURCE.replace('v6 = 6', 'v6 = 60');

describe('codebench acp: /undo', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/values.ts': SOURCE });
    writeConfig(workspace, fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('reverts the last applied edit through fs/*, keeps a later line of the user, answers in one line, calls no model', async () => {
    const file = join(workspace.root, 'src', 'values.ts');
    const child = spawn(process.execPath, [BIN, 'acp'], {
      cwd: workspace.root,
      env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...TEST_KEYS },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const updates: SessionNotification[] = [];
    const reads: string[] = [];
    const writes: Array<{ path: string; content: string }> = [];
    // An editor whose buffers are saved: fs reads and writes reach the disk.
    const app = client({ name: 'test-editor' })
      .onNotification('session/update', ({ params }) => {
        updates.push(params);
      })
      .onRequest('session/request_permission', async () => ({ outcome: { outcome: 'selected', optionId: 'apply' } }))
      .onRequest('fs/read_text_file', ({ params }) => {
        reads.push(params.path);
        return { content: readFileSync(params.path, 'utf8') };
      })
      .onRequest('fs/write_text_file', ({ params }) => {
        writes.push({ path: params.path, content: params.content });
        writeFileSync(params.path, params.content);
        return {};
      });
    const connection = app.connect(ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>));
    await connection.agent.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: false } });
    const { sessionId } = await connection.agent.request('session/new', { cwd: workspace.root, mcpServers: [] });
    const said = () =>
      updates
        .filter((notification) => notification.update.sessionUpdate === 'agent_message_chunk')
        .map((notification) => (notification.update as any).content?.text ?? '')
        .join('');

    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'src/values.ts', old_string: 'v6 = 6', new_string: 'v6 = 60' } }] }, { text: 'Done.' });
    await connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'make v6 sixty' }] });
    expect(readFileSync(file, 'utf8')).toBe(EDITED);
    writeFileSync(file, `${EDITED}export const mine = 0;\n`);
    const modelCalls = fake.modelRequests.length;
    updates.length = 0;
    writes.length = 0;
    reads.length = 0;

    const response = await connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: '/undo' }] });
    expect(response.stopReason).toBe('end_turn');
    expect(said()).toBe('codebench: reverted "src/values.ts (+1 −1)" in src/values.ts');
    expect(reads).toEqual([file]);
    expect(writes).toEqual([{ path: file, content: `${SOURCE}export const mine = 0;\n` }]);
    expect(fake.modelRequests.length).toBe(modelCalls);

    updates.length = 0;
    await connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: '/undo' }] });
    expect(said()).toBe('codebench: no applied agent change to undo in this workspace');
    expect(fake.modelRequests.length).toBe(modelCalls);

    connection.close();
    child.stdin!.end();
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
  });
});
