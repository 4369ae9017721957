// The Neovim plugin (clients/nvim) driven in REAL headless Neovim 0.10+ with the real
// `codebench lsp` and the fake wire-compatible model server. Each scenario is a Lua script in
// clients/nvim/test/scenarios that asserts from inside Neovim and exits non-zero on failure.
// Neovim comes from scripts/fetch-neovim.sh (run by `pretest`); without it these tests SKIP loudly.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { BIN, REPO, TEST_KEYS, makeWorkspace, writeConfig, type Workspace } from '../e2e/harness.js';
import { Store } from '../../server/src/store/store.js';
import { runCodebench } from '../cli/terminal.js';

const PLUGIN = join(REPO, 'clients', 'nvim');
/**
 * Neovims to run: $CODEBENCH_NVIM, else the 0.10 that scripts/fetch-neovim.sh puts in .cache/nvim
 * (CI), plus a newer one when a developer fetched it
 * (`CODEBENCH_NVIM_SUITE=sid CODEBENCH_NVIM_DIR=.cache/nvim-sid scripts/fetch-neovim.sh`), which
 * exercises the vim.lsp.config/vim.lsp.enable path of Neovim 0.11+.
 */
const CANDIDATES = process.env.CODEBENCH_NVIM
  ? [process.env.CODEBENCH_NVIM]
  : [join(REPO, '.cache', 'nvim', 'bin', 'nvim'), join(REPO, '.cache', 'nvim-sid', 'bin', 'nvim')];
/** The server entry; overridable to test against a snapshot while dist/ is being rebuilt. */
const SERVER_BIN = process.env.CODEBENCH_TEST_SERVER_BIN ?? BIN;

function nvimVersion(nvim: string): string | undefined {
  if (!existsSync(nvim)) return undefined;
  const result = spawnSync(nvim, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return result.status === 0 ? result.stdout.split('\n')[0] : undefined;
}

const TARGETS = CANDIDATES.map((nvim) => ({ nvim, version: nvimVersion(nvim) })).filter(
  (target): target is { nvim: string; version: string } => target.version !== undefined,
);
if (TARGETS.length === 0) {
  process.stderr.write(
    `\n!!! Neovim is not available at ${CANDIDATES[0]}: the Neovim plugin tests will be SKIPPED. Run scripts/fetch-neovim.sh (npm test's pretest does).\n\n`,
  );
} else {
  for (const target of TARGETS) process.stderr.write(`Neovim plugin tests run ${target.version} (${target.nvim})\n`);
}

interface NvimResult {
  code: number | null;
  stderr: string;
  stdout: string;
  /** Neovim's LSP log (the server's stderr lands there). */
  lspLog: string;
}

/** Runs one scenario in a fresh headless Neovim with isolated XDG dirs. */
function runNvim(
  nvim: string,
  scenario: string,
  workspace: Workspace,
  params: Record<string, unknown> = {},
  timeoutMs = 90_000,
): Promise<NvimResult> {
  const home = join(workspace.dataDir, '..', 'home');
  const xdg = (name: string) => {
    const dir = join(home, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: xdg('config'),
    XDG_DATA_HOME: xdg('data'),
    XDG_STATE_HOME: xdg('state'),
    XDG_CACHE_HOME: xdg('cache'),
    CODEBENCH_CONFIG: workspace.configFile,
    CODEBENCH_DATA_DIR: workspace.dataDir,
    CODEBENCH_PLUGIN_DIR: PLUGIN,
    CODEBENCH_TEST_CMD: JSON.stringify([process.execPath, SERVER_BIN, 'lsp']),
    CODEBENCH_TEST_PARAMS: JSON.stringify(params),
    ...TEST_KEYS,
  };
  const child = spawn(
    nvim,
    ['--headless', '-i', 'NONE', '-u', join(PLUGIN, 'test', 'minimal_init.lua'), '-S', join(PLUGIN, 'test', 'scenarios', `${scenario}.lua`)],
    { cwd: workspace.root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stderr += `\n[test] killed after ${timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const logFile = join(home, 'state', 'nvim', 'lsp.log');
      const lspLog = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      resolve({ code, stderr, stdout, lspLog });
    });
  });
}

/** Fails with everything Neovim printed, so a failing scenario explains itself. */
function expectPass(result: NvimResult): void {
  if (process.env.CODEBENCH_TEST_VERBOSE) process.stderr.write(result.stderr);
  if (result.code !== 0 || !result.stderr.includes('[nvim] PASS')) {
    throw new Error(
      `Neovim scenario failed (exit ${result.code}):\n${result.stderr}\n${result.stdout}\n--- lsp.log (tail) ---\n${result.lspLog.slice(-4000)}`,
    );
  }
}

const words = (count: number, word = 'token') => Array.from({ length: count }, (_, i) => `${word}${i}`).join(' ');

const VALUES_PY = [
  '# Ünïcödé ☕ header',
  "naïve = 'café'; count = 1",
  'a = 1',
  'b = 2',
  'c = 3',
  'd = 4',
  'e = 5',
  "ü = 'two'",
  '',
].join('\n');

/** A run that edits two separate lines of values.py (after non-ASCII text), then says done. */
function enqueueTwoHunks(fake: FakeModelServer): void {
  fake.enqueue(
    {
      toolCalls: [
        { name: 'edit_file', args: { path: 'values.py', old_string: "count = 1", new_string: 'count = 2' } },
        { name: 'edit_file', args: { path: 'values.py', old_string: "ü = 'two'", new_string: "ü = 'three'" } },
      ],
    },
    { text: 'Changed the count and ü.' },
  );
}

const ALICE_SESSION = '11111111-1111-4111-8111-111111111111';

/**
 * A workspace whose git origin is github.com/acme/api, shared under that identity (the server's
 * background sync re-derives it from git and finds the same; its server is unreachable, so no round
 * changes anything), with one session of the user's own and three pulled teammates' sessions.
 */
async function teamWorkspace(fake: FakeModelServer): Promise<Workspace> {
  const workspace = makeWorkspace({ 'main.py': 'print("hello")\n' });
  execFileSync('git', ['init', '-q', workspace.root]);
  execFileSync('git', ['-C', workspace.root, 'remote', 'add', 'origin', 'https://github.com/acme/api.git']);
  writeConfig(workspace, fake, { sync: { url: 'postgres://me@127.0.0.1:1/codebench?sslmode=disable', passwordEnv: 'CODEBENCH_SYNC_PASSWORD', share: ['github.com/acme/*'] } });
  const workspaceUri = pathToFileURL(workspace.root).href;
  const store = await Store.open(join(workspace.dataDir, 'codebench.db'));
  const own = await store.createSession({ workspaceUri, title: 'my own work', provider: 'ollama' });
  await store.addMessage({ sessionId: own.id, role: 'user', content: 'my own question' });
  store.sync.shareWorkspace(workspaceUri, 'github.com/acme/api');
  const session = (id: string, author: string, workspace: string, title: string, updatedAt: string, messageCount: number) => ({
    id, workspace, author, title, provider: 'anthropic', messageCount, createdAt: '2026-11-20T09:00:00.000Z', updatedAt,
  });
  const message = (n: number, role: string, content: string) => ({
    id: `aaaaaaaa-0000-4000-8000-00000000000${n}`, sessionId: ALICE_SESSION, workspace: 'github.com/acme/api', author: 'alice', role, content, createdAt: `2026-11-20T09:0${n}:00.000Z`,
  });
  store.sync.saveTeamRecords(
    {
      sessions: [
        session(ALICE_SESSION, 'alice', 'github.com/acme/api', 'fix the login redirect', '2026-11-20T09:04:10.000Z', 3),
        session('22222222-2222-4222-8222-222222222222', 'bob', 'github.com/acme/api', 'nothing said yet', '2026-11-20T08:00:00.000Z', 0),
        session('33333333-3333-4333-8333-333333333333', 'carol', 'github.com/acme/web', 'the web app', '2026-11-21T10:00:00.000Z', 0),
      ],
      messages: [message(1, 'user', 'fix the login redirect'), message(2, 'assistant', 'Looked at auth.ts.'), message(3, 'assistant', 'The redirect now keeps the query string.')],
    },
    {},
  );
  await store.close();
  return workspace;
}

describe.skipIf(TARGETS.length === 0).each(TARGETS.length > 0 ? TARGETS : [{ nvim: '', version: 'Neovim (missing)' }])(
  'Neovim plugin in real $version',
  ({ nvim }) => {
    const run = (scenario: string, ws: Workspace, params?: Record<string, unknown>) => runNvim(nvim, scenario, ws, params);
    let fake: FakeModelServer;

    beforeAll(async () => {
      fake = await startFakeModelServer();
    });
    afterAll(async () => {
      await fake?.close();
    });

    function workspace(files: Record<string, string> = {}): Workspace {
      fake.reset();
      const ws = makeWorkspace({ 'main.py': 'print("hello")\n', 'other.py': 'x = 1\n', 'values.py': VALUES_PY, ...files });
      writeConfig(ws, fake, { review: 'ask' });
      return ws;
    }

    it('attaches the server to file buffers, offers its code actions, and has valid help tags (the shipped doc/tags among them)', async () => {
      expectPass(await run('attach', workspace()));
    }, 120_000);

    it('negotiates utf-8 when offered first (position_encodings option)', async () => {
      expectPass(await run('attach', workspace(), { encodings: ['utf-8', 'utf-16'], expectEncoding: 'utf-8' }));
    }, 120_000);

    it(':Codebench ask prompts, then streams the answer into the chat buffer progressively', async () => {
      const ws = workspace();
      fake.enqueue({ text: words(40, 'streamed'), chunkDelayMs: 60 });
      const result = await run('ask_stream', ws, { expected: words(40, 'streamed') });
      expectPass(result);
      expect(fake.modelRequests).toHaveLength(1);
      expect(JSON.stringify(fake.modelRequests[0].body)).toContain('explain this line');
    }, 120_000);

    // Neovim 0.10 offers utf-16 only (0.11: utf-8 first); the plugin converts hunk ranges to bytes.
    for (const encodings of [null, ['utf-8'], ['utf-32']]) {
      it(`shows both hunks inline after non-ASCII text (${encodings ? encodings[0] : "Neovim's default encoding"})`, async () => {
        const ws = workspace();
        enqueueTwoHunks(fake);
        expectPass(await run('review_show', ws, { encodings }));
      }, 120_000);
    }

    it('accepting one hunk of two changes only that hunk; the other stays proposed', async () => {
      const ws = workspace();
      enqueueTwoHunks(fake);
      expectPass(await run('review_accept_one', ws));
      expect(readFileSync(join(ws.root, 'values.py'), 'utf8')).toBe(VALUES_PY); // never written by the plugin
    }, 120_000);

    it('rejecting leaves the buffer untouched', async () => {
      const ws = workspace();
      enqueueTwoHunks(fake);
      expectPass(await run('review_reject', ws));
    }, 120_000);

    it('u after accepting restores the text in one step', async () => {
      const ws = workspace();
      enqueueTwoHunks(fake);
      expectPass(await run('review_undo', ws));
    }, 120_000);

    it(':Codebench undo reverts the accepted change as one edit, keeps a line the user added, and records it reverted', async () => {
      const ws = workspace();
      enqueueTwoHunks(fake);
      expectPass(await run('undo', ws));
      const store = await Store.open(join(ws.dataDir, 'codebench.db'));
      expect((await store.listProposals({})).map((proposal) => proposal.status)).toEqual(['reverted']);
      await store.close();
    }, 120_000);

    it(':Codebench cancel stops a slow run; it ends cancelled', async () => {
      const ws = workspace();
      fake.enqueue({ text: words(300, 'slow'), chunkDelayMs: 80 });
      expectPass(await run('cancel', ws));
    }, 120_000);

    it('a message sent while the answer streams is queued, sent after it ends (never interleaved), in the same session', async () => {
      const ws = workspace();
      const first = words(40, 'alpha');
      fake.enqueue({ text: first, chunkDelayMs: 60 }, { text: 'Second answer here.' });
      expectPass(await run('chat_queue', ws, { first, second: 'Second answer here.' }));
      expect(fake.modelRequests).toHaveLength(2);
      const second = JSON.stringify(fake.modelRequests[1].body);
      expect(second).toContain('first question');
      expect(second).toContain('alpha39');
    }, 120_000);

    it('one panel, one conversation: a code action continues the panel session; its ask names file and lines, code folded', async () => {
      const ws = workspace();
      fake.enqueue({ text: 'count is 1.' }, { text: 'It assigns a and b.' });
      expectPass(await run('chat_session', ws));
      expect(fake.modelRequests).toHaveLength(2);
      expect(JSON.stringify(fake.modelRequests[1].body)).toContain('what is count?');
    }, 120_000);

    it('<C-c> stops the answer from the input area and the transcript; the winbar names model, q and <C-c>; :Codebench model switches', async () => {
      const ws = workspace();
      fake.enqueue({ text: words(300, 'slow'), chunkDelayMs: 80 }, { text: words(300, 'later'), chunkDelayMs: 80 });
      expectPass(await run('chat_cancel', ws));
      // Both asks went to the provider picked in the panel (anthropic's wire), not the default.
      expect(fake.modelRequests.map((request) => request.wire)).toEqual(['anthropic', 'anthropic']);
    }, 120_000);

    it('review keys leave ga/gr/gR alone (ga still runs :ascii); preview in a split; partial-apply messages; status line redrawn', async () => {
      const ws = workspace();
      enqueueTwoHunks(fake);
      expectPass(await run('review_feedback', ws));
    }, 120_000);

    it('a hunk inserted above line 1 is visible (window scrolled, sign on line 1)', async () => {
      const ws = workspace();
      fake.enqueue(
        { toolCalls: [{ name: 'edit_file', args: { path: 'main.py', old_string: 'print("hello")', new_string: 'import os\nprint("hello")' } }] },
        { text: 'Added the import.' },
      );
      expectPass(await run('review_top', ws));
    }, 120_000);

    it(':Codebench search prompts without a query, shows no ⟦…⟧ markers, and the reopened session shows its tool steps and the proposal outcome', async () => {
      const ws = workspace();
      enqueueTwoHunks(fake);
      expectPass(await run('reopen', ws));
    }, 120_000);

    it(':h codebench works after the README install (packadd): doc/tags ships', async () => {
      expectPass(await run('help', workspace()));
    }, 120_000);

    it('the server sends the plugin no "Agent proposal" diagnostics and no "Agent: open chat" action (it reviews inline)', async () => {
      const ws = workspace();
      enqueueTwoHunks(fake);
      expectPass(await run('inline_only', ws));
    }, 120_000);

    it('history lists and reopens the session after restarting Neovim; continuing sends the earlier turns', async () => {
      const ws = workspace();
      fake.enqueue({ text: 'Noted: pineapple.' });
      expectPass(await run('history_first', ws));
      fake.enqueue({ text: 'The word was pineapple.' });
      expectPass(await run('history_second', ws));
      expect(fake.modelRequests).toHaveLength(2);
      const second = JSON.stringify(fake.modelRequests[1].body);
      expect(second).toContain('remember the word pineapple');
      expect(second).toContain('Noted: pineapple.');
      expect(second).toContain('which word did I ask you to remember');
    }, 180_000);

    it("history lists teammates' sessions (team sync's copies) after the user's own as [author] title, and opens one read-only", async () => {
      fake.reset();
      const ws = await teamWorkspace(fake);
      fake.enqueue({ text: 'She kept the query string.' });
      expectPass(await run('history_team', ws, { aliceSession: ALICE_SESSION }));
      // The message typed after viewing alice's session went to the model without her turns.
      expect(fake.modelRequests).toHaveLength(1);
      const sent = JSON.stringify(fake.modelRequests[0].body);
      expect(sent).toContain('what did alice change?');
      expect(sent).not.toContain('Looked at auth.ts.');
    }, 120_000);

    it(':Codebench memory add remembers a fact; :Codebench memory lists it and forgets the picked one', async () => {
      const ws = workspace();
      expectPass(await run('memory', ws));
      // Nothing was asked: the memory requests never reach the model.
      expect(fake.modelRequests).toHaveLength(0);
    }, 120_000);

    it(':Codebench usage draws the same table and chart as `codebench usage` in a floating window; q closes it', async () => {
      fake.reset();
      const ws = makeWorkspace({ 'main.py': 'print("hello")\n' });
      writeConfig(ws, fake, {
        providers: {
          openai: { kind: 'openai', model: 'gpt-test', baseURL: `${fake.url}/v1`, apiKeyEnv: 'TEST_OPENAI_KEY', price: { input: 2.5, output: 10, cachedInput: 1.25 } },
          ollama: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url },
        },
      });
      const store = await Store.open(join(ws.dataDir, 'codebench.db'));
      const call = { runId: 'r', sessionId: 's', workspaceUri: pathToFileURL(ws.root).href };
      await store.recordModelCall({ ...call, provider: 'openai', model: 'gpt-test', inputTokens: 1_000_000, cachedInputTokens: 400_000, outputTokens: 20_000 });
      await store.recordModelCall({ ...call, provider: 'ollama', model: 'qwen-test', inputTokens: 50_000, outputTokens: 5_000 });
      await store.close();
      const env = { PATH: process.env.PATH, HOME: ws.dataDir, CODEBENCH_CONFIG: ws.configFile, CODEBENCH_DATA_DIR: ws.dataDir, NO_COLOR: '1' };
      const printed = await runCodebench(['usage', '--by', 'provider'], { cwd: ws.root, env });
      expect(printed.code, printed.stderr).toBe(0);
      const expected = printed.stdout.replace(/\n$/, '').split('\n');
      // openai: 600,000 × 2.5 + 400,000 × 1.25 + 20,000 × 10 per million; ollama is free (no bar).
      expect(expected.slice(-2)).toEqual([`ollama  ${' '.repeat(41)}$0.0000`, `openai  ${'█'.repeat(40)} $2.2000`]);
      expectPass(await run('usage', ws, { expected, bars: ['openai'] }));
      expect(fake.modelRequests).toHaveLength(0);
    }, 120_000);

    it(':checkhealth codebench reports no errors', async () => {
      expectPass(await run('health', workspace()));
    }, 120_000);
  },
);
