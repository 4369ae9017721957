import type SQLite from 'better-sqlite3';
import { processAlive } from './process-alive.js';

/**
 * Small key/value state of team sync (pull cursors, last push/pull times, last error) and the
 * lease that lets one codebench process per data directory run sync at a time: every editor
 * window and terminal shares the database, and two pushers would only race each other.
 */

const LEASE_PID = 'lease.pid';
const LEASE_UNTIL = 'lease.until';

export function readSyncState(sqlite: SQLite.Database): Record<string, string> {
  const rows = sqlite.prepare('SELECT key, value FROM sync_state').all() as Array<{ key: string; value: string }>;
  return Object.fromEntries(rows.map((row) => [row.key, row.value]));
}

/** Sets the given keys; an undefined value removes the key. */
export function writeSyncState(sqlite: SQLite.Database, values: Record<string, string | undefined>): void {
  const set = sqlite.prepare('INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)');
  const remove = sqlite.prepare('DELETE FROM sync_state WHERE key = ?');
  sqlite.transaction(() => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) remove.run(key);
      else set.run(key, value);
    }
  }).immediate();
}

/**
 * Takes or renews the lease for `pid` until `nowMs + ttlMs`. Granted when nobody holds it, the
 * holder is this pid, the holder's lease ran out, or the holder's process is gone (killed without
 * releasing). True when `pid` holds the lease afterwards.
 */
export function claimSyncLease(sqlite: SQLite.Database, pid: number, nowMs: number, ttlMs: number): boolean {
  return sqlite.transaction((): boolean => {
    const state = Object.fromEntries(
      (sqlite.prepare('SELECT key, value FROM sync_state WHERE key IN (?, ?)').all(LEASE_PID, LEASE_UNTIL) as Array<{ key: string; value: string }>).map((row) => [row.key, row.value]),
    );
    const holder = state[LEASE_PID] === undefined ? undefined : Number(state[LEASE_PID]);
    const until = Number(state[LEASE_UNTIL] ?? 0);
    const free = holder === undefined || holder === pid || until < nowMs || !processAlive(holder);
    if (!free) return false;
    const set = sqlite.prepare('INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)');
    set.run(LEASE_PID, String(pid));
    set.run(LEASE_UNTIL, String(nowMs + ttlMs));
    return true;
  }).immediate();
}

export function releaseSyncLease(sqlite: SQLite.Database, pid: number): void {
  sqlite.transaction(() => {
    const holder = sqlite.prepare('SELECT value FROM sync_state WHERE key = ?').pluck().get(LEASE_PID);
    if (holder === String(pid)) sqlite.prepare('DELETE FROM sync_state WHERE key IN (?, ?)').run(LEASE_PID, LEASE_UNTIL);
  }).immediate();
}
