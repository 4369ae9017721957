import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Requests } from '../../server/src/protocol/methods.js';

/**
 * edit_file through the built server with the old_strings local models really send: trailing
 * whitespace and the wrong line endings, a block at another indentation, read_file's line-number
 * prefixes copied along. Each lands exactly where it should; an ambiguous one is refused, the
 * model is told where the candidates are, and nothing is proposed.
 */

const SUM = ['export function sum(items: number[]): number {', '  let total = 0;', '  for (const item of items) {', '    total += item;', '  }', '  return total;', '}', ''];

const TWICE = [
  'export function a(): void {',
  '  if (ready) {',
  '    start();',
  '  }',
  '}',
  'export class B {',
  '  run(): void {',
  '    if (ready) {',
  '      start();',
  '    }',
  '  }',
  '}',
  '',
];

describe('edit_file survives sloppy old_strings', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({
      'src/spaces.ts': SUM.join('\n'),
      'src/indent.ts': SUM.join('\n'),
      'src/numbers.ts': SUM.join('\r\n'),
      'src/twice.ts': TWICE.join('\n'),
    });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  async function askEdit(file: string, text: string, oldString: string, newString: string) {
    const uri = workspace.uri(file);
    await client.open(uri, text);
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: file, old_string: oldString, new_string: newString } }] }, { text: 'Done.' });
    const before = fake.modelRequests.length;
    const finished = await client.request<any>(Requests.ask.method, { uri, instruction: `edit ${file}`, provider: 'openai' });
    const toolResult = JSON.stringify(fake.modelRequests[before + 1]!.body.messages.at(-1));
    return { uri, finished, toolResult };
  }

  it('matches despite trailing whitespace and CRLF line endings in old_string', async () => {
    const text = SUM.join('\n');
    const { uri, finished, toolResult } = await askEdit('src/spaces.ts', text, '  let total = 0;   \r\n  for (const item of items) {\t\r\n', '  let total = 1;\r\n  for (const item of items) {\r\n');
    expect(finished).toMatchObject({ status: 'completed', proposalId: expect.any(String) });
    expect(toolResult).toContain('Edited src/spaces.ts');
    await client.waitFor(() => client.documents.get(uri)!.text !== text || undefined, 10_000, 'edit applied');
    expect(client.documents.get(uri)!.text).toBe(text.replace('let total = 0;', 'let total = 1;'));
  });

  it('matches a block shifted left and re-indents new_string to the file', async () => {
    const text = SUM.join('\n');
    const { uri, finished, toolResult } = await askEdit(
      'src/indent.ts',
      text,
      'for (const item of items) {\n  total += item;\n}',
      'for (const item of items) {\n  if (item > 0) total += item;\n}',
    );
    expect(finished).toMatchObject({ status: 'completed', proposalId: expect.any(String) });
    expect(toolResult).toContain('new_string was re-indented');
    await client.waitFor(() => client.documents.get(uri)!.text !== text || undefined, 10_000, 'edit applied');
    expect(client.documents.get(uri)!.text).toBe(text.replace('    total += item;', '    if (item > 0) total += item;'));
  });

  it("strips read_file's line-number prefixes from old_string and new_string, keeping CRLF", async () => {
    const text = SUM.join('\r\n');
    const { uri, finished, toolResult } = await askEdit('src/numbers.ts', text, '   5\t  }\n   6\t  return total;', '   5\t  }\n   6\t  return total * 2;');
    expect(finished).toMatchObject({ status: 'completed', proposalId: expect.any(String) });
    expect(toolResult).toContain('line-number prefixes were removed');
    await client.waitFor(() => client.documents.get(uri)!.text !== text || undefined, 10_000, 'edit applied');
    expect(client.documents.get(uri)!.text).toBe(text.replace('return total;', 'return total * 2;'));
  });

  it('refuses an old_string that matches two blocks once indentation is ignored, and proposes nothing', async () => {
    const text = TWICE.join('\n');
    const { uri, finished, toolResult } = await askEdit('src/twice.ts', text, 'if (ready) {\n  start();\n}', 'if (ready) {\n  stop();\n}');
    expect(finished.status).toBe('completed');
    expect(finished.proposalId).toBeUndefined();
    expect(toolResult).toContain('old_string appears 2 times in src/twice.ts once indentation is ignored (at lines 2, 8)');
    expect(client.documents.get(uri)!.text).toBe(text);
    expect(client.appliedEdits.filter((edit) => JSON.stringify(edit).includes('twice.ts'))).toEqual([]);
  });
});
