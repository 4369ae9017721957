import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Shorter prefixes would match too often to be worth typing; full ids are 36 characters. The same
 * for every id the user types (sessions, memory facts, teammates' sessions).
 */
export const MIN_ID_PREFIX = 4;
/** How many candidates an ambiguous prefix reports. */
const MAX_CANDIDATES = 10;

/** What a typed id resolved to. */
export type PrefixLookup<Item> =
  | { kind: 'found'; item: Item }
  | { kind: 'not-found' }
  | { kind: 'too-short' }
  /** In the table's listing order; at most MAX_CANDIDATES, `more` when others exist. */
  | { kind: 'ambiguous'; candidates: Item[]; more: boolean };

/** Tables whose text ids users type, with the order an ambiguous prefix lists candidates in. */
const PREFIX_ORDER = { sessions: 'updated_at desc', memory_facts: 'created_at asc', team_sessions: 'updated_at desc' } as const;

/** Ids of `table` starting with `prefix` (matched literally), at most `limit`. */
export async function findIdsByPrefix(db: Kysely<Database>, table: keyof typeof PREFIX_ORDER, prefix: string, limit: number): Promise<string[]> {
  const [column, direction] = PREFIX_ORDER[table].split(' ') as [string, 'asc' | 'desc'];
  const rows = await db
    .selectFrom(table)
    .select('id')
    // substr, not LIKE: the prefix is user input and `%`/`_` must not act as wildcards.
    .where(sql<string>`substr(id, 1, ${prefix.length})`, '=', prefix)
    .orderBy(sql.ref(column), direction)
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Resolves what a user typed for an id: a full id, or a unique prefix of at least MIN_ID_PREFIX
 * characters. Ids are lowercase UUIDs, so the prefix is matched case-blind.
 */
export async function lookupByPrefix<Item>(
  reference: string,
  source: { get(id: string): Promise<Item | undefined>; idsByPrefix(prefix: string, limit: number): Promise<string[]> },
): Promise<PrefixLookup<Item>> {
  const typed = reference.trim();
  const exact = await source.get(typed);
  if (exact) return { kind: 'found', item: exact };
  if (typed.length < MIN_ID_PREFIX) return { kind: 'too-short' };
  const ids = await source.idsByPrefix(typed.toLowerCase(), MAX_CANDIDATES + 1);
  const items: Item[] = [];
  for (const id of ids.slice(0, MAX_CANDIDATES)) {
    const item = await source.get(id);
    if (item !== undefined) items.push(item);
  }
  if (ids.length === 0 || items.length === 0) return { kind: 'not-found' };
  if (ids.length === 1 && items[0]) return { kind: 'found', item: items[0] };
  return { kind: 'ambiguous', candidates: items, more: ids.length > MAX_CANDIDATES };
}
