import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Requests } from '../../server/src/protocol/methods.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig } from './harness.js';

/**
 * The server loads its services (agent, history database) after `initialize`. A load that fails
 * must not be remembered: the user fixes the cause and the next request works, without
 * restarting the editor; and the failure is shown once, not left for every request to hit.
 */
describe('services that fail to load', () => {
  let fake: FakeModelServer;
  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('are shown once, and the next request after the fix loads them', async () => {
    const workspace = makeWorkspace({ 'a.txt': 'hello\n' });
    writeConfig(workspace, fake);
    // A file where the data directory should be: the database cannot be created. (A directory
    // without write permission fails the same way, but these tests may run as root, who ignores it.)
    writeFileSync(workspace.dataDir, 'not a directory\n');
    const client = TestClient.start({ profile: 'neovim', workspace, env: { HOME: workspace.root } });
    await client.initialize();
    // Opening a document loads the services: the failure is shown at once, naming the directory.
    await client.open(workspace.uri('a.txt'), 'hello\n', 'text');
    const shown = await client.waitFor(() => client.messages.find((message) => message.type === 1), 10_000, 'the load failure');
    expect(shown.message).toMatch(/^codebench could not start: Cannot open history database .*codebench\.db: /);
    expect(shown.message).toContain(`Make ${workspace.dataDir} a writable directory, or set CODEBENCH_DATA_DIR to one.`);
    expect(shown.message).toContain('The next request tries again.');

    // Requests meanwhile fail with the same words, and it is not shown again for each of them.
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(client.request(Requests.sessions.method, {})).rejects.toThrow(/Cannot open history database/);
    }
    expect(client.messages.filter((message) => message.type === 1)).toHaveLength(1);

    // The user fixes it; the next request loads the services and everything works.
    rmSync(workspace.dataDir);
    expect(await client.request(Requests.sessions.method, {})).toEqual({ sessions: [] });
    fake.enqueue({ text: 'loaded after all' });
    const result = await client.request(Requests.ask.method, { uri: workspace.uri('a.txt'), instruction: 'say something', provider: 'ollama' });
    expect(result).toMatchObject({ status: 'completed', text: 'loaded after all' });
    const { sessions } = await client.request(Requests.sessions.method, {});
    expect(sessions.map((session: { id: string }) => session.id)).toEqual([result.sessionId]);
    expect(client.messages.filter((message) => message.type === 1)).toHaveLength(1);
    expect(await client.stop()).toBe(0);
  });
});
