import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { findIdsByPrefix, lookupByPrefix, type PrefixLookup } from './id-prefix.js';
import type { Database } from './schema.js';
import { claimSyncLease, readSyncState, releaseSyncLease, writeSyncState } from './sync-state.js';
import { completeOutbox, newestOutboxSeq, outboxBatch, outboxSize, sharedWorkspaces, shareWorkspace } from './sync-outbox.js';
import type { OutboxBatch, TeamMessageRecord, TeamRecords, TeamSessionRecord } from './sync-records.js';
import { getTeamSession, lastTeamMessage, listTeamMessages, listTeamSessions, saveTeamRecords, teamRecordCounts } from './team-records.js';

/**
 * The store's team-sync tables (`store.sync`): the outbox the triggers fill, teammates' pulled
 * records, and sync's own state. Synchronous underneath like the rest of the store; every call is
 * index-bounded except `outboxSize` (a count over the queue, which only sync status asks for).
 */
export class SyncTables {
  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly db: Kysely<Database>,
  ) {}

  /** See sync-outbox.ts: true when the workspace's sharing changed (and its records were queued). */
  shareWorkspace(uri: string, identity: string | undefined): boolean {
    return shareWorkspace(this.db, this.sqlite, uri, identity);
  }

  sharedWorkspaces(): Array<{ uri: string; identity: string }> {
    return sharedWorkspaces(this.sqlite);
  }

  outboxBatch(limit: number): OutboxBatch {
    return outboxBatch(this.sqlite, limit);
  }

  completeOutbox(seqs: number[]): void {
    completeOutbox(this.sqlite, seqs);
  }

  /** The newest queue row's seq (0 when empty): a cheap "anything new?" for the background sync. */
  newestOutboxSeq(): number {
    return newestOutboxSeq(this.sqlite);
  }

  outboxSize(): number {
    return outboxSize(this.sqlite);
  }

  /** How many teammates' records were stored (own records coming back are skipped). */
  saveTeamRecords(records: Partial<TeamRecords>, state: Record<string, string>): number {
    return saveTeamRecords(this.sqlite, records, state);
  }

  teamSessions(input: { workspace?: string; limit?: number } = {}): TeamSessionRecord[] {
    return listTeamSessions(this.sqlite, { workspace: input.workspace, limit: Math.min(Math.max(input.limit ?? 50, 1), 1000) });
  }

  teamSession(id: string): TeamSessionRecord | undefined {
    return getTeamSession(this.sqlite, id);
  }

  /** A teammate's session by full id or unique prefix, as `--session` takes the user's own. */
  findTeamSession(reference: string): Promise<PrefixLookup<TeamSessionRecord>> {
    return lookupByPrefix(reference, {
      get: async (id) => this.teamSession(id),
      idsByPrefix: (prefix, limit) => findIdsByPrefix(this.db, 'team_sessions', prefix, limit),
    });
  }

  lastTeamMessage(sessionId: string): TeamMessageRecord | undefined {
    return lastTeamMessage(this.sqlite, sessionId);
  }

  teamMessages(sessionId: string): TeamMessageRecord[] {
    return listTeamMessages(this.sqlite, sessionId);
  }

  teamRecordCounts(): ReturnType<typeof teamRecordCounts> {
    return teamRecordCounts(this.sqlite);
  }

  state(): Record<string, string> {
    return readSyncState(this.sqlite);
  }

  setState(values: Record<string, string | undefined>): void {
    writeSyncState(this.sqlite, values);
  }

  claimLease(pid: number, nowMs: number, ttlMs: number): boolean {
    return claimSyncLease(this.sqlite, pid, nowMs, ttlMs);
  }

  releaseLease(pid: number): void {
    releaseSyncLease(this.sqlite, pid);
  }
}
