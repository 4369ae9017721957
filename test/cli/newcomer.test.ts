import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { createCliSandbox, runInSandbox, type CliResult, type CliSandbox } from './run-cli.js';
import { HAVE_SCRIPT, plain, TerminalSession } from './terminal.js';

/**
 * The rough edges a new user hits first (issue 13, "Seen as a newcomer"), each through the built
 * CLI: an unwritable data directory, short session ids, blank instructions, doctor's advice, a
 * missing CODEBENCH_CONFIG, refused commands without a terminal, Ctrl-C at an approval prompt,
 * the Apply prompt's default and --lines on a file that ends in a newline.
 */

const NOBODY = 65534;
const IS_ROOT = process.getuid?.() === 0;
/**
 * Root ignores permission bits, so as root the CLI runs as `nobody` (setpriv, util-linux) over a
 * sandbox it owns; as anyone else chmod is enough. Without either the permission tests cannot
 * mean anything and skip, loudly.
 */
const SETPRIV = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const AS_UNPRIVILEGED: string[] | undefined = !IS_ROOT ? [] : spawnSync(SETPRIV[0]!, [...SETPRIV.slice(1), 'true']).status === 0 ? SETPRIV : undefined;
if (AS_UNPRIVILEGED === undefined) {
  process.stderr.write('\n!!! running as root without a working `setpriv`: the read-only data directory tests will be SKIPPED.\n\n');
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
const isOneLine = (result: CliResult) => lines(result.stderr).length === 1 && !/\n\s+at /.test(result.stderr);

function writeConfig(sandbox: CliSandbox, fake: FakeModelServer, extra: Record<string, unknown> = {}): void {
  const config = { defaultProvider: 'ollama', providers: { ollama: { kind: 'ollama', model: 'qwen-test', baseURL: fake.url, timeoutSeconds: 10 } }, ...extra };
  writeFileSync(sandbox.configPath, JSON.stringify(config), { mode: 0o600 });
}

async function withStore<T>(sandbox: CliSandbox, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(sandbox.databaseFile);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

describe('codebench for a newcomer', () => {
  let fake: FakeModelServer;
  let sandbox: CliSandbox;

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    sandbox = createCliSandbox();
    writeConfig(sandbox, fake);
  });
  afterEach(() => {
    // A test may have left a directory read-only; the sandbox is ours to delete all the same.
    spawnSync('chmod', ['-R', 'u+rwX', sandbox.root]);
    sandbox.cleanup();
  });

  describe.skipIf(AS_UNPRIVILEGED === undefined)('an unwritable data directory', () => {
    /** Hands the sandbox to the user the CLI will run as (root runs it as nobody). */
    const asUnprivileged = (args: string[]) => {
      if (IS_ROOT) spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, sandbox.root]);
      return runInSandbox(sandbox, args, { prefix: AS_UNPRIVILEGED });
    };

    it('that cannot be created: one line naming it and CODEBENCH_DATA_DIR, status 1, for every command', async () => {
      const parent = join(sandbox.root, 'locked');
      spawnSync('mkdir', ['-m', '0500', parent]);
      const env = { CODEBENCH_DATA_DIR: join(parent, 'data') };
      for (const args of [['history', 'list'], ['ask', 'hello'], ['policy', 'list']]) {
        if (IS_ROOT) spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, sandbox.root]);
        const result = await runInSandbox(sandbox, args, { env, prefix: AS_UNPRIVILEGED });
        expect(result.code, args.join(' ')).toBe(1);
        expect(isOneLine(result), result.stderr).toBe(true);
        expect(result.stderr).toContain(join(parent, 'data'));
        expect(result.stderr).toContain('CODEBENCH_DATA_DIR');
      }
      expect(fake.modelRequests).toHaveLength(0);
    });

    it('holding a database: one line; doctor says the directory is not writable and never to move the database aside', async () => {
      await withStore(sandbox, async (store) => void (await store.createSession({ workspaceUri: sandbox.workspaceUri, title: 'kept', provider: 'ollama' })));
      if (IS_ROOT) spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, sandbox.root]);
      chmodSync(sandbox.dataDir, 0o500);
      const list = await asUnprivileged(['history', 'list']);
      expect(list.code).toBe(1);
      expect(isOneLine(list), list.stderr).toBe(true);
      expect(list.stderr).toContain(sandbox.dataDir);
      expect(list.stderr).toContain('CODEBENCH_DATA_DIR');

      const doctor = await asUnprivileged(['doctor', '--json', '--timeout', '0.5']);
      expect(doctor.code).toBe(1);
      const checks = JSON.parse(doctor.stdout).checks as Array<{ name: string; status: string; message: string; fix?: string }>;
      expect(checks).toContainEqual(expect.objectContaining({ name: 'history location', status: 'error', message: expect.stringContaining(`${sandbox.dataDir} is not writable`) }));
      expect(doctor.stdout).not.toContain('move it aside');
      expect(doctor.stdout).toContain('CODEBENCH_DATA_DIR');
    });

    it('a read-only database file: one line for ask; doctor says it is read-only, not damaged', async () => {
      await withStore(sandbox, async () => undefined);
      // A clean close leaves no -wal/-shm; only the main file is then read-only.
      for (const file of readdirSync(sandbox.dataDir)) chmodSync(join(sandbox.dataDir, file), 0o400);
      const ask = await asUnprivileged(['ask', 'hello']);
      expect(ask.code).toBe(1);
      expect(isOneLine(ask), ask.stderr).toBe(true);
      expect(ask.stderr).toContain(sandbox.dataDir);
      expect(fake.modelRequests).toHaveLength(0);

      const doctor = await asUnprivileged(['doctor', '--json', '--timeout', '0.5']);
      const checks = JSON.parse(doctor.stdout).checks as Array<{ name: string; status: string; message: string }>;
      expect(checks).toContainEqual(expect.objectContaining({ name: 'database writable', status: 'error', message: expect.stringContaining('is read-only') }));
      expect(doctor.stdout).not.toContain('move it aside');
      expect(doctor.stdout).not.toContain('is damaged');
    });
  });

  it('ask --session, chat --session and /session take the short id history list prints', async () => {
    fake.enqueue({ text: 'First answer.' });
    const first = await runInSandbox(sandbox, ['ask', 'remember the word teapot']);
    expect(first.code).toBe(0);
    const list = await runInSandbox(sandbox, ['history', 'list']);
    const shortId = /^([0-9a-f]{8})\s/m.exec(list.stdout)![1]!;

    fake.enqueue({ text: 'Teapot.' });
    const ask = await runInSandbox(sandbox, ['ask', '--session', shortId, 'which word?']);
    expect(ask.code, ask.stderr).toBe(0);
    expect(JSON.stringify(fake.modelRequests.at(-1)!.body)).toContain('remember the word teapot');

    fake.enqueue({ text: 'Still teapot.' });
    const chat = await runInSandbox(sandbox, ['chat', '--session', shortId], { input: 'and now?\n' });
    expect(chat.code, chat.stderr).toBe(0);
    expect(JSON.stringify(fake.modelRequests.at(-1)!.body)).toContain('remember the word teapot');

    fake.enqueue({ text: 'Teapot, again.' });
    const slash = await runInSandbox(sandbox, ['chat'], { input: `/session ${shortId}\nonce more?\n` });
    expect(slash.code, slash.stderr).toBe(0);
    expect(slash.stderr).toMatch(new RegExp(`continuing session ${shortId}[0-9a-f-]{28}`));
    expect(JSON.stringify(fake.modelRequests.at(-1)!.body)).toContain('remember the word teapot');
    await withStore(sandbox, async (store) => expect(await store.listSessions({})).toHaveLength(1));
  });

  it('an ambiguous or unknown short id is one line and status 2 for the flag, one line for /session', async () => {
    await withStore(sandbox, async (store) => {
      for (const title of ['one', 'two']) await store.createSession({ workspaceUri: sandbox.workspaceUri, title, provider: 'ollama' });
    });
    // Ids are random; give the two a shared prefix.
    const sqlite = new SQLite(sandbox.databaseFile);
    const ids = (sqlite.prepare('SELECT id FROM sessions').pluck().all() as string[]).sort();
    ids.forEach((id, index) => sqlite.prepare('UPDATE sessions SET id = ? WHERE id = ?').run(`abcd${index}${id.slice(5)}`, id));
    sqlite.close();
    for (const args of [['ask', '--session', 'abcd', 'x'], ['chat', '--session', 'abcd'], ['ask', '--session', 'ffff9', 'x']]) {
      const result = await runInSandbox(sandbox, args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(isOneLine(result), result.stderr).toBe(true);
      expect(result.stderr).toContain('--session');
    }
    const ambiguous = await runInSandbox(sandbox, ['ask', '--session', 'abcd', 'x']);
    expect(ambiguous.stderr).toMatch(/matches several sessions \(abcd[01]\w{3}, abcd[01]\w{3}\)/);
    const chat = await runInSandbox(sandbox, ['chat'], { input: '/session abcd\n/session zzzz\n' });
    expect(chat.code).toBe(0);
    expect(lines(chat.stderr)).toEqual([expect.stringMatching(/^\/session: .*matches several sessions/), expect.stringMatching(/^\/session: no session matches "zzzz"/)]);
    expect(fake.modelRequests).toHaveLength(0);
  });

  it('an empty or blank instruction is a usage error: no model call, no session', async () => {
    for (const instruction of ['', '   ', '\t\n']) {
      const result = await runInSandbox(sandbox, ['ask', instruction]);
      expect(result.code, JSON.stringify(instruction)).toBe(2);
      expect(isOneLine(result), result.stderr).toBe(true);
      expect(result.stderr).toContain('instruction is empty');
    }
    // Blank lines in chat are skipped, not sent.
    fake.enqueue({ text: 'Hi.' });
    const chat = await runInSandbox(sandbox, ['chat'], { input: '\n   \nhello\n\n' });
    expect(chat.code).toBe(0);
    expect(fake.modelRequests).toHaveLength(1);
    await withStore(sandbox, async (store) => expect((await store.listSessions({})).map((session) => session.title)).toEqual(['hello']));
  });

  it('--lines counts a final newline as the end of the last line, not a line of its own', async () => {
    writeFileSync(join(sandbox.workspace, 'seven.txt'), '1\n2\n3\n4\n5\n6\n7\n');
    const past = await runInSandbox(sandbox, ['ask', '--file', 'seven.txt', '--lines', '8', 'x']);
    expect(past.code).toBe(2);
    expect(past.stderr).toContain('seven.txt has only 7 lines');
    fake.enqueue({ text: 'The last line is 7.' });
    const last = await runInSandbox(sandbox, ['ask', '--file', 'seven.txt', '--lines', '7', 'x']);
    expect(last.code, last.stderr).toBe(0);
    expect(JSON.stringify(fake.modelRequests.at(-1)!.body)).toContain('Selected lines 7-7');
  });

  it('doctor says how this project is installed, and names no key for a JSON syntax error', async () => {
    writeFileSync(sandbox.configPath, '{\n  "review": ,\n}');
    const result = await runInSandbox(sandbox, ['doctor', '--json', '--timeout', '0.5'], { env: { PATH: '' } });
    const checks = JSON.parse(result.stdout).checks as Array<{ name: string; fix?: string; message: string }>;
    const onPath = checks.find((check) => check.name === 'codebench on PATH')!;
    expect(onPath.fix).not.toContain('npm install -g codebench');
    expect(onPath.fix).toMatch(/npm link/);
    expect(onPath.fix).toMatch(/npm pack.*npm install -g \.\/codebench-\d+\.\d+\.\d+\.tgz/);
    const config = checks.find((check) => check.name === 'config')!;
    expect(config.message).toContain('Invalid JSON');
    expect(config.fix).not.toContain('key');
    expect(config.fix).toContain(sandbox.configPath);

    writeFileSync(sandbox.configPath, '{ "reveiw": "ask" }');
    const keyed = await runInSandbox(sandbox, ['doctor', '--json', '--timeout', '0.5'], { env: { PATH: '' } });
    const keyCheck = (JSON.parse(keyed.stdout).checks as Array<{ name: string; fix?: string }>).find((check) => check.name === 'config')!;
    expect(keyCheck.fix).toContain(`fix the key reveiw in ${sandbox.configPath}`);
  });

  it('a CODEBENCH_CONFIG naming a missing file is an error naming the variable and the path', async () => {
    const missing = join(sandbox.root, 'typo', 'confg.json');
    const env = { CODEBENCH_CONFIG: missing };
    for (const args of [['history', 'list'], ['ask', 'hello'], ['config', 'show']]) {
      const result = await runInSandbox(sandbox, args, { env });
      expect(result.code, args.join(' ')).toBe(1);
      expect(isOneLine(result), result.stderr).toBe(true);
      expect(result.stderr).toContain(`CODEBENCH_CONFIG names ${missing}, which does not exist`);
    }
    const doctor = await runInSandbox(sandbox, ['doctor', '--json', '--timeout', '0.5'], { env });
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout).checks).toContainEqual(expect.objectContaining({ name: 'config', status: 'error', message: expect.stringContaining('CODEBENCH_CONFIG') }));
    const path = await runInSandbox(sandbox, ['config', 'path'], { env });
    expect(path.stderr).toContain('CODEBENCH_CONFIG names it');
    // `config init` is how to fix it, so it still works.
    expect((await runInSandbox(sandbox, ['config', 'init'], { env })).code).toBe(0);
    expect(statSync(missing).isFile()).toBe(true);
    expect(fake.modelRequests).toHaveLength(0);
  });

  it('without a terminal a command is refused as "no one could be asked", naming codebench policy allow', async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { command: 'ls -la' } }] }, { text: 'I could not list the files.' });
    const result = await runInSandbox(sandbox, ['ask', 'list the files']);
    expect(result.code, result.stderr).toBe(0);
    const toModel = JSON.stringify(fake.modelRequests.at(-1)!.body);
    expect(toModel).toContain('no one could be asked');
    expect(toModel).toContain('codebench policy allow ls -la');
    expect(toModel).not.toContain('the user denied it');
    expect(result.stderr).toContain('not run: ls -la');
    expect(result.stderr).toContain('codebench policy allow ls -la');
  });

  it.skipIf(!HAVE_SCRIPT)('in a terminal: Ctrl-C at an approval prompt cancels the run; the Apply prompt shows its default', async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { command: 'ls -la' } }] }, { text: 'never reached' });
    const asked = TerminalSession.start(['ask', 'list the files'], { cwd: sandbox.workspace, env: { ...sandbox.env, NO_COLOR: '1' } });
    await asked.waitFor('Allow [o]nce');
    asked.type('\x03');
    // Before: readline swallowed Ctrl-C and the prompt waited for the 5-minute approval timeout.
    expect(await Promise.race([asked.exited, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 8000))])).toBe(130);
    expect(plain(asked.output)).toContain('or [d]eny (default: deny; Ctrl-C cancels the run)?');
    expect(plain(asked.output)).toContain('cancelled');
    expect(fake.modelRequests).toHaveLength(1);

    fake.reset();
    fake.enqueue({ toolCalls: [{ name: 'write_file', args: { path: 'new.txt', content: 'two\n' } }] }, { text: 'Done.' });
    const apply = TerminalSession.start(['ask', 'change it'], { cwd: sandbox.workspace, env: { ...sandbox.env, NO_COLOR: '1' } });
    await apply.waitFor('Apply these changes? [a]pply / [d]iscard (default: discard):');
    apply.type('\r');
    expect(await apply.exited).toBe(0);
    expect(plain(apply.output)).toContain('discarded');
    expect(readdirSync(sandbox.workspace)).toEqual([]);
  });

  it.skipIf(!HAVE_SCRIPT)('in chat on a terminal: Ctrl-C at an approval prompt cancels the turn and chat goes on', async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { command: 'ls -la' } }] });
    const chat = TerminalSession.start(['chat'], { cwd: sandbox.workspace, env: { ...sandbox.env, NO_COLOR: '1' } });
    await chat.waitFor('you ›');
    chat.type('list the files\r');
    await chat.waitFor('Allow [o]nce');
    chat.type('\x03');
    await chat.waitFor(/cancelled[\s\S]*you ›/);
    chat.type('\x04');
    expect(await chat.exited).toBe(0);
    expect(fake.modelRequests).toHaveLength(1);
    await withStore(sandbox, async (store) => {
      const [session] = await store.listSessions({});
      expect((await store.listRuns(session!.id)).map((run) => run.status)).toEqual(['cancelled']);
    });
  });
});
