import { pathToFileURL } from 'node:url';
import type { ProposalRecord } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import type { CommandEvidence } from './evidence.js';
import type { Proposal, ProposalFile, ProposalStatus } from './proposal.js';

/**
 * Proposals awaiting the user's decision, in memory (they carry whole file texts) and mirrored in
 * the store, where their fate is recorded for history. A settled proposal leaves memory once its
 * fate is stored (a long-lived server must not keep every run's files); an `unconfirmed` one stays
 * until its text arrives or the front-end stops waiting (`forget`).
 */
export class PendingProposals {
  private readonly proposals = new Map<string, Proposal>();
  private readonly listeners = new Set<(proposal: Proposal) => void>();

  constructor(private readonly store: () => Promise<Store>) {}

  async create(input: {
    runId: string;
    sessionId: string;
    summary: string;
    diff: string;
    files: ProposalFile[];
    originPath?: string;
    evidence?: CommandEvidence[];
  }): Promise<Proposal> {
    const store = await this.store();
    const record = await store.createProposal({
      runId: input.runId,
      sessionId: input.sessionId,
      summary: input.summary,
      diff: input.diff,
      files: input.files.map((file) => ({
        uri: pathToFileURL(file.absolutePath).href,
        path: file.relativePath,
        baseVersion: file.base?.version ?? null,
        created: file.base === null,
      })),
      ...(input.evidence ? { evidence: input.evidence } : {}),
    });
    const proposal: Proposal = { ...input, id: record.id, status: 'proposed' };
    this.proposals.set(proposal.id, proposal);
    return proposal;
  }

  /** Narrows what is still proposed (hunks rejected one by one); the stored diff keeps the original. */
  replaceFiles(id: string, files: ProposalFile[]): void {
    const proposal = this.proposals.get(id);
    if (proposal) proposal.files = files;
  }

  get(id: string): Proposal | undefined {
    return this.proposals.get(id);
  }

  pending(): Proposal[] {
    return [...this.proposals.values()].filter((proposal) => proposal.status === 'proposed');
  }

  pendingFor(absolutePath: string): Proposal[] {
    return this.pending().filter(
      (proposal) => proposal.originPath === absolutePath || proposal.files.some((file) => file.absolutePath === absolutePath),
    );
  }

  /** Records the user's decision once; later calls for a settled proposal are ignored. */
  async settle(id: string, status: Exclude<ProposalStatus, 'proposed'>, detail?: string): Promise<boolean> {
    const proposal = this.proposals.get(id);
    if (!proposal || proposal.status !== 'proposed') return false;
    proposal.status = status;
    const store = await this.store();
    await store.setProposalStatus(id, status, detail);
    // Every proposal an editor or front-end may have written lands in the append-only audit log,
    // whichever front-end applied it; an unconfirmed one says so in its note.
    if (status === 'applied' || status === 'unconfirmed') {
      const workspaceUri = (await store.sessionWorkspaceUri(proposal.sessionId)) ?? '';
      const note = status === 'unconfirmed' ? `unconfirmed: ${detail ?? 'the editor did not send the new text'}` : detail;
      await store.appendAudit({
        workspaceUri,
        kind: 'proposal-applied',
        sessionId: proposal.sessionId,
        runId: proposal.runId,
        subject: proposal.summary,
        detail: { proposalId: id, files: proposal.files.map((file) => file.relativePath), ...(note ? { note } : {}) },
      });
    }
    if (status !== 'unconfirmed') this.proposals.delete(id);
    for (const listener of this.listeners) listener(proposal);
    return true;
  }

  /** The new text of an `unconfirmed` proposal arrived after all: it is `applied`. */
  async confirm(id: string, detail?: string): Promise<boolean> {
    const proposal = this.proposals.get(id);
    if (!proposal || proposal.status !== 'unconfirmed') return false;
    proposal.status = 'applied';
    this.proposals.delete(id);
    await (await this.store()).setProposalStatus(id, 'applied', detail);
    return true;
  }

  /** Stops holding a settled proposal (an `unconfirmed` one nobody waits for any more). */
  forget(id: string): void {
    if (this.proposals.get(id)?.status !== 'proposed') this.proposals.delete(id);
  }

  /** What the store says of a proposal no longer in memory (settled, or made by another process). */
  async recorded(id: string): Promise<ProposalRecord | undefined> {
    return (await this.store()).getProposal(id);
  }

  /** How many proposals are held in memory (pending, or unconfirmed and awaited). */
  get size(): number {
    return this.proposals.size;
  }

  onSettled(listener: (proposal: Proposal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
