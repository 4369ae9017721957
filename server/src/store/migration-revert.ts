import { sql, type Kysely, type Migration } from 'kysely';
import { rebuildProposals } from './proposals-rebuild.js';

/*
 * `reverted` (migration 0010): an applied proposal taken back with `codebench.undo` /
 * `codebench undo`. The status CHECK pins the enum, and SQLite cannot alter a constraint, so the
 * table is rebuilt (inside the migration run's transaction) as 0004 did, with every column since
 * (evidence, 0007), its rows in rowid order, its indexes (plus one over applied proposals) and team sync's queueing triggers
 * (dropping a table drops its triggers). Nothing references proposals, so the drop cascades nowhere,
 * and copying into the new table fires no trigger: the rebuild queues nothing for the team server.
 */

const BEFORE = ['proposed', 'applied', 'unconfirmed', 'discarded', 'conflict'];
const AFTER = [...BEFORE, 'reverted'];
/** Every column since 0007 (evidence) and 0008's team-sync triggers. */
const AT_0010 = { evidence: true, syncTriggers: true };

/** Undo's default (the newest applied) and the code actions' start-up load read applied ones newest first. */
const APPLIED_INDEX = `CREATE INDEX proposals_applied ON proposals (decided_at) WHERE status IN ('applied', 'unconfirmed')`;

export const revertMigration: Migration = {
  async up(db: Kysely<any>) {
    await rebuildProposals(db, AFTER, { status: sql`status`, detail: sql`detail` }, AT_0010);
    await sql.raw(APPLIED_INDEX).execute(db);
  },
  // The older schema has no such state: the change is no longer in the files, which is what
  // `discarded` says, with the revert kept in `detail`.
  async down(db: Kysely<any>) {
    await rebuildProposals(db, BEFORE, {
      status: sql`CASE status WHEN 'reverted' THEN 'discarded' ELSE status END`,
      detail: sql`CASE status WHEN 'reverted' THEN 'reverted' || coalesce(': ' || detail, '') ELSE detail END`,
    }, AT_0010);
  },
};
