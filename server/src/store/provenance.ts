import { sql, type Kysely } from 'kysely';
import type { ProposalFile } from './records.js';
import type { Database } from './schema.js';

/** How many applied proposals of one file provenance looks at: the newest win, and older ones are mostly rewritten by then. */
export const PROVENANCE_LIMIT = 50;

/** An applied proposal that changed a file, with the run that wrote it: what provenance reports. */
export interface AppliedProposalOfFile {
  proposalId: string;
  runId: string;
  sessionId: string;
  /** The proposal's whole unified diff. */
  diff: string;
  /** The file's path as the diff names it (`b/<path>`). */
  path: string;
  /** When it was applied (the decision's time). */
  appliedAt: string;
  instruction: string;
  provider: string;
  model: string;
}

/**
 * The applied proposals that changed the file at `fileUri`, newest applied first, at most `limit`.
 * Only status 'applied' counts: a discarded, conflicting, unconfirmed or reverted proposal wrote
 * nothing that is still the agent's.
 *
 * Matched by the file's URI, which every proposal records for each file (`files[].uri`), not by a
 * workspace and a relative path: in a multi-root window a proposal asked from one folder may change
 * a file of another, and the terminal's idea of the workspace (git root or cwd) need not be the
 * editor's. `instr` on the JSON text is only a pre-filter (cheap, no JSON parsing per row); the
 * parsed files decide.
 */
export async function appliedProposalsOfFile(
  db: Kysely<Database>,
  fileUri: string,
  limit = PROVENANCE_LIMIT,
): Promise<AppliedProposalOfFile[]> {
  // How JSON.stringify wrote the uri field (records are written with it, in proposals.ts).
  const needle = JSON.stringify({ uri: fileUri }).slice(1, -1);
  const rows = await db
    .selectFrom('proposals')
    .innerJoin('runs', 'runs.id', 'proposals.run_id')
    .select([
      'proposals.id as proposal_id',
      'proposals.run_id',
      'proposals.session_id',
      'proposals.diff',
      'proposals.files',
      'proposals.decided_at',
      'runs.instruction',
      'runs.provider',
      'runs.model',
    ])
    .where('proposals.status', '=', 'applied')
    .where(sql<boolean>`instr(proposals.files, ${needle}) > 0`)
    .orderBy('proposals.decided_at', 'desc')
    .orderBy(sql`proposals.rowid`, 'desc')
    .limit(limit)
    .execute();
  const found: AppliedProposalOfFile[] = [];
  for (const row of rows) {
    const file = (JSON.parse(row.files) as ProposalFile[]).find((candidate) => candidate.uri === fileUri);
    if (!file) continue;
    found.push({
      proposalId: row.proposal_id,
      runId: row.run_id,
      sessionId: row.session_id,
      diff: row.diff,
      path: file.path,
      appliedAt: row.decided_at ?? '',
      instruction: row.instruction,
      provider: row.provider,
      model: row.model,
    });
  }
  return found;
}
