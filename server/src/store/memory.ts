import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { now } from './clock.js';
import type { Database, MemoryFactsTable } from './schema.js';

/** One fact of a workspace's project memory. */
export interface MemoryFactRecord {
  id: string;
  workspaceUri: string;
  text: string;
  createdAt: string;
  /** The run whose `remember` call stored it; absent for a fact the user added. */
  runId?: string;
}

/** Stores the text as given: checking and scrubbing it is the caller's (agent/tools/remember.ts). */
export async function addMemoryFact(db: Kysely<Database>, input: { workspaceUri: string; text: string; runId?: string }): Promise<MemoryFactRecord> {
  const row: MemoryFactsTable = { id: randomUUID(), workspace_uri: input.workspaceUri, text: input.text, run_id: input.runId ?? null, created_at: now() };
  await db.insertInto('memory_facts').values(row).execute();
  return toFact(row);
}

/** Oldest first (insertion order breaks ties between processes writing in the same millisecond). */
export async function listMemoryFacts(db: Kysely<Database>, workspaceUri: string): Promise<MemoryFactRecord[]> {
  const rows = await db.selectFrom('memory_facts').selectAll().where('workspace_uri', '=', workspaceUri).orderBy('created_at').orderBy(sql`rowid`).execute();
  return rows.map(toFact);
}

export async function getMemoryFact(db: Kysely<Database>, id: string): Promise<MemoryFactRecord | undefined> {
  const row = await db.selectFrom('memory_facts').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toFact(row);
}

/** Forgets a fact by its full id; true when one was removed. */
export async function removeMemoryFact(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('memory_facts').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

function toFact(row: MemoryFactsTable): MemoryFactRecord {
  return { id: row.id, workspaceUri: row.workspace_uri, text: row.text, createdAt: row.created_at, ...(row.run_id === null ? {} : { runId: row.run_id }) };
}
