import { sql, type Kysely } from 'kysely';
import type { SessionRecord } from './records.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/** Shorter prefixes would match too often to be worth typing; full ids are 36 characters. */
export const MIN_SESSION_PREFIX = 4;
/** How many candidates an ambiguous prefix reports. */
const MAX_CANDIDATES = 10;

export type SessionLookup =
  | { kind: 'found'; session: SessionRecord }
  | { kind: 'not-found' }
  | { kind: 'too-short' }
  /** Most recently active first; at most MAX_CANDIDATES, `more` when others exist. */
  | { kind: 'ambiguous'; candidates: SessionRecord[]; more: boolean };

/** Ids of sessions starting with `prefix` (matched literally), at most `limit`. */
export async function findSessionIdsByPrefix(db: Kysely<Database>, prefix: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('sessions')
    .select('id')
    // substr, not LIKE: the prefix is user input and `%`/`_` must not act as wildcards.
    .where(sql<string>`substr(id, 1, ${prefix.length})`, '=', prefix)
    .orderBy('updated_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Resolves what a user typed for a session: a full id, or a unique prefix of at least
 * MIN_SESSION_PREFIX characters. Ids are lowercase UUIDs, so the prefix is matched case-blind.
 */
export async function lookupSession(store: Store, reference: string): Promise<SessionLookup> {
  const typed = reference.trim();
  const exact = await store.getSession(typed);
  if (exact) return { kind: 'found', session: exact };
  if (typed.length < MIN_SESSION_PREFIX) return { kind: 'too-short' };
  // The facade keeps its Kysely private and this lookup is the only prefix query; element access
  // is TypeScript's sanctioned escape hatch and stays type-checked. Move it onto Store if another
  // caller appears.
  const ids = await findSessionIdsByPrefix(store['db'], typed.toLowerCase(), MAX_CANDIDATES + 1);
  const sessions = (await Promise.all(ids.slice(0, MAX_CANDIDATES).map((id) => store.getSession(id)))).filter(
    (session): session is SessionRecord => session !== undefined,
  );
  if (ids.length === 0 || sessions.length === 0) return { kind: 'not-found' };
  if (ids.length === 1 && sessions[0]) return { kind: 'found', session: sessions[0] };
  return { kind: 'ambiguous', candidates: sessions, more: ids.length > MAX_CANDIDATES };
}
