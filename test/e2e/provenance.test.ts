import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, Requests } from '../../server/src/protocol/methods.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { eventually, isResponseError, makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';

const ORIGINAL = ['export function main() {', '  run();', '}', ''].join('\n');
const ADDED = ['', 'export function stopEverything(reason: string) {', '  console.log(`stopping: ${reason}`);', '  process.exitCode = 1;', '}'].join('\n');
const EDITED = `${ORIGINAL.trimEnd()}\n${ADDED}\n`;
/** 0-based line of `  process.exitCode = 1;` in EDITED. */
const AGENT_LINE = 6;
const INSTRUCTION = 'Add a stopEverything function that *logs* the [reason]';

describe('provenance: who wrote a line', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let client: TestClient;
  let uri: string;
  let sessionId: string;
  let runId: string;

  const hoverAt = (line: number, target = uri) => client.request<any>('textDocument/hover', { textDocument: { uri: target }, position: { line, character: 2 } });
  const provenanceAt = (line: number, target = uri) => client.request<any>(Requests.provenance.method, { uri: target, line });
  const replaceLine = (line: number, text: string) => {
    const old = client.documents.get(uri)!.text.split('\n')[line]!;
    return client.type(uri, { range: { start: { line, character: 0 }, end: { line, character: old.length } }, newText: text });
  };

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'src/app.ts': ORIGINAL, 'README.md': '# demo\n' });
    writeConfig(workspace, fake);
    client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    uri = workspace.uri('src/app.ts');
    await client.open(uri, ORIGINAL);
    fake.enqueue(
      { toolCalls: [{ name: 'edit_file', args: { path: 'src/app.ts', old_string: '  run();\n}\n', new_string: `  run();\n}\n${ADDED}\n` } }] },
      { text: 'Added stopEverything.' },
    );
    // The Neovim-like client answers the review prompt with Apply.
    const started = await client.command(Commands.ask.command, { uri, instruction: INSTRUCTION, provider: 'ollama' });
    ({ sessionId, runId } = started);
    await client.waitFor(() => client.documents.get(uri)!.text === EDITED || undefined, 15_000, 'edit applied');
    // 'applied' is recorded once the editor's didChange brought the text.
    await eventually(async () => {
      const { proposals } = await client.request(Requests.proposals.method, { sessionId });
      expect(proposals[0]?.status).toBe('applied');
    });
  });

  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    await fake.close();
  });

  it('hovers on an agent-written line with the instruction, when, provider/model and the session', async () => {
    const hover = await hoverAt(AGENT_LINE);
    expect(hover.contents.kind).toBe('markdown');
    const text: string = hover.contents.value;
    // The user's words are escaped: no emphasis or link is made of them.
    expect(text).toContain('Add a stopEverything function that \\*logs\\* the \\[reason\\]');
    expect(text).toMatch(/applied just now \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/);
    expect(text).toContain('`ollama/qwen-test`');
    expect(text).toContain(`session \`${sessionId.slice(0, 8)}\``);
    const link = /\[Open the transcript\]\(command:codebench\.openChat\?([^)]+)\)/.exec(text);
    expect(JSON.parse(decodeURIComponent(link![1]!))).toEqual([{ sessionId }]);
    // A line the user wrote, and a line past the end, have no hover.
    expect(await hoverAt(0)).toBeNull();
    expect(await hoverAt(500)).toBeNull();
  });

  it('answers codebench/provenance with the run and proposal', async () => {
    const { proposals } = await client.request(Requests.proposals.method, { sessionId });
    const { provenance } = await provenanceAt(AGENT_LINE);
    expect(provenance).toEqual({
      instruction: INSTRUCTION,
      sessionId,
      runId,
      proposalId: proposals[0].id,
      provider: 'ollama',
      model: 'qwen-test',
      appliedAt: proposals[0].decidedAt,
    });
    expect(await provenanceAt(1)).toEqual({ provenance: null });
    for (const bad of ['untitled:Untitled-1', 'file:///elsewhere/x.ts']) {
      const error = await provenanceAt(0, bad).catch((caught: unknown) => caught);
      expect(isResponseError(error) && error.code).toBe(-32602);
      expect((error as Error).message).toMatch(/^Invalid params: params\.uri: /);
    }
    // The hover stays quiet for documents it has nothing to say about.
    expect(await hoverAt(0, 'untitled:Untitled-1')).toBeNull();
  });

  it('follows the line when the user types above it, and lets go once they rewrite it', async () => {
    await client.type(uri, { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '// typed by the user\n' });
    const moved = AGENT_LINE + 1;
    expect((await hoverAt(moved)).contents.value).toContain('stopEverything');
    expect((await provenanceAt(moved)).provenance.runId).toBe(runId);
    expect(await hoverAt(AGENT_LINE)).not.toBeNull(); // the log line, moved onto the old number
    await replaceLine(moved, '  process.exitCode = 2;');
    expect(await hoverAt(moved)).toBeNull();
    expect(await provenanceAt(moved)).toEqual({ provenance: null });
    // The lines around it are still the agent's.
    expect((await provenanceAt(moved - 1)).provenance?.runId).toBe(runId);
    await replaceLine(moved, '  process.exitCode = 1;');
    expect((await provenanceAt(moved)).provenance?.runId).toBe(runId);
  });

  it('turns the hover off with provenance.hover: false, while codebench/provenance still answers', async () => {
    const line = AGENT_LINE + 1;
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { codebench: { provenance: { hover: false } } } });
    await eventually(async () => expect(await hoverAt(line)).toBeNull());
    expect((await provenanceAt(line)).provenance?.runId).toBe(runId);
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { codebench: { provenance: { hover: true } } } });
    await eventually(async () => expect(await hoverAt(line)).not.toBeNull());
  });

  it('re-finds the lines on disk after a restart, with the document closed', async () => {
    // The user saves (with one more line typed above) and closes the file; the editor restarts.
    const saved = `// saved with another line\n${client.documents.get(uri)!.text}`;
    writeFileSync(join(workspace.root, 'src/app.ts'), saved);
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    expect(await client.stop()).toBe(0);
    client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    const line = saved.split('\n').indexOf('  process.exitCode = 1;');
    expect(line).toBe(AGENT_LINE + 2);
    expect((await provenanceAt(line)).provenance).toMatchObject({ runId, sessionId, instruction: INSTRUCTION });
    expect((await hoverAt(line)).contents.value).toContain('stopEverything');
    expect(await provenanceAt(0)).toEqual({ provenance: null });
  });
});
