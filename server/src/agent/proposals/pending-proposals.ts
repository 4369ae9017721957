import { pathToFileURL } from 'node:url';
import type { Store } from '../../store/store.js';
import type { Proposal, ProposalFile, ProposalStatus } from './proposal.js';

/**
 * Proposals awaiting the user's decision, in memory (they carry whole file texts) and mirrored in
 * the store, where their fate is recorded for history.
 */
export class PendingProposals {
  private readonly proposals = new Map<string, Proposal>();
  private readonly listeners = new Set<(proposal: Proposal) => void>();

  constructor(private readonly store: () => Promise<Store>) {}

  async create(input: { runId: string; sessionId: string; summary: string; diff: string; files: ProposalFile[]; originPath?: string }): Promise<Proposal> {
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
    // Every applied proposal lands in the append-only audit log, whichever front-end applied it.
    if (status === 'applied') {
      const workspaceUri = (await store.sessionWorkspaceUri(proposal.sessionId)) ?? '';
      await store.appendAudit({
        workspaceUri,
        kind: 'proposal-applied',
        sessionId: proposal.sessionId,
        runId: proposal.runId,
        subject: proposal.summary,
        detail: { proposalId: id, files: proposal.files.map((file) => file.relativePath), ...(detail ? { note: detail } : {}) },
      });
    }
    for (const listener of this.listeners) listener(proposal);
    return true;
  }

  onSettled(listener: (proposal: Proposal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
