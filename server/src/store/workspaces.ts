import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { WorkspaceRecord } from './records.js';
import type { Database, WorkspaceRow } from './schema.js';

/**
 * Select, then insert-or-ignore, then select: concurrent callers (two windows on one workspace)
 * converge on one row, and the common case writes nothing.
 */
export async function ensureWorkspace(db: Kysely<Database>, uri: string): Promise<WorkspaceRecord> {
  const existing = await findWorkspace(db, uri);
  if (existing) return existing;
  await db
    .insertInto('workspaces')
    .values({ uri, created_at: now() })
    .onConflict((oc) => oc.column('uri').doNothing())
    .execute();
  const created = await findWorkspace(db, uri);
  if (!created) throw new Error(`Workspace ${uri} vanished right after it was created`);
  return created;
}

export async function findWorkspace(
  db: Kysely<Database>,
  uri: string,
): Promise<WorkspaceRecord | undefined> {
  const row = await db.selectFrom('workspaces').selectAll().where('uri', '=', uri).executeTakeFirst();
  return row && toWorkspaceRecord(row);
}

function toWorkspaceRecord(row: WorkspaceRow): WorkspaceRecord {
  return { id: row.id, uri: row.uri, createdAt: row.created_at };
}
