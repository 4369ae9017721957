import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, type Workspace } from './harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

/**
 * The tool-calling ladder over the real server and the real wire: a model whose server refuses
 * tools gets edit blocks instead (and is remembered in the store), calls written into the text
 * run like native ones, and text mode stages its blocks through the same tools and checks.
 */

const greet = (word: string) => ['export function greet(name: string): string {', `  return "${word}";`, '}', ''].join('\n');
const GREETED = ['export function greet(name: string): string {', '  return `hello, ${name}`;', '}', ''].join('\n');

/** The reply the issue shows, for one file. */
function editBlock(path: string, search: string, replace: string): string {
  return [`I changed ${path}.`, '', path, '```ts', '<<<<<<< SEARCH', search, '=======', replace, '>>>>>>> REPLACE', '```', ''].join('\n');
}

describe('the tool-calling ladder', () => {
  let fake: FakeModelServer;
  let noTools: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  const files: Record<string, string> = {
    'src/a.ts': greet('hello'),
    'src/b.ts': greet('hello'),
    'src/c.ts': greet('hello'),
    'src/d.ts': greet('hello'),
    'src/e.ts': greet('hello'),
    'src/f.ts': greet('hello'),
    '.env': 'SECRET=hunter2\n',
  };

  function writeLadderConfig(): void {
    const ollama = (baseURL: string, model: string, extra: Record<string, unknown> = {}) => ({ kind: 'ollama', model, baseURL, timeoutSeconds: 10, ...extra });
    writeFileSync(
      workspace.configFile,
      JSON.stringify({
        defaultProvider: 'local',
        providers: {
          local: ollama(fake.url, 'qwen-test'),
          gemma: ollama(noTools.url, 'gemma:2b'),
          edits: ollama(fake.url, 'qwen-test', { tools: 'text' }),
          compatibleEdits: { kind: 'openai-compatible', model: 'local-test', baseURL: `${fake.url}/v1`, timeoutSeconds: 10, tools: 'text' },
        },
      }),
    );
  }

  async function startClient(): Promise<void> {
    client = TestClient.start({ profile: 'helix', workspace, runEvents: true });
    await client.initialize();
  }

  async function ask(path: string, instruction: string, provider: string): Promise<any> {
    const uri = workspace.uri(path);
    if (!client.opened.has(uri)) await client.open(uri, files[path]!);
    return client.request(Requests.ask.method, { uri, instruction, provider });
  }

  async function diffOf(result: any): Promise<string> {
    expect(result.status, result.error).toBe('completed');
    expect(result.proposalId).toBeDefined();
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: result.sessionId });
    return proposals.find((proposal: any) => proposal.id === result.proposalId).diff;
  }

  const notices = (runId: string): string[] =>
    client.runEvents
      .filter((batch) => batch.runId === runId)
      .flatMap((batch) => batch.events)
      .filter((event: any) => event.type === 'notice')
      .map((event: any) => event.message);
  const sentTools = (request: RecordedRequest): unknown => request.body.tools;
  const lastUserText = (request: RecordedRequest): string => request.body.messages.filter((message: any) => message.role === 'user').at(-1).content;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    noTools = await startFakeModelServer({ refuseTools: true });
    workspace = makeWorkspace(files);
    writeLadderConfig();
    await startClient();
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
    await noTools.close();
  });

  it('(a) retries in text mode when Ollama says the model does not support tools, and the next ask starts there', async () => {
    noTools.enqueue({ text: editBlock('src/a.ts', '  return "hello";', '  return `hello, ${name}`;') });
    const first = await ask('src/a.ts', 'greet by name', 'gemma');
    expect(await diffOf(first)).toContain('+  return `hello, ${name}`;');
    const [refused, retried] = noTools.modelRequests;
    expect(noTools.modelRequests).toHaveLength(2);
    expect(sentTools(refused!)).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'function' })]));
    expect(retried!.body).not.toHaveProperty('tools');
    expect(retried!.body.messages[0].content).toContain('<<<<<<< SEARCH');
    // The file reaches a text-mode model without read_file's line numbers, so SEARCH can be copied from it.
    expect(lastUserText(retried!)).toContain('\n  return "hello";\n');
    expect(notices(first.runId)).toContain('model gemma:2b has no tool support; using edit blocks');

    // A new server process: what was learned is in the store, not in memory.
    expect(await client.stop()).toBe(0);
    await startClient();
    noTools.reset();
    noTools.enqueue({ text: editBlock('src/b.ts', '  return "hello";', '  return "hi";') });
    const second = await ask('src/b.ts', 'say hi', 'gemma');
    expect(await diffOf(second)).toContain('+  return "hi";');
    expect(noTools.modelRequests).toHaveLength(1);
    expect(noTools.modelRequests[0]!.body).not.toHaveProperty('tools');
    expect(notices(second.runId)).toContain('model gemma:2b has no tool support; using edit blocks');
  });

  it('(b) runs <tool_call> calls written into the content, keeping the text around them', async () => {
    fake.reset();
    const call = { name: 'edit_file', arguments: { path: 'src/c.ts', old_string: '  return "hello";', new_string: '  return "{braces} in a string";' } };
    fake.enqueue({ text: `Let me fix that.\n<tool_call>\n${JSON.stringify(call)}\n</tool_call>` }, { text: 'Done.' });
    const result = await ask('src/c.ts', 'change the greeting', 'local');
    expect(await diffOf(result)).toContain('+  return "{braces} in a string";');
    expect(result.text).toBe('Let me fix that.\n\nDone.');
    // The call went back into the history as a native one, with its result.
    const followUp = fake.modelRequests[1]!.body.messages;
    expect(followUp.at(-2)).toMatchObject({ role: 'assistant', content: 'Let me fix that.', tool_calls: [{ function: { name: 'edit_file' } }] });
    expect(followUp.at(-1)).toMatchObject({ role: 'tool', tool_name: 'edit_file' });
    expect(followUp.at(-1).content).toContain('Edited src/c.ts');
  });

  it('(c) runs a reply that is only a JSON call (fenced, arguments as a JSON string)', async () => {
    fake.reset();
    const args = JSON.stringify({ path: 'src/d.ts', old_string: '  return "hello";', new_string: '  return "bare";' });
    fake.enqueue({ text: `\`\`\`json\n${JSON.stringify({ name: 'edit_file', arguments: args })}\n\`\`\`` }, { text: 'Changed it.' });
    const result = await ask('src/d.ts', 'change the greeting', 'local');
    expect(await diffOf(result)).toContain('+  return "bare";');
    expect(result.text).toBe('Changed it.');
  });

  it('(d, e) reports a SEARCH that matches nothing once, then lands the corrected block; tools: "text" never sends tools', async () => {
    fake.reset();
    fake.enqueue(
      { text: editBlock('src/e.ts', '  return "goodbye";', '  return "bye";') },
      { text: editBlock('src/e.ts', '  return "hello";', '  return "bye";') },
    );
    const result = await ask('src/e.ts', 'say bye', 'edits');
    expect(await diffOf(result)).toContain('+  return "bye";');
    expect(fake.modelRequests).toHaveLength(2);
    const report = lastUserText(fake.modelRequests[1]!);
    expect(report).toContain('0 of 1 edit blocks were applied');
    // edit_file's own words (and matching) judged the SEARCH text.
    expect(report).toContain('The block for src/e.ts at line 5 of your reply failed: old_string was not found in src/e.ts');
    for (const request of fake.modelRequests) expect(request.body).not.toHaveProperty('tools');

    // The same on the OpenAI wire.
    fake.reset();
    fake.enqueue({ text: editBlock('src/f.ts', '  return "hello";', '  return "compatible";') });
    const compatible = await ask('src/f.ts', 'change it', 'compatibleEdits');
    expect(await diffOf(compatible)).toContain('+  return "compatible";');
    expect(fake.modelRequests).toHaveLength(1);
    expect(fake.modelRequests[0]!.wire).toBe('openai');
    expect(fake.modelRequests[0]!.body).not.toHaveProperty('tools');
  });

  it('(f) creates a file from an empty SEARCH and refuses .env and paths outside the workspace as the tools do', async () => {
    fake.reset();
    const reply = [
      'src/new.ts',
      '```ts',
      '<<<<<<< SEARCH',
      '=======',
      'export const made = true;',
      '>>>>>>> REPLACE',
      '```',
      '',
      '.env',
      '<<<<<<< SEARCH',
      'SECRET=hunter2',
      '=======',
      'SECRET=stolen',
      '>>>>>>> REPLACE',
      '',
      '../outside.txt',
      '<<<<<<< SEARCH',
      '=======',
      'escaped',
      '>>>>>>> REPLACE',
    ].join('\n');
    fake.enqueue({ text: reply }, { text: 'Understood, only the new file then.' });
    const result = await ask('src/a.ts', 'add files', 'edits');
    const diff = await diffOf(result);
    expect(diff).toContain('+export const made = true;');
    expect(diff).not.toContain('SECRET');
    const { proposals } = await client.request(Requests.proposals.method, { sessionId: result.sessionId });
    expect(proposals[0].files.map((file: any) => file.path)).toEqual(['src/new.ts']);
    expect(existsSync(join(workspace.root, '..', 'outside.txt'))).toBe(false);

    const report = lastUserText(fake.modelRequests[1]!);
    expect(report).toContain('1 of 3 edit blocks were applied; 2 failed');
    expect(report).toContain('.env is a protected file');
    expect(report).toContain('path ../outside.txt is outside the workspace');
  });
});
