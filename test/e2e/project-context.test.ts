import { randomBytes } from 'node:crypto';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

/**
 * What the model is told about the project before the request, through the built server and the
 * real wire, asserted on what the fake model received: the rules files from the root down to the
 * asked file (AGENTS.md, else CLAUDE.md), scrubbed and held to the sensitive-file policy and a
 * size limit; the project memory; and the workspace map in a session's first request only.
 */

// A fake Anthropic key in the real format (90 random characters), made at run time so no file holds one.
const ANTHROPIC_KEY = `sk-ant-api03-${randomBytes(90).toString('base64url').slice(0, 90)}`;
const ENV_CANARY = 'zebra-canary-4242';
const BIG_RULES = Array.from({ length: 3_000 }, (_, index) => `- big rule ${index}: name things plainly`).join('\n');

describe('project context in the prompt', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({
      'AGENTS.md': `Root rule: indent with tabs.\nDeploy with ANTHROPIC key ${ANTHROPIC_KEY} (do not share).\n`,
      'CLAUDE.md': 'Root CLAUDE rule: shadowed by AGENTS.md.\n',
      'src/AGENTS.md': 'Src rule: prefer pure functions.\n',
      'src/app.ts': 'export const app = 1;\n',
      'lib/CLAUDE.md': 'Lib CLAUDE rule: document every export.\n',
      'lib/util.ts': 'export const util = 1;\n',
      'secret/x.ts': 'export const x = 1;\n',
      'big/AGENTS.md': BIG_RULES,
      'big/x.ts': 'export const big = 1;\n',
      '.env': `TOKEN=${ENV_CANARY}\n`,
    });
    symlinkSync(join('..', '.env'), join(workspace.root, 'secret', 'AGENTS.md'));
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const firstUserText = (request: RecordedRequest): string => request.body.messages.filter((message: any) => message.role === 'user').at(-1).content;

  async function ask(path: string, instruction: string, sessionId?: string): Promise<{ sessionId: string; text: string }> {
    fake.enqueue({ text: 'Done.' });
    const result = await client.request<any>(Requests.ask.method, { uri: workspace.uri(path), instruction, sessionId });
    expect(result.status, result.error).toBe('completed');
    return { sessionId: result.sessionId, text: firstUserText(fake.modelRequests[0]!) };
  }

  it('gives the root and nested AGENTS.md, root first and named, redacted; the map in the first request only', async () => {
    fake.enqueue({ toolCalls: [{ name: 'read_file', args: { path: 'src/app.ts' } }] });
    const first = await ask('src/app.ts', 'explain app');
    expect(first.text).toMatch(/^Project rules \(.*\):\n\nAGENTS\.md:\n```\nRoot rule: indent with tabs\.\nDeploy with ANTHROPIC key \[redacted:anthropic key\] \(do not share\)\.\n```\n\nsrc\/AGENTS\.md:\n```\nSrc rule: prefer pure functions\.\n```\n/);
    expect(JSON.stringify(fake.modelRequests.map((request) => request.body))).not.toContain(ANTHROPIC_KEY.slice(13, 40));
    expect(first.text).not.toContain('Root CLAUDE rule');
    expect(first.text).toMatch(/Workspace map \(\d+ files; [^\n]*\):\n```\nbig\/\n  AGENTS\.md\n  x\.ts\nlib\/\n/);
    expect(first.text.indexOf('Workspace map')).toBeLessThan(first.text.indexOf('Request: explain app'));
    // Every request of the run starts with the same first user message: a stable prefix.
    expect(fake.modelRequests).toHaveLength(2);
    expect(firstUserText(fake.modelRequests[1]!)).toBe(first.text);
    fake.reset();

    const followUp = await ask('src/app.ts', 'and now?', first.sessionId);
    expect(followUp.sessionId).toBe(first.sessionId);
    expect(followUp.text).toContain('src/AGENTS.md:\n```\nSrc rule: prefer pure functions.');
    expect(JSON.stringify(fake.modelRequests[0]!.body)).not.toContain('Workspace map');
  });

  it('uses CLAUDE.md only where a directory has no AGENTS.md', async () => {
    const { text } = await ask('lib/util.ts', 'document util');
    expect(text).toContain('AGENTS.md:\n```\nRoot rule');
    expect(text).toContain('lib/CLAUDE.md:\n```\nLib CLAUDE rule: document every export.\n```');
    expect(text).not.toContain('Root CLAUDE rule');
  });

  it('refuses a rules file that is a symbolic link to .env, like any protected read', async () => {
    const { text } = await ask('secret/x.ts', 'look');
    expect(text).toContain('Note: secret/AGENTS.md was not read: secret/AGENTS.md leads through a symbolic link to .env, a protected file');
    expect(JSON.stringify(fake.modelRequests[0]!.body)).not.toContain(ENV_CANARY);
  });

  it('cuts a rules file that is too large, with a note', async () => {
    const { text } = await ask('big/x.ts', 'look');
    expect(text).toMatch(/\n- big rule \d+: name things plainly\n```\nNote: big\/AGENTS\.md was cut: [\d,]+ of its [\d,]+ characters are shown \(the 2,000-token limit per rules file\)\.\n/);
    expect(text).toContain('- big rule 0: name things plainly');
    expect(text).not.toContain('- big rule 2999:');
  });

  it('gives the project memory, with fact ids, in the next ask', async () => {
    const { fact } = await client.request<any>(Requests.memoryAdd.method, { text: 'The build uses pnpm, never npm.' });
    const { text } = await ask('src/app.ts', 'add a dependency');
    expect(text).toContain(`Project memory (facts kept for this workspace, each with its id):\n- [${fact.id}] The build uses pnpm, never npm.`);
    await client.request(Requests.memoryRemove.method, { id: fact.id });
  });
});
