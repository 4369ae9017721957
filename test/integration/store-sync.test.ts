import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Migrator } from 'kysely';
import { openDatabase } from '../../server/src/store/database.js';
import { migrationProvider } from '../../server/src/store/migrations.js';
import { Store } from '../../server/src/store/store.js';

// The local half of team sync (migration 0008): the trigger-filled outbox, teammates' records,
// the sync lease. The server half is in test/sync/.

let dir: string;
let file: string;
const stores: Store[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-store-sync-'));
  file = path.join(dir, 'history.sqlite');
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<Store> {
  const store = await Store.open(file);
  stores.push(store);
  return store;
}

const WORKSPACE = 'file:///w/api';
const OTHER = 'file:///w/private';
const files = [{ uri: 'file:///w/api/a.ts', path: 'a.ts', baseVersion: 1, created: false }];

/** A session with one run, two messages and a proposal: seven writes that the triggers see. */
async function conversation(store: Store, workspaceUri = WORKSPACE) {
  const session = await store.createSession({ workspaceUri, title: 'fix the bug', provider: 'local' });
  const run = await store.createRun({ sessionId: session.id, provider: 'local', model: 'm', instruction: 'fix the bug' });
  await store.addMessage({ sessionId: session.id, runId: run.id, role: 'user', content: 'fix the bug' });
  await store.addMessage({ sessionId: session.id, runId: run.id, role: 'assistant', content: 'done' });
  const proposal = await store.createProposal({ runId: run.id, sessionId: session.id, summary: 's', files, diff: '--- a\n+++ b\n' });
  await store.finishRun(run.id, { status: 'completed', inputTokens: 10, outputTokens: 2 });
  return { session, run, proposal };
}

describe('the sync outbox', () => {
  it('queues nothing for a workspace that is not shared', async () => {
    const store = await open();
    await conversation(store);
    expect(store.sync.outboxSize()).toBe(0);
  });

  it('queues what a workspace held before it was shared, then every later write, once per record', async () => {
    const store = await open();
    const before = await conversation(store);
    await store.createSession({ workspaceUri: OTHER, title: 'private', provider: 'local' });
    expect(store.sync.shareWorkspace(WORKSPACE, 'github.com/acme/api')).toBe(true);
    expect(store.sync.shareWorkspace(WORKSPACE, 'github.com/acme/api')).toBe(false);
    const first = store.sync.outboxBatch(100);
    expect(first.sessions.map((s) => s.id)).toEqual([before.session.id]);
    expect(first.runs.map((r) => [r.id, r.workspace, r.status, r.inputTokens])).toEqual([[before.run.id, 'github.com/acme/api', 'completed', 10]]);
    expect(first.messages.map((m) => m.content).sort()).toEqual(['done', 'fix the bug']);
    expect(first.messages.every((m) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(m.id))).toBe(true);
    expect(first.proposals.map((p) => [p.id, p.files])).toEqual([[before.proposal.id, files]]);
    expect(first.entries).toHaveLength(5);

    const after = await conversation(store);
    const second = store.sync.outboxBatch(100);
    // The first session was not touched again; the new one and its children were queued by triggers.
    expect(second.entries).toHaveLength(10);
    expect(second.sessions.map((s) => s.id).sort()).toEqual([before.session.id, after.session.id].sort());
  });

  it('keeps a change made while a push was in flight: only the pushed versions leave the queue', async () => {
    const store = await open();
    store.sync.shareWorkspace(WORKSPACE, 'github.com/acme/api');
    await store.ensureWorkspace(WORKSPACE);
    store.sync.shareWorkspace(WORKSPACE, 'github.com/acme/api');
    const { run } = await conversation(store);
    const inFlight = store.sync.outboxBatch(100);
    await store.setProposalStatus(inFlight.proposals[0]!.id, 'applied');
    store.sync.completeOutbox(inFlight.entries.map((entry) => entry.seq));
    const left = store.sync.outboxBatch(100);
    expect(left.entries.map((entry) => entry.kind)).toEqual(['proposal']);
    expect(left.proposals[0]!.status).toBe('applied');
    expect(left.proposals[0]!.runId).toBe(run.id);
  });

  it('turns a deleted session into one delete, and drops the queue of a workspace that stops being shared', async () => {
    const store = await open();
    await store.ensureWorkspace(WORKSPACE);
    store.sync.shareWorkspace(WORKSPACE, 'github.com/acme/api');
    const { session } = await conversation(store);
    await store.deleteSession(session.id);
    const batch = store.sync.outboxBatch(100);
    expect(batch.deletedSessions).toEqual([session.id]);
    // Children rows are gone: their queue entries are acknowledged without records.
    expect(batch.runs).toEqual([]);
    expect(batch.messages).toEqual([]);

    await conversation(store);
    store.sync.shareWorkspace(WORKSPACE, undefined);
    const unshared = store.sync.outboxBatch(100);
    expect([unshared.sessions, unshared.runs, unshared.messages, unshared.proposals]).toEqual([[], [], [], []]);
    // The earlier delete still goes out: the team saw that session.
    expect(unshared.deletedSessions).toEqual([session.id]);
  });

  it('gives every message stored before migration 0008 a distinct v4 uuid', async () => {
    const store = await open();
    const session = await store.createSession({ workspaceUri: WORKSPACE, title: 't', provider: 'p' });
    for (let i = 0; i < 50; i++) await store.addMessage({ sessionId: session.id, role: 'user', content: `m${i}` });
    await store.close();
    // Down to just before 0008 (later migrations are undone first), then up again over the rows.
    const handle = await openDatabase(file);
    const down = await new Migrator({ db: handle.db, provider: migrationProvider }).migrateTo('0007_proposal_evidence');
    expect(down.error).toBeUndefined();
    expect(handle.sqlite.prepare("SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'uid'").pluck().get()).toBe(0);
    await handle.db.destroy();
    await open();
    const check = new SQLite(file, { readonly: true });
    const uids = check.prepare('SELECT uid FROM messages').pluck().all() as string[];
    check.close();
    expect(uids).toHaveLength(50);
    expect(new Set(uids).size).toBe(50);
    for (const uid of uids) expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("teammates' records", () => {
  const teamSession = { id: '11111111-1111-4111-8111-111111111111', workspace: 'github.com/acme/api', author: 'alice', title: 'her work', provider: 'local', messageCount: 1, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:01.000Z' };
  const teamMessage = { id: '22222222-2222-4222-8222-222222222222', sessionId: teamSession.id, workspace: 'github.com/acme/api', author: 'alice', role: 'user', content: 'hello', createdAt: '2026-12-01T00:00:00.500Z' };

  it('are saved with the cursor they advance, apart from own history, and a deleted session takes its children', async () => {
    const store = await open();
    store.sync.saveTeamRecords({ sessions: [teamSession], messages: [teamMessage] }, { 'cursor.sessions': '5' });
    expect(store.sync.teamSessions({ workspace: 'github.com/acme/api' }).map((s) => [s.author, s.title])).toEqual([['alice', 'her work']]);
    expect(store.sync.teamMessages(teamSession.id).map((m) => m.content)).toEqual(['hello']);
    expect(store.sync.state()['cursor.sessions']).toBe('5');
    expect(await store.listSessions()).toEqual([]);
    expect(store.sync.outboxSize()).toBe(0);

    store.sync.saveTeamRecords({ sessions: [{ ...teamSession, deletedAt: '2026-12-02T00:00:00.000Z' }] }, {});
    expect(store.sync.teamSession(teamSession.id)).toBeUndefined();
    expect(store.sync.teamMessages(teamSession.id)).toEqual([]);
  });

  it('skips records that are this machine own ones', async () => {
    const store = await open();
    const { session } = await conversation(store);
    store.sync.saveTeamRecords({ sessions: [{ ...teamSession, id: session.id, title: 'overwritten?' }] }, {});
    expect(store.sync.teamSessions()).toEqual([]);
    expect((await store.getSession(session.id))!.title).toBe('fix the bug');
  });
});

describe('the sync lease', () => {
  it('is held by one process at a time, and taken over when it runs out or its holder is gone', async () => {
    const store = await open();
    const now = Date.now();
    expect(store.sync.claimLease(process.pid, now, 60_000)).toBe(true);
    expect(store.sync.claimLease(process.ppid, now, 60_000)).toBe(false);
    expect(store.sync.claimLease(process.ppid, now + 61_000, 60_000)).toBe(true);
    // A holder that died without releasing: its pid no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    store.sync.setState({ 'lease.pid': dead, 'lease.until': String(now + 3_600_000) });
    expect(store.sync.claimLease(process.pid, now, 60_000)).toBe(true);
    store.sync.releaseLease(process.pid);
    expect(store.sync.state()['lease.pid']).toBeUndefined();
  });
});
