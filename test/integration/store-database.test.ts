import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Migrator } from 'kysely';
import { migrate, openDatabase, type OpenedDatabase } from '../../server/src/store/database.js';
import { migrationProvider, migrations } from '../../server/src/store/migrations.js';
import { Store } from '../../server/src/store/store.js';

const dirs: string[] = [];
const opened: OpenedDatabase[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-store-db-'));
  dirs.push(dir);
  return dir;
}

async function open(file: string): Promise<OpenedDatabase> {
  const handle = await openDatabase(file);
  opened.push(handle);
  return handle;
}

afterEach(async () => {
  for (const handle of opened.splice(0)) {
    if (handle.sqlite.open) await handle.db.destroy();
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function schemaObjects(sqlite: SQLite.Database): string[] {
  return (
    sqlite
      .prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[]
  );
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('openDatabase', () => {
  it('creates a 0700 directory and 0600 files even under a permissive umask', async () => {
    const file = path.join(tempDir(), 'nested', 'deeper', 'history.sqlite');
    const previous = process.umask(0);
    try {
      const handle = await open(file);
      await handle.db.insertInto('workspaces').values({ uri: 'file:///w', created_at: 'x' }).execute();
    } finally {
      process.umask(previous);
    }
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    // SQLite creates these while the connection is open, copying the main file's mode.
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);
  });

  it('tightens an existing database and its WAL to 0600', async () => {
    const file = path.join(tempDir(), 'history.sqlite');
    const first = await open(file);
    await first.db.insertInto('workspaces').values({ uri: 'file:///w', created_at: 'x' }).execute();
    fs.chmodSync(file, 0o644);
    fs.chmodSync(`${file}-wal`, 0o644);
    await open(file);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
  });

  it('sets WAL and the other connection pragmas', async () => {
    const { sqlite, file } = await open(path.join(tempDir(), 'history.sqlite'));
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(sqlite.pragma('journal_size_limit', { simple: true })).toBe(16 * 1024 * 1024);
    expect(path.isAbsolute(file)).toBe(true);
    // WAL is persistent: a plain connection sees it too.
    const other = new SQLite(file, { readonly: true });
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    other.close();
  });

  it('names the file when it is not a database', async () => {
    const file = path.join(tempDir(), 'garbage.sqlite');
    fs.writeFileSync(file, 'this is not an SQLite file, just some text '.repeat(200));
    await expect(openDatabase(file)).rejects.toThrow(file);
  });

  it('refuses a file migrated by a newer version, naming file and migration', async () => {
    const file = path.join(tempDir(), 'history.sqlite');
    const handle = await open(file);
    handle.sqlite
      .prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)')
      .run('9999_from_the_future', new Date().toISOString());
    await handle.db.destroy();
    const error = await openDatabase(file).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(file);
    expect(error?.message).toContain('9999_from_the_future');
  });

  it('migrates up, all the way down (tables, FTS, triggers gone) and up again', async () => {
    const handle = await open(path.join(tempDir(), 'history.sqlite'));
    const { sqlite } = handle;
    const initial = schemaObjects(sqlite);
    for (const name of [
      'workspaces',
      'sessions',
      'messages',
      'runs',
      'tool_calls',
      'proposals',
      'messages_fts',
      'messages_fts_insert',
      'messages_fts_delete',
      'messages_fts_update',
      'messages_session_id',
      'sessions_workspace_updated',
      'runs_running',
    ]) {
      expect(initial).toContain(name);
    }

    // Already at latest: nothing to do.
    expect((await migrate(handle, 'latest')).results).toEqual([]);

    const down = await migrate(handle, 'none');
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
      Object.keys(migrations)
        .reverse()
        .map((name) => [name, 'Down', 'Success']),
    );
    // Only kysely's bookkeeping is left.
    expect(schemaObjects(sqlite).filter((n) => !n.startsWith('kysely_'))).toEqual([]);

    const up = await migrate(handle, 'latest');
    expect(up.results?.map((r) => r.status)).toEqual(Object.keys(migrations).map(() => 'Success'));
    expect(schemaObjects(sqlite)).toEqual(initial);
  });

  it('0004 admits `unconfirmed` proposals, keeping rows, order and indexes; down records them as applied', async () => {
    const file = path.join(tempDir(), 'history.sqlite');
    const store = await Store.open(file);
    const session = await store.createSession({ workspaceUri: 'file:///w', title: 't', provider: 'p' });
    const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'i' });
    const files = [{ uri: 'file:///w/a.ts', path: 'a.ts', baseVersion: 3, created: false }];
    const discarded = await store.createProposal({ runId: run.id, sessionId: session.id, summary: 'a.ts (+1 −1)', files, diff: 'd1' });
    await store.setProposalStatus(discarded.id, 'discarded', 'not wanted');
    const doubtful = await store.createProposal({ runId: run.id, sessionId: session.id, summary: 'a.ts (+2 −0)', files, diff: 'd2' });
    // Refused by the CHECK constraint before 0004.
    await store.setProposalStatus(doubtful.id, 'unconfirmed', 'the editor did not send the new text of a.ts');
    const before = await store.listProposals({ sessionId: session.id });
    await store.close();

    const handle = await open(file);
    const { sqlite } = handle;
    const proposalIndexes = () => sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'proposals' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    // At the latest schema: 0010 (undo) and 0011 (provenance) add partial indexes over applied proposals.
    expect(proposalIndexes()).toEqual(['proposals_applied', 'proposals_applied_files', 'proposals_run', 'proposals_session_created']);
    const setStatus = (id: string, status: string) => sqlite.prepare('UPDATE proposals SET status = ? WHERE id = ?').run(status, id);
    expect(() => setStatus(discarded.id, 'bogus')).toThrow(/CHECK constraint/);

    // Down to just before 0004, whatever later migrations exist (they are undone first).
    const down = await new Migrator({ db: handle.db, provider: migrationProvider }).migrateTo('0003_commands');
    expect(down.results?.map((r) => [r.migrationName, r.status]).at(-1)).toEqual(['0004_proposal_unconfirmed', 'Success']);
    expect(down.results?.every((r) => r.status === 'Success')).toBe(true);
    const rows = () => sqlite.prepare('SELECT id, status, detail, diff FROM proposals ORDER BY rowid').all();
    expect(rows()).toEqual([
      { id: discarded.id, status: 'discarded', detail: 'not wanted', diff: 'd1' },
      { id: doubtful.id, status: 'applied', detail: 'unconfirmed: the editor did not send the new text of a.ts', diff: 'd2' },
    ]);
    expect(() => setStatus(discarded.id, 'unconfirmed')).toThrow(/CHECK constraint/);
    expect(proposalIndexes()).toEqual(['proposals_run', 'proposals_session_created']);

    await migrate(handle, 'latest');
    setStatus(doubtful.id, 'unconfirmed');
    expect(() => setStatus(discarded.id, 'bogus')).toThrow(/CHECK constraint/);
    expect(proposalIndexes()).toEqual(['proposals_applied', 'proposals_applied_files', 'proposals_run', 'proposals_session_created']);
    // Foreign keys still hold after the rebuild (and deleting the session below cascades).
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
    await handle.db.destroy();
    const reopened = await Store.open(file);
    const after = await reopened.listProposals({ sessionId: session.id });
    expect(after.map((proposal) => [proposal.id, proposal.summary, proposal.files, proposal.createdAt])).toEqual(
      before.map((proposal) => [proposal.id, proposal.summary, proposal.files, proposal.createdAt]),
    );
    expect(await reopened.deleteSession(session.id)).toBe(true);
    expect(await reopened.listProposals({ sessionId: session.id })).toEqual([]);
    await reopened.close();
  });

  it('works again after a full down/up cycle', async () => {
    const file = path.join(tempDir(), 'history.sqlite');
    const handle = await open(file);
    await migrate(handle, 'none');
    await migrate(handle, 'latest');
    await handle.db.destroy();
    const store = await Store.open(file);
    const session = await store.createSession({ workspaceUri: 'file:///w', title: 't', provider: 'p' });
    await store.addMessage({ sessionId: session.id, role: 'user', content: 'after the cycle' });
    expect(await store.searchMessages({ query: 'cycle' })).toHaveLength(1);
    await store.close();
  });

  it('lets two opens of a fresh file in one process both succeed', async () => {
    const file = path.join(tempDir(), 'history.sqlite');
    const [a, b] = await Promise.all([Store.open(file), Store.open(file)]);
    expect(a.file).toBe(b.file);
    await Promise.all([a.close(), b.close()]);
  });
});
