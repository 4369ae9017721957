import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, type Workspace } from './harness.js';
import { Commands } from '../../server/src/protocol/methods.js';

/**
 * A 400-line file (the most the context message inlines whole): with the system prompt and tool
 * schemas, far beyond Ollama's 2–4k default context.
 */
const BIG_FILE = Array.from({ length: 400 }, (_, index) => `export const value${index} = computeSomething(${index}, "a line of sample text");`).join('\n');

/** What the request costs by codebench's own rule (3.5 characters a token), from the wire body. */
function promptEstimate(body: any): number {
  const text = body.messages.map((message: any) => message.content ?? '').join('') + JSON.stringify(body.tools ?? []);
  return Math.ceil(text.length / 3.5);
}

describe('Ollama context sizing over stdio (/api/show, num_ctx)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer({
      modelInfo: {
        'qwen-test': { contextLength: 32_768, capabilities: ['completion', 'tools'] },
        'tiny-test': { contextLength: 4096, capabilities: ['completion', 'tools'] },
      },
    });
    workspace = makeWorkspace({ 'src/big.ts': BIG_FILE });
    const config = {
      defaultProvider: 'ollama',
      providers: {
        ollama: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url, timeoutSeconds: 10 },
        windowed: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url, timeoutSeconds: 10, contextWindow: 12_288 },
        tiny: { kind: 'ollama', model: 'tiny-test', baseURL: fake.url, timeoutSeconds: 10 },
        compatible: { kind: 'openai-compatible', model: 'local-test', baseURL: `${fake.url}/v1`, timeoutSeconds: 10, contextWindow: 4096 },
      },
    };
    writeFileSync(workspace.configFile, JSON.stringify(config, null, 2));
    client = TestClient.start({ profile: 'neovim', workspace, runEvents: true });
    await client.initialize();
    await client.open(workspace.uri('src/big.ts'), BIG_FILE);
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  async function ask(provider: string): Promise<{ finished: any; chat: RecordedRequest[] }> {
    const before = fake.requests.length;
    const started = await client.command(Commands.ask.command, { uri: workspace.uri('src/big.ts'), instruction: 'explain this file', provider });
    const finished = await client.waitFor(
      () => client.runEvents.filter((batch) => batch.runId === started.runId).flatMap((batch) => batch.events).find((event) => event.type === 'finished'),
      15_000,
      `the ${provider} run to finish`,
    );
    return { finished, chat: fake.requests.slice(before).filter((request) => request.wire !== undefined) };
  }

  it('sends num_ctx sized to the prompt plus the answer: at least 8192, at most the model allows', async () => {
    const { finished, chat } = await ask('ollama');
    expect(finished.status).toBe('completed');
    expect(chat).toHaveLength(1);
    const body = chat[0]!.body;
    // The whole file went, to the last line: nothing was cut on our side.
    expect(JSON.stringify(body.messages)).toContain('value399 = computeSomething(399');
    const estimate = promptEstimate(body);
    expect(estimate).toBeGreaterThan(4096);
    expect(body.options.num_ctx).toBeGreaterThanOrEqual(estimate + 4096);
    expect(body.options.num_ctx).toBeGreaterThanOrEqual(8192);
    expect(body.options.num_ctx).toBeLessThanOrEqual(32_768);
  });

  it('asks /api/show once per model, across asks', async () => {
    await ask('ollama');
    await ask('ollama');
    const shows = fake.requests.filter((request) => request.path === '/api/show');
    expect(shows.map((request) => request.body.model)).toEqual(['qwen-test']);
  });

  it('never sends more than contextWindow', async () => {
    const { finished, chat } = await ask('windowed');
    expect(finished.status).toBe('completed');
    expect(chat[0]!.body.options.num_ctx).toBeGreaterThanOrEqual(8192);
    expect(chat[0]!.body.options.num_ctx).toBeLessThanOrEqual(12_288);
  });

  it("refuses, before sending, a prompt beyond the model's own context", async () => {
    const { finished, chat } = await ask('tiny');
    expect(finished.status).toBe('failed');
    expect(finished.error).toMatch(/^Not sent to tiny \(tiny-test\): the prompt needs about [\d,]+ tokens plus 1,024 for the answer, but the model's context length is 4,096 tokens/);
    expect(chat).toEqual([]);
    // It did ask the server what the model holds.
    expect(fake.requests.some((request) => request.path === '/api/show' && request.body.model === 'tiny-test')).toBe(true);
  });

  it('holds an OpenAI-compatible server to its contextWindow the same way', async () => {
    const { finished, chat } = await ask('compatible');
    expect(finished.status).toBe('failed');
    expect(finished.error).toContain('contextWindow is 4,096 tokens');
    expect(chat).toEqual([]);
  });
});
