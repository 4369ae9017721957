import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';
import { REPO } from '../e2e/harness.js';
import { createCliSandbox, runInSandbox, type CliSandbox } from './run-cli.js';

/** `codebench memory list|add|rm` through the built CLI, on a sandbox's own database. */

let sandbox: CliSandbox;
const memory = (args: string[]) => runInSandbox(sandbox, ['memory', ...args]);

beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  sandbox = createCliSandbox('codebench-memory-');
});
afterAll(() => sandbox.cleanup());

describe('codebench memory', { timeout: 60_000 }, () => {
  it('says how to add a fact when there is none', async () => {
    const result = await memory([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`No facts remembered for ${sandbox.workspace}; add one with: codebench memory add "…"\n`);
  });

  it('adds, lists (text and --json) and removes by short id', async () => {
    const added = await memory(['add', 'Use', 'pnpm,', 'not npm.']);
    expect(added.code, added.stderr).toBe(0);
    const match = /^remembered ([0-9a-f]{8}): Use pnpm, not npm\.\n$/.exec(added.stdout);
    expect(match, added.stdout).not.toBeNull();
    const short = match![1]!;

    const json = await memory(['list', '--json']);
    const records = JSON.parse(json.stdout);
    expect(records).toEqual([{ id: expect.stringMatching(new RegExp(`^${short}-`)), workspaceUri: sandbox.workspaceUri, text: 'Use pnpm, not npm.', createdAt: expect.any(String) }]);

    const listed = await memory(['list']);
    expect(listed.stdout).toMatch(new RegExp(`^${short}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d  added by you  Use pnpm, not npm\\.\\n$`));

    const removed = await memory(['rm', short.slice(0, 5)]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`forgot ${short}: Use pnpm, not npm.\n`);
    expect(JSON.parse((await memory(['list', '--json'])).stdout)).toEqual([]);
  });

  it('shows the run that remembered a fact, and facts of this workspace only', async () => {
    const store = await Store.open(sandbox.databaseFile);
    try {
      const session = await store.createSession({ workspaceUri: sandbox.workspaceUri, title: 't', provider: 'p' });
      const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'i' });
      await store.addMemoryFact({ workspaceUri: sandbox.workspaceUri, text: 'Remembered by a run.', runId: run.id });
      await store.addMemoryFact({ workspaceUri: pathToFileURL(join(sandbox.root, 'other')).href, text: 'Another workspace.' });
      const listed = await memory(['list']);
      expect(listed.stdout).toContain(`  run ${run.id.slice(0, 8)}  Remembered by a run.\n`);
      expect(listed.stdout).not.toContain('Another workspace.');
      expect(JSON.parse((await memory(['list', '--json'])).stdout)).toEqual([expect.objectContaining({ text: 'Remembered by a run.', runId: run.id })]);
      for (const fact of [...(await store.listMemoryFacts(sandbox.workspaceUri)), ...(await store.listMemoryFacts(pathToFileURL(join(sandbox.root, 'other')).href))]) {
        await store.removeMemoryFact(fact.id);
      }
    } finally {
      await store.close();
    }
  });

  it('redacts a secret before storing it, refuses empty, too long and secret-only facts', async () => {
    const key = `sk-proj-${'a1b2c3d4e5'.repeat(4)}`;
    const added = await memory(['add', `The demo key is ${key}`]);
    expect(added.stdout).toMatch(/^remembered [0-9a-f]{8}: The demo key is \[redacted:api key\] \(secret-looking text was redacted\)\n$/);
    expect(JSON.stringify(JSON.parse((await memory(['list', '--json'])).stdout))).not.toContain(key);

    for (const [text, message] of [
      ['   ', 'codebench: not remembered: the fact is empty\n'],
      ['x'.repeat(501), 'codebench: not remembered: the fact is 501 characters long; at most 500 are kept, so state it shorter\n'],
      [key, 'codebench: not remembered: the fact is nothing but a secret, and secrets are never stored in the project memory\n'],
    ] as const) {
      const refused = await memory(['add', text]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(message);
    }
    expect(JSON.parse((await memory(['list', '--json'])).stdout)).toHaveLength(1);
    const [fact] = JSON.parse((await memory(['list', '--json'])).stdout);
    await memory(['rm', fact.id]);
  });

  it('shows control characters in a fact instead of obeying them', async () => {
    await memory(['add', 'title \u001b]0;pwned\u0007 here']);
    const listed = await memory(['list']);
    expect(listed.stdout).toContain('title ^[]0;pwned^G here');
    expect(listed.stdout).not.toContain('\u001b');
    const [fact] = JSON.parse((await memory(['list', '--json'])).stdout);
    await memory(['rm', fact.id]);
  });

  it('explains a prefix that is too short, unknown or ambiguous', async () => {
    // Ids are random UUIDs, so two sharing a prefix are written directly.
    const sqlite = new SQLite(sandbox.databaseFile);
    try {
      const insert = sqlite.prepare("INSERT INTO memory_facts (id, workspace_uri, text, created_at) VALUES (?, ?, ?, '2026-01-01T00:00:00.000Z')");
      insert.run('feed0000-0000-4000-8000-000000000000', sandbox.workspaceUri, 'Twin one');
      insert.run('feed1111-0000-4000-8000-000000000000', sandbox.workspaceUri, 'Twin two');
    } finally {
      sqlite.close();
    }
    const tooShort = await memory(['rm', 'fe']);
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toContain('give a fact id, or a unique prefix of at least 4 characters');

    const unknown = await memory(['rm', 'dead']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('codebench: no fact matches "dead" (see codebench memory list)\n');

    const ambiguous = await memory(['rm', 'FEED']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toBe('codebench: "FEED" matches several facts; give more characters:\n  feed0000  Twin one\n  feed1111  Twin two\n');

    expect((await memory(['rm', 'feed1'])).stdout).toBe('forgot feed1111: Twin two\n');
    expect((await memory(['list'])).stdout).toMatch(/^feed0000 .* Twin one\n$/);
    expect((await memory(['rm', 'feed0000-0000-4000-8000-000000000000'])).code).toBe(0);
  });
});
