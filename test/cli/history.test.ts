import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, type SessionRecord } from '../../server/src/store/store.js';
import { REPO } from '../e2e/harness.js';
import { createCliSandbox, runInSandbox, type CliSandbox } from './run-cli.js';
import { HAVE_SCRIPT, plain, TerminalSession } from './terminal.js';

let sandbox: CliSandbox;
let otherUri: string;
let earlier: SessionRecord;
let main: SessionRecord;
let elsewhere: SessionRecord;

const DIFF = '--- a/src/parser.ts\n+++ b/src/parser.ts\n@@ -1,3 +1,3 @@\n-for (let i = 0; i <= n; i++) {\n+for (let i = 0; i < n; i++) {\n';
const LONG_RESULT = Array.from({ length: 40 }, (_, i) => `source line ${i + 1}`).join('\n');

async function seed(): Promise<void> {
  const store = await Store.open(sandbox.databaseFile);
  try {
    const here = sandbox.workspaceUri;
    earlier = await store.createSession({ workspaceUri: here, title: 'How the tokenizer works', provider: 'ollama' });
    const run0 = await store.createRun({ sessionId: earlier.id, provider: 'ollama', model: 'qwen', instruction: 'q' });
    await store.addMessage({ sessionId: earlier.id, runId: run0.id, role: 'user', content: 'How does the zanzibar tokenizer split words?' });
    await store.addMessage({ sessionId: earlier.id, runId: run0.id, role: 'assistant', content: 'It splits on whitespace.' });
    await store.finishRun(run0.id, { status: 'completed' });

    main = await store.createSession({ workspaceUri: here, title: 'Fix the parser crash', provider: 'openai' });
    const run = await store.createRun({ sessionId: main.id, provider: 'openai', model: 'gpt-test', instruction: 'fix' });
    await store.addMessage({ sessionId: main.id, runId: run.id, role: 'user', content: 'The parser crashes on empty input, fix it' });
    const call = { runId: run.id, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() };
    await store.recordToolCall({ ...call, callId: 'c1', name: 'read_file', args: { path: 'src/parser.ts' }, result: LONG_RESULT, isError: false });
    await store.recordToolCall({ ...call, callId: 'c2', name: 'edit_file', args: { path: 'src/parser.ts' }, result: 'old_string appears 3 times', isError: true });
    await store.addMessage({ sessionId: main.id, runId: run.id, role: 'assistant', content: 'I changed the loop bound so it stops at n.' });
    await store.finishRun(run.id, { status: 'completed', inputTokens: 900, outputTokens: 80 });
    const files = [{ uri: `${here}/src/parser.ts`, path: 'src/parser.ts', baseVersion: null, created: false }];
    const proposal = await store.createProposal({ runId: run.id, sessionId: main.id, summary: 'src/parser.ts (+1 −1)', files, diff: DIFF });
    await store.setProposalStatus(proposal.id, 'applied');

    elsewhere = await store.createSession({ workspaceUri: otherUri, title: 'Elsewhere work', provider: 'anthropic' });
    await store.addMessage({ sessionId: elsewhere.id, role: 'user', content: 'An unrelated quokka question' });
  } finally {
    await store.close();
  }
  // Two sessions sharing a prefix: ids are random UUIDs, so these are written directly.
  const sqlite = new SQLite(sandbox.databaseFile);
  try {
    const workspaceId = sqlite.prepare('SELECT id FROM workspaces WHERE uri = ?').pluck().get(otherUri);
    const insert = sqlite.prepare(
      "INSERT INTO sessions (id, workspace_id, title, provider, created_at, updated_at) VALUES (?, ?, ?, 'p', '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z')",
    );
    insert.run('abcd0000-0000-4000-8000-000000000000', workspaceId, 'Twin one');
    insert.run('abcd1111-0000-4000-8000-000000000000', workspaceId, 'Twin two');
  } finally {
    sqlite.close();
  }
}

function count(query: string, ...params: unknown[]): number {
  const sqlite = new SQLite(sandbox.databaseFile, { readonly: true });
  try {
    return sqlite.prepare(query).pluck().get(...params) as number;
  } finally {
    sqlite.close();
  }
}

const history = (args: string[], options?: Parameters<typeof runInSandbox>[2]) => runInSandbox(sandbox, ['history', ...args], options);
const short = (session: SessionRecord) => session.id.slice(0, 8);
const stderrLines = (stderr: string) => stderr.trimEnd().split('\n');

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  sandbox = createCliSandbox('codebench-history-');
  otherUri = pathToFileURL(join(sandbox.root, 'other')).href;
  await seed();
});

afterAll(() => sandbox?.cleanup());

describe('codebench history list', () => {
  it("shows this workspace's sessions only, newest first", async () => {
    const result = await history(['list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ID\s+UPDATED\s+MSGS\s+PROVIDER\s+TITLE\n/);
    expect(result.stdout.indexOf(short(main))).toBeLessThan(result.stdout.indexOf(short(earlier)));
    expect(result.stdout).toContain('Fix the parser crash');
    expect(result.stdout).toMatch(new RegExp(`${short(main)}\\s+\\S+ \\S+\\s+2\\s+openai\\s+Fix the parser crash`));
    expect(result.stdout).not.toContain(short(elsewhere));
    expect(result.stdout).not.toContain('\x1b[');
  });

  it('is what `history` alone does', async () => {
    expect((await history([])).stdout).toBe((await history(['list'])).stdout);
  });

  it('--all shows every workspace; --json gives the records', async () => {
    const all = await history(['list', '--all']);
    for (const session of [main, earlier, elsewhere]) expect(all.stdout).toContain(short(session));
    const json = await history(['list', '--all', '--json', '--limit', '2']);
    expect(json.code).toBe(0);
    const records = JSON.parse(json.stdout) as SessionRecord[];
    expect(records.map((record) => record.id)).toEqual([elsewhere.id, main.id]);
  });

  it('says how to start when there is no history', async () => {
    const empty = join(sandbox.root, 'empty-workspace');
    mkdirSync(empty, { recursive: true });
    const result = await history(['list'], { cwd: empty });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('No history yet');
    expect(result.stderr).toContain('codebench ask "…"');
  });
});

describe('codebench history show', () => {
  it('prints every turn, the tool calls and the proposal diff, in order', async () => {
    const result = await history(['show', short(main)]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    const positions = [
      '# Fix the parser crash',
      'The parser crashes on empty input, fix it',
      '`read_file`',
      'source line 1',
      '… 34 more lines',
      '`edit_file` `{"path":"src/parser.ts"}` — **error**',
      'I changed the loop bound',
      '### Proposal · applied',
      `\`\`\`diff\n${DIFF}\`\`\``,
    ].map((text) => {
      expect(out, text).toContain(text);
      return out.indexOf(text);
    });
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(out).not.toContain('source line 7');
    expect(out).not.toContain('\x1b[');
  });

  it('accepts the full id', async () => {
    const result = await history(['show', earlier.id]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('How does the zanzibar tokenizer split words?');
    expect(result.stdout).toContain('It splits on whitespace.');
  });

  it('fails with one clear line for an unknown id', async () => {
    const result = await history(['show', 'ffffffff']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(stderrLines(result.stderr)).toEqual(['codebench: no session matches "ffffffff" (see codebench history list --all)']);
  });

  it('lists the candidates of an ambiguous prefix', async () => {
    const result = await history(['show', 'abcd']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"abcd" matches several sessions');
    expect(result.stderr).toContain('abcd0000');
    expect(result.stderr).toContain('Twin two');
    expect((await history(['show', 'abcd1'])).code).toBe(0);
  });
});

describe('codebench history search', () => {
  it('finds a message from an earlier session, markers kept in a pipe', async () => {
    const result = await history(['search', 'zanzibar']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${short(earlier)}  How the tokenizer works`);
    expect(result.stdout).toMatch(/user\s+How does the ⟦zanzibar⟧ tokenizer split words\?/);
  });

  it('exits 1 with a line when nothing matches', async () => {
    const result = await history(['search', 'nothing', 'matches']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(stderrLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain('No messages match "nothing matches"');
  });

  it('stays in this workspace unless --all', async () => {
    expect((await history(['search', 'quokka'])).code).toBe(1);
    const all = await history(['search', 'quokka', '--all']);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(short(elsewhere));
  });
});

describe('codebench history export', () => {
  it('--format md has every turn', async () => {
    const result = await history(['export', short(main), '--format', 'md']);
    expect(result.code).toBe(0);
    for (const text of ['The parser crashes on empty input', 'read_file', 'I changed the loop bound', '+for (let i = 0; i < n; i++) {']) {
      expect(result.stdout).toContain(text);
    }
  });

  it('--format json has the runs with tool calls and the proposals', async () => {
    const result = await history(['export', main.id, '--format', 'json']);
    expect(result.code).toBe(0);
    const exported = JSON.parse(result.stdout);
    expect(exported.version).toBe(1);
    expect(exported.session.id).toBe(main.id);
    expect(exported.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(exported.runs).toHaveLength(1);
    expect(exported.runs[0].toolCalls.map((c: { name: string; isError: boolean }) => [c.name, c.isError])).toEqual([
      ['read_file', false],
      ['edit_file', true],
    ]);
    expect(exported.runs[0].toolCalls[0].result).toBe(LONG_RESULT);
    expect(exported.proposals[0]).toMatchObject({ status: 'applied', diff: DIFF });
  });

  it('--output writes a private file and nothing to stdout', async () => {
    const file = join(sandbox.root, 'exported.json');
    const result = await history(['export', short(main), '-f', 'json', '--output', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8')).session.id).toBe(main.id);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('usage errors', () => {
  it.each([
    [['export', 'abcd0000', '--format', 'xml'], 'Allowed choices are md, json'],
    [['list', '--limit', '0'], 'must be a positive integer'],
    [['search', 'x', '--limit', 'ten'], 'must be a positive integer'],
    [['list', '--frobnicate'], "unknown option '--frobnicate'"],
    [['--format', 'xml'], "unknown option '--format'"],
    [['show', 'abc'], 'at least 4 characters'],
  ])('history %j exits 2 with one line', async (args, message) => {
    const result = await history(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(stderrLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });

  it('--help works for the group and each subcommand', async () => {
    const group = await history(['--help']);
    expect(group.code).toBe(0);
    for (const name of ['list', 'show', 'search', 'export', 'delete']) expect(group.stdout).toContain(name);
    const deleteHelp = await history(['delete', '--help']);
    expect(deleteHelp.code).toBe(0);
    expect(deleteHelp.stdout).toContain('--yes');
  });
});

describe.runIf(HAVE_SCRIPT)('on a terminal', () => {
  it('highlights search matches instead of printing the markers', async () => {
    const terminal = TerminalSession.start(['history', 'search', 'zanzibar'], { cwd: sandbox.workspace, env: sandbox.env });
    expect(await terminal.exited).toBe(0);
    expect(terminal.output).toContain('\x1b[');
    expect(plain(terminal.output)).toContain('How does the zanzibar tokenizer');
    expect(terminal.output).not.toContain('⟦');
  });

  it('asks before deleting and keeps the session unless told yes', async () => {
    const terminal = TerminalSession.start(['history', 'delete', short(earlier)], { cwd: sandbox.workspace, env: sandbox.env });
    await terminal.waitFor('[y/N]');
    terminal.type('n\r');
    expect(await terminal.exited).toBe(0);
    expect(plain(terminal.output)).toContain('nothing deleted');
    expect(count('SELECT count(*) FROM sessions WHERE id = ?', earlier.id)).toBe(1);

    const yes = TerminalSession.start(['history', 'delete', 'abcd0000'], { cwd: sandbox.workspace, env: sandbox.env });
    await yes.waitFor('Twin one');
    yes.type('y\r');
    expect(await yes.exited).toBe(0);
    expect(count("SELECT count(*) FROM sessions WHERE id LIKE 'abcd0000%'")).toBe(0);
  });

  it('stays plain with NO_COLOR', async () => {
    const terminal = TerminalSession.start(['history', 'show', short(main)], { cwd: sandbox.workspace, env: { ...sandbox.env, NO_COLOR: '1' } });
    expect(await terminal.exited).toBe(0);
    expect(terminal.output).toContain('# Fix the parser crash');
    expect(terminal.output).not.toContain('\x1b[');
  });
});

describe('codebench history delete', () => {
  it('refuses without --yes when there is no terminal, deleting nothing', async () => {
    const result = await history(['delete', short(main)], { input: 'y\n' });
    expect(result.code).toBe(2);
    expect(stderrLines(result.stderr)).toEqual([`codebench: not deleting session ${short(main)} without confirmation: pass --yes`]);
    expect(count('SELECT count(*) FROM messages WHERE session_id = ?', main.id)).toBe(2);
  });

  it('--yes removes the session and every row that belongs to it', async () => {
    const indexed = count('SELECT count(*) FROM messages_fts');
    const result = await history(['delete', short(main), '--yes']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`deleted session ${short(main)}`);

    const store = await Store.open(sandbox.databaseFile);
    try {
      expect(await store.getSession(main.id)).toBeUndefined();
      expect(await store.listMessages(main.id)).toEqual([]);
      expect(await store.listProposals({ sessionId: main.id })).toEqual([]);
      expect(await store.searchMessages({ query: 'parser' })).toEqual([]);
      expect(await store.getSession(earlier.id)).toBeDefined();
    } finally {
      await store.close();
    }
    expect(count('SELECT count(*) FROM messages_fts')).toBe(indexed - 2);
    expect(count('SELECT count(*) FROM runs WHERE session_id = ?', main.id)).toBe(0);
    expect(count('SELECT count(*) FROM tool_calls')).toBe(0);
    expect((await history(['show', short(main)])).code).toBe(1);
  });
});
