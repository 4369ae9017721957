import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { eventually, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

/**
 * The agent edits documents whose lines end in CRLF, a lone CR, or a mix, while the user types
 * after emoji on another line (an incremental change in UTF-8, the encoding Neovim negotiates).
 * The WorkspaceEdit the editor applies must yield exactly the expected text, and the server must
 * find that text in the editor's didChange (so the proposal is applied without "did not confirm").
 * Line-ending policy: untouched lines keep theirs; the agent's new lines take the file's dominant
 * ending (edit_file writes CRLF into a CRLF file even when the model sends LF).
 */
const LINES = ['const título = "ñ"; // 👋', 'export function add(a: number, b: number) {', '  return a + b;', '}', '// end 🌍'];

describe('line endings: the agent edits CRLF, lone-CR and mixed documents exactly (neovim-like, UTF-8)', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'README.md': 'line endings\n' });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    expect(client.encoding).toBe('utf-8');
  });

  afterAll(async () => {
    expect(client.frameViolations()).toEqual([]);
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  /**
   * Opens `text` as `path`, has the agent make `edit` with edit_file, types " ok" at the end of the
   * last line (after its emoji) while the model's second turn streams, and returns the final text
   * and the stored proposal.
   */
  async function agentEdits(path: string, text: string, edit: { old_string: string; new_string: string }) {
    const uri = workspace.uri(path);
    await client.open(uri, text);
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path, ...edit } }] },
      { text: 'Done: the sum is named now, which reads better.', chunkDelayMs: 150 },
    );
    const modelRequests = fake.modelRequests.length;
    const started = await client.command(Commands.ask.command, { uri, instruction: 'name the sum', provider: 'openai' });
    await client.waitFor(() => fake.modelRequests.length >= modelRequests + 2 || undefined, 10_000, 'second model turn');
    const lastLine = LINES.length - 1;
    const endOfLastLine = Buffer.byteLength(LINES[lastLine]!, 'utf8');
    await client.type(uri, { range: { start: { line: lastLine, character: endOfLastLine }, end: { line: lastLine, character: endOfLastLine } }, newText: ' ok' });
    const applies = client.appliedEdits.length;
    await client.waitFor(() => client.appliedEdits.length > applies || undefined, 10_000, 'applied edit');
    // The server records the proposal once the editor's didChange confirms it (or after 3 s).
    const proposal = await eventually(async () => {
      const { proposals } = await client.request<any>(Requests.proposals.method, { sessionId: started.sessionId });
      expect(proposals[0]?.status).not.toBe('proposed');
      return proposals[0];
    }, 8000);
    return { text: client.documents.get(uri)!.text, proposal };
  }

  it('a CRLF document: exact text, CRLF kept on untouched lines and used for the agent\'s new lines', async () => {
    const original = `${LINES.join('\r\n')}\r\n`;
    const { text, proposal } = await agentEdits('src/crlf.ts', original, { old_string: 'return a + b;', new_string: 'const sum = a + b;\n  return sum;' });
    const expected = original.replace('  return a + b;', '  const sum = a + b;\r\n  return sum;').replace('// end 🌍', '// end 🌍 ok');
    expect(JSON.stringify(text)).toBe(JSON.stringify(expected));
    expect(text.split('\r\n')).toHaveLength(LINES.length + 2);
    expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    expect(proposal).toMatchObject({ status: 'applied' });
    expect(proposal.detail).toBeUndefined();
  });

  it('a lone-CR document: every line is a line, so the edit and the typing land where they belong', async () => {
    const original = `${LINES.join('\r')}\r`;
    const { text, proposal } = await agentEdits('src/lone-cr.ts', original, { old_string: 'return a + b;', new_string: 'const sum = a + b;\n  return sum;' });
    // The file has no CRLF or LF, so edit_file's dominant ending is LF for the new line.
    const expected = original.replace('  return a + b;', '  const sum = a + b;\n  return sum;').replace('// end 🌍', '// end 🌍 ok');
    expect(JSON.stringify(text)).toBe(JSON.stringify(expected));
    expect(proposal).toMatchObject({ status: 'applied' });
    expect(proposal.detail).toBeUndefined();
  });

  it('an LF document with one CRLF line the agent rewrites: the edit never ends between CR and LF', async () => {
    const original = `${LINES.slice(0, 2).join('\n')}\n${LINES[2]}\r\n${LINES.slice(3).join('\n')}\n`;
    // The model quotes the CRLF line break; edit_file writes the file's dominant ending (LF).
    const { text, proposal } = await agentEdits('src/mixed.ts', original, { old_string: 'return a + b;\r\n}', new_string: 'return a + b + 0;\r\n}' });
    const expected = original.replace('  return a + b;\r\n', '  return a + b + 0;\n').replace('// end 🌍', '// end 🌍 ok');
    expect(JSON.stringify(text)).toBe(JSON.stringify(expected));
    expect(proposal).toMatchObject({ status: 'applied' });
    expect(proposal.detail).toBeUndefined();
  });
});
