import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, type ProposalFile } from '../../server/src/store/store.js';

let dir: string;
let file: string;
const stores: Store[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-store-'));
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

/** A second, plain connection for looking underneath the API. */
function peek<T>(query: string, ...params: unknown[]): T {
  const sqlite = new SQLite(file, { readonly: true });
  try {
    return sqlite.prepare(query).pluck().get(...params) as T;
  } finally {
    sqlite.close();
  }
}

const files: ProposalFile[] = [
  { uri: 'file:///w/a.ts', path: 'a.ts', baseVersion: 3, created: false },
  { uri: 'file:///w/new.ts', path: 'new.ts', baseVersion: null, created: true },
];

describe('Store', () => {
  it('keeps sessions, messages, runs, tool calls and proposals across close and reopen', async () => {
    const first = await Store.open(file);
    const session = await first.createSession({ workspaceUri: 'file:///w', title: 'Fix it', provider: 'openai' });
    const run = await first.createRun({ sessionId: session.id, provider: 'openai', model: 'gpt', instruction: 'fix' });
    await first.addMessage({ sessionId: session.id, role: 'user', content: 'please fix' });
    await first.addMessage({ sessionId: session.id, runId: run.id, role: 'assistant', content: 'done' });
    await first.recordToolCall({
      runId: run.id,
      callId: 'call_1',
      name: 'read_file',
      args: { path: 'a.ts', range: [1, 2] },
      result: 'contents',
      isError: false,
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:00:00.010Z',
    });
    const proposal = await first.createProposal({
      runId: run.id,
      sessionId: session.id,
      summary: 'Edit a.ts',
      files,
      diff: '--- a/a.ts\n+++ b/a.ts\n',
    });
    await first.finishRun(run.id, { status: 'completed', inputTokens: 10, outputTokens: 5 });
    await first.close();
    await first.close(); // idempotent

    const store = await open();
    expect(await store.getSession(session.id)).toMatchObject({
      title: 'Fix it',
      workspaceUri: 'file:///w',
      messageCount: 2,
      lastMessagePreview: 'done',
    });
    const messages = await store.listMessages(session.id);
    expect(messages.map((m) => [m.role, m.content, m.runId])).toEqual([
      ['user', 'please fix', undefined],
      ['assistant', 'done', run.id],
    ]);
    expect(await store.getRun(run.id)).toMatchObject({ status: 'completed', inputTokens: 10, outputTokens: 5 });
    expect(await store.listToolCalls(run.id)).toMatchObject([
      { callId: 'call_1', name: 'read_file', args: { path: 'a.ts', range: [1, 2] }, isError: false },
    ]);
    expect(await store.getProposal(proposal.id)).toEqual(proposal);
  });

  it('keeps counters, preview and activity order on the session row', async () => {
    const store = await open();
    const a = await store.createSession({ workspaceUri: 'file:///w', title: 'A', provider: 'p' });
    const b = await store.createSession({ workspaceUri: 'file:///w', title: 'B', provider: 'p' });
    const c = await store.createSession({ workspaceUri: 'file:///other', title: 'C', provider: 'p' });
    expect(a).toMatchObject({ messageCount: 0, lastMessagePreview: '', createdAt: a.updatedAt });
    expect((await store.listSessions({})).map((s) => s.title)).toEqual(['C', 'B', 'A']);

    await store.addMessage({ sessionId: a.id, role: 'user', content: 'first' });
    const last = await store.addMessage({
      sessionId: a.id,
      role: 'assistant',
      content: `  many\n\n  lines ${'x'.repeat(300)} 🎉`,
    });
    const updated = await store.getSession(a.id);
    expect(updated?.messageCount).toBe(2);
    expect(updated?.updatedAt).toBe(last.createdAt);
    expect(updated?.lastMessagePreview.startsWith('many lines xxx')).toBe(true);
    expect(Array.from(updated?.lastMessagePreview ?? '')).toHaveLength(160);

    expect((await store.listSessions({})).map((s) => s.title)).toEqual(['A', 'C', 'B']);
    expect((await store.listSessions({ workspaceUri: 'file:///w' })).map((s) => s.title)).toEqual(['A', 'B']);
    expect((await store.listSessions({ limit: 1 })).map((s) => s.title)).toEqual(['A']);
    expect(await store.listSessions({ workspaceUri: 'file:///nowhere' })).toEqual([]);

    const ws = await store.ensureWorkspace('file:///w');
    expect(await store.ensureWorkspace('file:///w')).toEqual(ws);
    expect(peek<number>('SELECT count(*) FROM workspaces')).toBe(2);
    expect(c.workspaceUri).toBe('file:///other');
  });

  it('returns undefined for unknown ids and names the id when it cannot write', async () => {
    const store = await open();
    const session = await store.createSession({ workspaceUri: 'file:///w', title: 't', provider: 'p' });
    expect(await store.getSession('nope')).toBeUndefined();
    expect(await store.getRun('nope')).toBeUndefined();
    expect(await store.getProposal('nope')).toBeUndefined();
    expect(await store.deleteSession('nope')).toBe(false);
    await expect(store.finishRun('run-x', { status: 'failed' })).rejects.toThrow('run-x');
    await expect(store.setProposalStatus('prop-x', 'applied')).rejects.toThrow('prop-x');
    await expect(store.addMessage({ sessionId: 'sess-x', role: 'user', content: 'hi' })).rejects.toThrow('sess-x');
    await expect(
      store.addMessage({ sessionId: session.id, runId: 'run-y', role: 'user', content: 'hi' }),
    ).rejects.toThrow('run-y');
    await expect(
      store.createRun({ sessionId: 'sess-z', provider: 'p', model: 'm', instruction: 'i' }),
    ).rejects.toThrow('sess-z');
    // A failed addMessage leaves the session untouched.
    expect(await store.getSession(session.id)).toMatchObject({ messageCount: 0 });
    expect(peek<number>('SELECT count(*) FROM messages')).toBe(0);
  });

  it('finishes runs and records decisions on proposals', async () => {
    const store = await open();
    const session = await store.createSession({ workspaceUri: 'file:///w', title: 't', provider: 'p' });
    const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'do' });
    expect(run).toMatchObject({ status: 'running', instruction: 'do' });
    expect(run.finishedAt).toBeUndefined();
    await store.finishRun(run.id, { status: 'failed', error: '429', firstTokenAt: '2025-01-01T00:00:01.000Z' });
    expect(await store.getRun(run.id)).toMatchObject({
      status: 'failed',
      error: '429',
      firstTokenAt: '2025-01-01T00:00:01.000Z',
      finishedAt: expect.any(String),
    });
    const second = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'again' });
    expect((await store.listRuns(session.id)).map((r) => r.id)).toEqual([run.id, second.id]);

    const p1 = await store.createProposal({ runId: run.id, sessionId: session.id, summary: 's1', files, diff: 'd1' });
    const p2 = await store.createProposal({ runId: second.id, sessionId: session.id, summary: 's2', files: [], diff: 'd2' });
    expect(p1).toMatchObject({ status: 'proposed', files });
    expect(p1.decidedAt).toBeUndefined();
    await store.setProposalStatus(p1.id, 'conflict', 'a.ts changed since version 3');
    await store.setProposalStatus(p2.id, 'applied');
    expect(await store.getProposal(p1.id)).toMatchObject({
      status: 'conflict',
      detail: 'a.ts changed since version 3',
      decidedAt: expect.any(String),
    });
    expect((await store.listProposals({ sessionId: session.id })).map((p) => p.id)).toEqual([p1.id, p2.id]);
    expect((await store.listProposals({ runId: second.id })).map((p) => p.id)).toEqual([p2.id]);
    expect(await store.listProposals({ sessionId: session.id, runId: 'other' })).toEqual([]);
  });

  it('pages messages and proposals backwards with limit and before, oldest first within a page', async () => {
    const store = await open();
    const session = await store.createSession({ workspaceUri: 'file:///w', title: 'Paging', provider: 'p' });
    const other = await store.createSession({ workspaceUri: 'file:///w', title: 'Other', provider: 'p' });
    const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'page' });
    const otherRun = await store.createRun({ sessionId: other.id, provider: 'p', model: 'm', instruction: 'other' });
    const messageIds: number[] = [];
    const proposalIds: string[] = [];
    for (let index = 0; index < 7; index++) {
      // Interleaved with another session's rows, and created within the same milliseconds, so
      // paging must follow the session's own order (ties broken by insertion), not ids or clocks.
      messageIds.push((await store.addMessage({ sessionId: session.id, role: 'user', content: `m${index}` })).id);
      await store.addMessage({ sessionId: other.id, role: 'user', content: `o${index}` });
      proposalIds.push((await store.createProposal({ runId: run.id, sessionId: session.id, summary: `p${index}`, files: [], diff: '' })).id);
      await store.createProposal({ runId: otherRun.id, sessionId: other.id, summary: `o${index}`, files: [], diff: '' });
    }
    const messagePages: number[][] = [];
    for (let before: number | undefined, round = 0; round < 10; round++) {
      const page = await store.listMessages(session.id, { limit: 3, before });
      messagePages.push(page.map((message) => message.id));
      if (page.length < 3) break;
      before = page[0]!.id;
    }
    expect(messagePages).toEqual([messageIds.slice(4), messageIds.slice(1, 4), messageIds.slice(0, 1)]);
    const proposalPages: string[][] = [];
    for (let before: string | undefined, round = 0; round < 10; round++) {
      const page = await store.listProposals({ sessionId: session.id, limit: 3, before });
      proposalPages.push(page.map((proposal) => proposal.id));
      if (page.length < 3) break;
      before = page[0]!.id;
    }
    expect(proposalPages).toEqual([proposalIds.slice(4), proposalIds.slice(1, 4), proposalIds.slice(0, 1)]);
    // Without limit and before: everything, as before paging existed; `before` alone: all older ones.
    expect((await store.listMessages(session.id)).map((message) => message.id)).toEqual(messageIds);
    expect((await store.listMessages(session.id, { before: messageIds[2] })).map((message) => message.id)).toEqual(messageIds.slice(0, 2));
    expect((await store.listProposals({ sessionId: session.id, before: proposalIds[2] })).map((proposal) => proposal.id)).toEqual(proposalIds.slice(0, 2));
    // A page stays put while new rows arrive.
    await store.addMessage({ sessionId: session.id, role: 'assistant', content: 'late' });
    await store.createProposal({ runId: run.id, sessionId: session.id, summary: 'late', files: [], diff: '' });
    expect((await store.listMessages(session.id, { limit: 3, before: messageIds[4] })).map((message) => message.id)).toEqual(messageIds.slice(1, 4));
    expect((await store.listProposals({ sessionId: session.id, limit: 3, before: proposalIds[4] })).map((proposal) => proposal.id)).toEqual(proposalIds.slice(1, 4));
    expect(await store.listProposals({ sessionId: session.id, before: 'no-such-proposal' })).toEqual([]);
  });

  it('marks runs of dead servers interrupted, but not runs of live ones', async () => {
    const first = await Store.open(file);
    const session = await first.createSession({ workspaceUri: 'file:///w', title: 't', provider: 'p' });
    const ours = await first.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'a' });
    const live = await first.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'b' });
    const dead = await first.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'c' });
    const done = await first.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'd' });
    await first.finishRun(done.id, { status: 'completed' });
    await first.close();

    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid;
    await new Promise((resolve) => child.on('exit', resolve));
    const sqlite = new SQLite(file);
    sqlite.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(process.ppid, live.id);
    sqlite.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(deadPid, dead.id);
    sqlite.close();

    const store = await open();
    expect(await store.markInterruptedRuns()).toBe(2);
    expect(await store.getRun(ours.id)).toMatchObject({ status: 'interrupted', error: expect.any(String) });
    expect(await store.getRun(dead.id)).toMatchObject({ status: 'interrupted' });
    expect(await store.getRun(live.id)).toMatchObject({ status: 'running' });
    expect(await store.getRun(done.id)).toMatchObject({ status: 'completed' });
    expect(await store.markInterruptedRuns()).toBe(0);
  });

  it('deletes a session with everything under it, search index included', async () => {
    const store = await open();
    const keep = await store.createSession({ workspaceUri: 'file:///w', title: 'keep', provider: 'p' });
    const gone = await store.createSession({ workspaceUri: 'file:///w', title: 'gone', provider: 'p' });
    for (const session of [keep, gone]) {
      const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'i' });
      await store.addMessage({ sessionId: session.id, runId: run.id, role: 'user', content: `zebra ${session.title}` });
      await store.addMessage({ sessionId: session.id, role: 'assistant', content: `giraffe ${session.title}` });
      await store.recordToolCall({
        runId: run.id, callId: 'c', name: 'n', args: undefined, result: '', isError: true,
        startedAt: 'a', finishedAt: 'b',
      });
      await store.createProposal({ runId: run.id, sessionId: session.id, summary: 's', files, diff: 'd' });
    }
    const count = (table: string) => peek<number>(`SELECT count(*) FROM ${table}`);
    expect([count('messages'), count('messages_fts'), count('messages_fts_docsize')]).toEqual([4, 4, 4]);
    expect(await store.searchMessages({ query: 'gone' })).toHaveLength(2);

    expect(await store.deleteSession(gone.id)).toBe(true);
    expect(await store.getSession(gone.id)).toBeUndefined();
    for (const table of ['messages', 'messages_fts', 'messages_fts_docsize', 'runs', 'tool_calls', 'proposals']) {
      expect(count(table), table).toBe(table.startsWith('messages') ? 2 : 1);
    }
    expect(await store.searchMessages({ query: 'gone' })).toEqual([]);
    expect((await store.searchMessages({ query: 'zebra' })).map((h) => h.sessionTitle)).toEqual(['keep']);
    // The index still agrees with the content table, token by token.
    const sqlite = new SQLite(file);
    expect(() => sqlite.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")).not.toThrow();
    sqlite.close();
  });

  it('cascades from workspaces down through every table', async () => {
    const store = await open();
    const session = await store.createSession({ workspaceUri: 'file:///w', title: 't', provider: 'p' });
    const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: 'i' });
    await store.addMessage({ sessionId: session.id, runId: run.id, role: 'user', content: 'hello' });
    await store.recordToolCall({
      runId: run.id, callId: 'c', name: 'n', args: {}, result: 'r', isError: false, startedAt: 'a', finishedAt: 'b',
    });
    await store.createProposal({ runId: run.id, sessionId: session.id, summary: 's', files, diff: 'd' });

    const sqlite = new SQLite(file);
    sqlite.pragma('foreign_keys = ON');
    sqlite.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
    // The message outlives its run (run_id cleared); tool calls and proposals do not.
    expect(sqlite.prepare('SELECT run_id FROM messages').pluck().all()).toEqual([null]);
    expect(sqlite.prepare('SELECT count(*) FROM tool_calls').pluck().get()).toBe(0);
    expect(sqlite.prepare('SELECT count(*) FROM proposals').pluck().get()).toBe(0);
    sqlite.exec('DELETE FROM workspaces');
    for (const table of ['sessions', 'messages', 'messages_fts_docsize']) {
      expect(sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), table).toBe(0);
    }
    sqlite.close();
  });
});
