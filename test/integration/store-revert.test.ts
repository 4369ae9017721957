import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../server/src/store/database.js';
import { migrationProvider } from '../../server/src/store/migrations.js';
import { Store } from '../../server/src/store/store.js';

// Migration 0010 (`reverted` proposals, a table rebuild) and what undo reads from the store.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function databaseFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-store-revert-'));
  dirs.push(dir);
  return path.join(dir, 'history.sqlite');
}

const WORKSPACE = 'file:///w/api';
const files = [{ uri: 'file:///w/api/a.ts', path: 'a.ts', baseVersion: null, created: false }];

async function proposal(store: Store, workspaceUri = WORKSPACE, summary = 's') {
  const session = await store.createSession({ workspaceUri, title: 't', provider: 'p' });
  const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'i' });
  return store.createProposal({ runId: run.id, sessionId: session.id, summary, files, diff: `diff of ${summary}`, evidence: [{ command: 'npm test', exitCode: 0 }] });
}

describe('migration 0010 and the applied proposals', () => {
  it('admits `reverted`; keeps rows, evidence, indexes and the team-sync triggers; down records a revert as discarded', async () => {
    const file = databaseFile();
    const store = await Store.open(file);
    await store.ensureWorkspace(WORKSPACE);
    store.sync.shareWorkspace(WORKSPACE, 'github.com/acme/api');
    const first = await proposal(store);
    await store.setProposalStatus(first.id, 'applied');
    store.sync.completeOutbox(store.sync.outboxBatch(100).entries.map((entry) => entry.seq));
    await store.setProposalStatus(first.id, 'reverted');
    // The rebuilt table still queues its changes for the team server.
    expect(store.sync.outboxBatch(100).proposals.map((shared) => [shared.id, shared.status])).toEqual([[first.id, 'reverted']]);
    expect((await store.getProposal(first.id))?.evidence).toEqual([{ command: 'npm test', exitCode: 0 }]);
    await store.close();

    const handle = await openDatabase(file);
    const { sqlite } = handle;
    const objects = (type: string) => sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = ? AND tbl_name = 'proposals' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all(type);
    // Later migrations may add their own indexes (0011: provenance's).
    expect(objects('index')).toEqual(expect.arrayContaining(['proposals_applied', 'proposals_run', 'proposals_session_created']));
    expect(objects('trigger')).toEqual(['proposals_sync_insert', 'proposals_sync_update']);
    expect(() => sqlite.prepare("UPDATE proposals SET status = 'bogus'").run()).toThrow(/CHECK constraint/);

    const down = await new Migrator({ db: handle.db, provider: migrationProvider }).migrateTo('0009_model_calls');
    // Down to just before 0010, whatever later migrations exist (they are undone first).
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status]).at(-1)).toEqual(['0010_proposal_reverted', 'Down', 'Success']);
    expect(down.results?.every((r) => r.status === 'Success')).toBe(true);
    expect(sqlite.prepare('SELECT status, detail, evidence FROM proposals').get()).toEqual({ status: 'discarded', detail: 'reverted', evidence: '[{"command":"npm test","exitCode":0}]' });
    expect(() => sqlite.prepare("UPDATE proposals SET status = 'reverted'").run()).toThrow(/CHECK constraint/);
    expect(objects('trigger')).toEqual(['proposals_sync_insert', 'proposals_sync_update']);
    expect(objects('index')).toEqual(['proposals_run', 'proposals_session_created']);
    await migrate(handle, 'latest');
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
    await handle.db.destroy();
  });

  it('lists applied (and unconfirmed) proposals newest applied first, per workspace, and finds one by a short id', async () => {
    const store = await Store.open(databaseFile());
    const older = await proposal(store, WORKSPACE, 'older');
    const newer = await proposal(store, WORKSPACE, 'newer');
    const elsewhere = await proposal(store, 'file:///w/other', 'elsewhere');
    const reverted = await proposal(store, WORKSPACE, 'reverted');
    // Applied in another order than created: decided time decides.
    await store.setProposalStatus(newer.id, 'unconfirmed');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.setProposalStatus(older.id, 'applied');
    await store.setProposalStatus(elsewhere.id, 'applied');
    await store.setProposalStatus(reverted.id, 'reverted');
    const summaries = async (input: { workspaceUri?: string; limit: number }) => (await store.recentlyAppliedProposals(input)).map((found) => found.summary);
    expect(await summaries({ workspaceUri: WORKSPACE, limit: 10 })).toEqual(['older', 'newer']);
    expect(await summaries({ workspaceUri: WORKSPACE, limit: 1 })).toEqual(['older']);
    expect(await summaries({ limit: 10 })).toEqual(['elsewhere', 'older', 'newer']);

    const found = await store.findProposal(older.id.slice(0, 8).toUpperCase());
    expect(found.kind === 'found' && found.item.id).toBe(older.id);
    expect((await store.findProposal('abc')).kind).toBe('too-short');
    expect((await store.findProposal('ffffffff')).kind).toBe('not-found');
    await store.close();
  });
});
