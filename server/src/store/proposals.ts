import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { now } from './clock.js';
import { rethrowForeignKey } from './database.js';
import type { CommandEvidence, ProposalFile, ProposalRecord } from './records.js';
import type { Database, ProposalRow, ProposalStatus } from './schema.js';

export async function createProposal(
  db: Kysely<Database>,
  input: { runId: string; sessionId: string; summary: string; files: ProposalFile[]; diff: string; evidence?: CommandEvidence[] },
): Promise<ProposalRecord> {
  const row = await rethrowForeignKey(
    `Unknown run ${input.runId} or session ${input.sessionId}`,
    () =>
      db
        .insertInto('proposals')
        .values({
          id: randomUUID(),
          run_id: input.runId,
          session_id: input.sessionId,
          status: 'proposed',
          summary: input.summary,
          files: JSON.stringify(input.files),
          diff: input.diff,
          evidence: input.evidence === undefined ? null : JSON.stringify(input.evidence),
          created_at: now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
  );
  return toProposalRecord(row);
}

/** `detail` is kept only for this decision (e.g. why it conflicted); omitting it clears it. */
export async function setProposalStatus(
  db: Kysely<Database>,
  id: string,
  status: Exclude<ProposalStatus, 'proposed'>,
  detail?: string,
): Promise<void> {
  const result = await db
    .updateTable('proposals')
    .set({ status, detail: detail ?? null, decided_at: now() })
    .where('id', '=', id)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new Error(`Unknown proposal ${id}`);
}

export async function getProposal(
  db: Kysely<Database>,
  id: string,
): Promise<ProposalRecord | undefined> {
  const row = await db.selectFrom('proposals').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toProposalRecord(row);
}

/**
 * Oldest first (by creation, ties in insertion order); filters combine with AND, and no filter
 * lists every proposal. `before` (a proposal id) keeps only the proposals listed before it, and
 * `limit` the newest `limit` of those, still oldest first: the page that ends just before `before`.
 * An unknown `before` matches nothing.
 */
export async function listProposals(
  db: Kysely<Database>,
  input: { sessionId?: string; runId?: string; limit?: number; before?: string },
): Promise<ProposalRecord[]> {
  const order = input.limit === undefined ? 'asc' : 'desc';
  let query = db
    .selectFrom('proposals')
    .selectAll()
    .orderBy('created_at', order)
    .orderBy(sql`rowid`, order);
  if (input.sessionId !== undefined) query = query.where('session_id', '=', input.sessionId);
  if (input.runId !== undefined) query = query.where('run_id', '=', input.runId);
  if (input.before !== undefined) {
    query = query.where(sql<boolean>`(created_at, rowid) < (SELECT created_at, rowid FROM proposals WHERE id = ${input.before})`);
  }
  if (input.limit !== undefined) query = query.limit(input.limit);
  const rows = await query.execute();
  if (order === 'desc') rows.reverse();
  return rows.map(toProposalRecord);
}

/** What undo treats as applied: an `unconfirmed` one was written by the editor as far as it said. */
const APPLIED_STATUSES = ['applied', 'unconfirmed'] as const;

/**
 * Applied proposals, most recently decided first (ties: newest row first): of one workspace (as
 * its sessions spell its URI) or of every workspace. What undo reverts by default, and what the
 * editor server loads at start for its "Undo agent edit" code actions.
 */
export async function recentlyAppliedProposals(
  db: Kysely<Database>,
  input: { workspaceUri?: string; limit: number },
): Promise<ProposalRecord[]> {
  let query = db
    .selectFrom('proposals')
    .selectAll('proposals')
    .where('proposals.status', 'in', APPLIED_STATUSES)
    .orderBy('proposals.decided_at', 'desc')
    .orderBy(sql`proposals.rowid`, 'desc')
    .limit(input.limit);
  if (input.workspaceUri !== undefined) {
    query = query
      .innerJoin('sessions', 'sessions.id', 'proposals.session_id')
      .innerJoin('workspaces', 'workspaces.id', 'sessions.workspace_id')
      .where('workspaces.uri', '=', input.workspaceUri);
  }
  return (await query.execute()).map(toProposalRecord);
}

/** Proposal ids starting with `prefix` (matched literally), newest first, at most `limit`. */
export async function proposalIdsByPrefix(db: Kysely<Database>, prefix: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('proposals')
    .select('id')
    // substr, not LIKE: the prefix is user input and `%`/`_` must not act as wildcards.
    .where(sql<string>`substr(id, 1, ${prefix.length})`, '=', prefix)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/** The fate of each run's proposal, for a follow-up's summary of earlier turns; oldest first. */
export async function proposalFatesOfRuns(
  db: Kysely<Database>,
  runIds: readonly string[],
): Promise<Map<string, Array<Pick<ProposalRecord, 'status' | 'files' | 'detail'>>>> {
  const fates = new Map<string, Array<Pick<ProposalRecord, 'status' | 'files' | 'detail'>>>();
  if (runIds.length === 0) return fates;
  const rows = await db
    .selectFrom('proposals')
    .select(['run_id', 'status', 'files', 'detail'])
    .where('run_id', 'in', runIds)
    .orderBy('created_at')
    .orderBy(sql`rowid`)
    .execute();
  for (const row of rows) {
    const fate = { status: row.status, files: JSON.parse(row.files) as ProposalFile[], ...(row.detail === null ? {} : { detail: row.detail }) };
    fates.set(row.run_id, [...(fates.get(row.run_id) ?? []), fate]);
  }
  return fates;
}

function toProposalRecord(row: ProposalRow): ProposalRecord {
  return {
    id: row.id,
    runId: row.run_id,
    sessionId: row.session_id,
    status: row.status,
    summary: row.summary,
    files: JSON.parse(row.files) as ProposalFile[],
    diff: row.diff,
    detail: row.detail ?? undefined,
    createdAt: row.created_at,
    decidedAt: row.decided_at ?? undefined,
    ...(row.evidence === null ? {} : { evidence: JSON.parse(row.evidence) as CommandEvidence[] }),
  };
}
