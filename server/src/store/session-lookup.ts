import { findIdsByPrefix, lookupByPrefix, MIN_ID_PREFIX } from './id-prefix.js';
import type { SessionRecord } from './records.js';
import type { Store } from './store.js';

export const MIN_SESSION_PREFIX = MIN_ID_PREFIX;

export type SessionLookup =
  | { kind: 'found'; session: SessionRecord }
  | { kind: 'not-found' }
  | { kind: 'too-short' }
  /** Most recently active first; at most MAX_CANDIDATES, `more` when others exist. */
  | { kind: 'ambiguous'; candidates: SessionRecord[]; more: boolean };

/** A session by full id or unique prefix. */
export async function lookupSession(store: Store, reference: string): Promise<SessionLookup> {
  const found = await lookupByPrefix(reference, {
    get: (id) => store.getSession(id),
    // The facade keeps its Kysely private and this is the only session prefix query; element
    // access is TypeScript's sanctioned escape hatch and stays type-checked.
    idsByPrefix: (prefix, limit) => findIdsByPrefix(store['db'], 'sessions', prefix, limit),
  });
  return found.kind === 'found' ? { kind: 'found', session: found.item } : found;
}
