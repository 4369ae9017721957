import { sql, type Kysely, type Migration } from 'kysely';

/**
 * 0011_proposal_provenance: a partial covering index for provenance's one query (provenance.ts),
 * which runs on every hover: the applied proposals whose `files` JSON names the hovered file,
 * newest applied first. JSON arrays cannot be indexed by element, so the query filters with
 * `instr(files, …)`; without this index that filter reads every proposal row, diff included
 * (kilobytes each). The index holds only applied proposals, ordered by decided_at, with their
 * `files` text: the filter runs on the index alone and the table is read for the ≤ 50 matches.
 *
 * Measured (bench/provenance.ts, p50; ~4 KB diffs, a third discarded): 100,000 proposals, a file
 * with applied proposals 42 ms → 1.8 ms, a file without any 33 ms → 8.5 ms (still a scan, but of
 * the index's small entries); 20,000 proposals 8.9 → 1.7 ms and 6.8 → 3.1 ms.
 *
 * A migration that rebuilds the proposals table must create this index again.
 */
export const provenanceMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`CREATE INDEX proposals_applied_files ON proposals (decided_at, files) WHERE status = 'applied'`.execute(db);
  },
  async down(db: Kysely<any>) {
    await sql`DROP INDEX IF EXISTS proposals_applied_files`.execute(db);
  },
};
