import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, WorkspaceEdit } from 'vscode-languageserver';
import type { Agent } from '../agent/agent.js';
import { checkApplyPaths } from '../agent/proposals/apply-guard.js';
import { withEvidence } from '../agent/proposals/evidence.js';
import {
  countHunks,
  prepareApplication,
  selectHunks,
  withoutHunks,
  type CurrentText,
  type PreparedFile,
  type Proposal,
} from '../agent/proposals/proposal.js';
import type { Config } from '../config/schema.js';
import type { ProposalHunks } from '../protocol/methods.js';
import { TextConfirmations } from './apply-confirmation.js';
import { ApplyQueue } from './apply-queue.js';
import { pathToUri, uriToPath, type DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';
import { buildWorkspaceEdit, ProposalCodeActions } from './proposal-actions.js';
import { ProposalDiagnostics } from './proposal-diagnostics.js';
import { DiskTexts, ProposalViews, ReadError, readDisk } from './proposal-view.js';

/** `reverted`: the recorded fate of a proposal undone since (re-applying it goes through lsp/undo-flow.ts). */
export type ReviewOutcome = 'applied' | 'unconfirmed' | 'discarded' | 'conflict' | 'reverted' | 'pending';

const CONFIRM_TIMEOUT_MS = 3000;
/** How long a late didChange can still turn `unconfirmed` into `applied`; then it is let go. */
const LATE_CONFIRM_MS = 5 * 60_000;

function outcomeOf(proposal: Proposal): ReviewOutcome {
  return proposal.status === 'proposed' ? 'pending' : proposal.status;
}

/**
 * How a proposal reaches the user and comes back: asked with showMessageRequest where the editor
 * has it, otherwise offered as code actions marked by a diagnostic (Helix); applied as one
 * versioned WorkspaceEdit, rebased onto whatever the user typed meanwhile. Every operation on a
 * proposal goes through one queue (see `ApplyQueue`), and what is kept per proposal is freed
 * when it settles.
 */
export class ReviewService {
  /** Closed files' text as of the proposal, so code actions never touch the disk. */
  private readonly diskTexts = new Map<string, string | undefined>();
  private readonly actions: ProposalCodeActions;
  private readonly confirmations: TextConfirmations;
  /** The Apply / Preview / Discard prompt of each proposal, withdrawn when it is settled another way. */
  private readonly prompts = new Map<string, AbortController>();
  private readonly queue = new ApplyQueue();
  private readonly disk = new DiskTexts();
  private readonly views: ProposalViews;
  private readonly markers: ProposalDiagnostics;

  constructor(
    private readonly agent: Agent,
    private readonly documents: DocumentStore,
    private readonly client: EditorClient,
    private readonly config: () => Config,
    private readonly dataDirectory: string,
  ) {
    this.actions = new ProposalCodeActions(documents, (path) => this.currentText(path, false), (files) => this.buildEdit(files));
    this.confirmations = new TextConfirmations(documents);
    this.markers = new ProposalDiagnostics(() => agent.proposals.pending(), (proposal) => this.actions.prepared(proposal), documents, client);
    this.views = new ProposalViews(documents, client, this.disk);
    agent.proposals.onSettled((proposal) => this.release(proposal));
  }

  async present(proposal: Proposal): Promise<ReviewOutcome> {
    for (const file of proposal.files) {
      if (this.documents.get(file.absolutePath)) continue;
      try {
        this.diskTexts.set(file.absolutePath, readDisk(file.absolutePath));
      } catch (error) {
        this.diskTexts.set(file.absolutePath, undefined);
        this.client.show('error', `codebench: ${(error as Error).message}`);
      }
    }
    this.markers.schedule(0);
    if (this.config().review === 'auto') return this.apply(proposal.id);
    // The plugin shows the hunks in the buffer and calls apply/discard itself.
    if (this.client.features.inlineReview) return 'pending';
    if (!this.client.features.showMessageRequest) {
      this.client.show(
        'info',
        `codebench proposes changes to ${withEvidence(proposal.summary, proposal.evidence)}. Use code actions on the file to apply, preview or discard them.`,
      );
      return 'pending';
    }
    const prompt = new AbortController();
    this.prompts.set(proposal.id, prompt);
    try {
      let actions = ['Apply', 'Preview', 'Discard'];
      for (;;) {
        const choice = await this.client.ask('info', `codebench proposes changes to ${withEvidence(proposal.summary, proposal.evidence)}.`, actions, prompt.signal);
        // Withdrawn (settled by a code action, another apply, per-hunk review): a late answer means nothing.
        if (prompt.signal.aborted || proposal.status !== 'proposed') return outcomeOf(proposal);
        if (choice === 'Apply') return await this.apply(proposal.id);
        if (choice === 'Discard') return await this.discard(proposal.id);
        if (choice !== 'Preview') return 'pending';
        await this.preview(proposal.id);
        actions = ['Apply', 'Discard'];
      }
    } finally {
      if (this.prompts.get(proposal.id) === prompt) this.prompts.delete(proposal.id);
    }
  }

  /** Open buffer, else the disk (`fromDisk`) or the snapshot taken when the proposal was presented. */
  currentText(absolutePath: string, fromDisk: boolean): CurrentText | undefined {
    const open = this.documents.get(absolutePath);
    if (open) return open;
    const text = fromDisk || !this.diskTexts.has(absolutePath) ? readDisk(absolutePath) : this.diskTexts.get(absolutePath);
    return text === undefined ? undefined : { text, version: null };
  }

  buildEdit(files: PreparedFile[]): WorkspaceEdit {
    return buildWorkspaceEdit(files, this.client.features, this.client.encoding);
  }

  /**
   * Runs one operation on a proposal through the queue: the same operation already running is
   * joined, and operations on the same proposal or on any of its files wait for each other. A
   * proposal no longer in memory is settled: its recorded fate is the outcome.
   */
  private serialized(kind: string, proposalId: string, hunks: readonly number[] | undefined, task: (proposal: Proposal) => Promise<ReviewOutcome>): Promise<ReviewOutcome> {
    const proposal = this.agent.proposals.get(proposalId);
    if (!proposal) return this.recordedOutcome(proposalId);
    const operation = `${kind}:${proposalId}${hunks ? `:${hunks.join(',')}` : ''}`;
    const keys = [`proposal:${proposalId}`, ...proposal.files.map((file) => file.absolutePath)];
    return this.queue.run(operation, keys, async () => {
      if (proposal.status !== 'proposed') return outcomeOf(proposal);
      try {
        return await task(proposal);
      } catch (error) {
        if (!(error instanceof ReadError)) throw error;
        // Left pending: once the file is readable again the user can apply it.
        this.client.show('error', `codebench did not apply ${proposal.summary}: ${error.message}. Nothing was changed.`);
        return 'pending';
      }
    });
  }

  private async recordedOutcome(proposalId: string): Promise<ReviewOutcome> {
    const record = await this.agent.proposals.recorded(proposalId);
    if (!record) return 'conflict';
    return record.status === 'proposed' ? 'pending' : record.status;
  }

  /** Applies the whole proposal, or only the given hunks (numbered as in `hunkView`). */
  apply(proposalId: string, hunks?: readonly number[]): Promise<ReviewOutcome> {
    return this.serialized('apply', proposalId, hunks, (proposal) => this.applyNow(proposal, hunks));
  }

  private async applyNow(proposal: Proposal, hunks: readonly number[] | undefined): Promise<ReviewOutcome> {
    // The editor follows symlinks when it writes: a directory swapped for a link (out of the
    // workspace, into .git, onto a protected file) since the agent staged must stop the apply.
    const paths = checkApplyPaths(proposal.files, this.agent.sensitiveFiles());
    if (!paths.ok) return this.conflict(proposal, paths.reason);
    if (hunks) this.withdrawPrompt(proposal.id);
    // Editors answer `applied: false` when the document moved on between our read and their
    // apply; one fresh rebase absorbs that race, a second failure is reported.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const prepared = prepareApplication(proposal, (path) => this.currentText(path, true));
      if (!prepared.ok) return this.conflict(proposal, prepared.conflict);
      const files = hunks ? selectHunks(prepared.files, new Set(hunks)) : prepared.files;
      if (files.length === 0) {
        if (hunks) return this.settleIfDone(proposal);
        // Every file already holds the change (the editor applied a code action's edit itself).
        await this.agent.proposals.settle(proposal.id, 'applied', partialDetail(proposal));
        return 'applied';
      }
      const result = await this.client.applyEdit(`codebench: ${proposal.summary}`, this.buildEdit(files));
      if (result.applied) {
        const confirmed = await this.confirmations.wait(files, CONFIRM_TIMEOUT_MS);
        if (hunks) proposal.hunksAccepted = (proposal.hunksAccepted ?? 0) + countHunks(files);
        if (!confirmed) return this.unconfirmed(proposal, files, partialDetail(proposal, hunks !== undefined));
        if (hunks) return this.settleIfDone(proposal);
        await this.agent.proposals.settle(proposal.id, 'applied', partialDetail(proposal));
        return 'applied';
      }
      if (attempt === 2) {
        return this.conflict(proposal, `the editor refused the edit (${result.failureReason ?? 'no reason given'})`);
      }
    }
    return 'conflict';
  }

  private async conflict(proposal: Proposal, reason: string): Promise<ReviewOutcome> {
    await this.agent.proposals.settle(proposal.id, 'conflict', reason);
    this.client.show('warning', `codebench did not apply ${proposal.summary}: ${reason}. Nothing was changed; ask again to redo it on the current text.`);
    return 'conflict';
  }

  /**
   * The editor said it applied the edit but the new text never reached the server: recorded as
   * `unconfirmed` (protocol.md promises `applied` only for text the server saw), the user is told
   * what to check, and a late didChange bringing that text still makes it `applied`.
   */
  private async unconfirmed(proposal: Proposal, files: PreparedFile[], detailWhenConfirmed: string | undefined, why?: string): Promise<ReviewOutcome> {
    const watched = this.confirmations.openFiles(files);
    const names = watched.map((file) => file.relativePath).join(', ');
    const detail = why ?? `the editor answered applied but did not send the new text of ${names} within ${CONFIRM_TIMEOUT_MS / 1000} s`;
    await this.agent.proposals.settle(proposal.id, 'unconfirmed', detail);
    this.client.show('warning', `codebench: the editor says it applied ${proposal.summary}, but ${detail}. Check ${names || 'the files it touches'}: the change may be missing or different. Recorded as unconfirmed.`);
    if (watched.length === 0) {
      this.agent.proposals.forget(proposal.id);
      return 'unconfirmed';
    }
    const arrived = () =>
      this.agent.proposals.confirm(proposal.id, detailWhenConfirmed).then(
        (confirmed) => confirmed && this.client.show('info', `codebench: the new text of ${proposal.summary} arrived after all; recorded as applied.`),
        (error: unknown) => this.client.show('error', `codebench could not record ${proposal.summary} as applied: ${(error as Error).message}`),
      );
    const awaited = { summary: proposal.summary, files: watched, detail: detailWhenConfirmed };
    this.confirmations.watch(proposal.id, awaited, LATE_CONFIRM_MS, () => void arrived(), () => this.agent.proposals.forget(proposal.id));
    return 'unconfirmed';
  }

  /** Discards the whole proposal, or only the given hunks; the rest stays proposed. */
  discard(proposalId: string, hunks?: readonly number[]): Promise<ReviewOutcome> {
    return this.serialized('discard', proposalId, hunks, async (proposal) => {
      if (hunks) {
        this.withdrawPrompt(proposal.id);
        const prepared = prepareApplication(proposal, (path) => this.currentText(path, true));
        if (!prepared.ok) return this.conflict(proposal, prepared.conflict);
        const rejected = new Set(hunks);
        proposal.hunksRejected = (proposal.hunksRejected ?? 0) + countHunks(selectHunks(prepared.files, rejected));
        this.agent.proposals.replaceFiles(proposal.id, withoutHunks(proposal, prepared.files, rejected));
        this.markers.schedule(0);
        return this.settleIfDone(proposal);
      }
      if (proposal.hunksAccepted) {
        await this.agent.proposals.settle(proposal.id, 'applied', partialDetail(proposal, true));
        return 'applied';
      }
      await this.agent.proposals.settle(proposal.id, 'discarded');
      return 'discarded';
    });
  }

  /** Once no hunk is left to decide, the proposal's fate is recorded. */
  private async settleIfDone(proposal: Proposal): Promise<ReviewOutcome> {
    const prepared = prepareApplication(proposal, (path) => this.currentText(path, true));
    if (prepared.ok && countHunks(prepared.files) > 0) return 'pending';
    const status = proposal.hunksAccepted ? 'applied' : 'discarded';
    await this.agent.proposals.settle(proposal.id, status, partialDetail(proposal));
    return status;
  }

  /** The proposal as hunks against the current text, for clients that review inline; undefined when not in memory. */
  hunkView(proposalId: string): ProposalHunks | undefined {
    const proposal = this.agent.proposals.get(proposalId);
    return proposal && this.views.view(proposal);
  }

  /** A settled proposal this server no longer holds, from the store; undefined when unknown or another process's. */
  async recordedView(proposalId: string): Promise<ProposalHunks | undefined> {
    const record = await this.agent.proposals.recorded(proposalId);
    if (!record || record.status === 'proposed') return undefined;
    return { proposalId: record.id, summary: record.summary, status: record.status, ...(record.evidence ? { evidence: record.evidence } : {}), files: [] };
  }

  /** Writes the unified diff under the data directory and asks the editor to open it. */
  async preview(proposalId: string): Promise<string | undefined> {
    const proposal = this.agent.proposals.get(proposalId) ?? (await this.agent.proposals.recorded(proposalId));
    if (!proposal) return undefined;
    const folder = join(this.dataDirectory, 'previews');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const file = join(folder, `${proposal.id}.diff`);
    writeFileSync(file, proposal.diff, { mode: 0o600 });
    const uri = pathToUri(file);
    if (!(await this.client.showDocument(uri))) this.client.show('info', `codebench proposal ${proposal.summary}:\n${proposal.diff}`);
    return uri;
  }

  /** The editor applied an offered edit itself (code action): confirm from the documents. */
  confirmApplied(proposalId: string): Promise<ReviewOutcome> {
    return this.serialized('confirm', proposalId, undefined, async (proposal) => {
      const offered = this.actions.offered(proposalId);
      if (!offered) return this.unconfirmed(proposal, [], undefined, 'no edit of it was offered in a code action, so the server cannot check it');
      if (!(await this.confirmations.wait(offered, CONFIRM_TIMEOUT_MS))) return this.unconfirmed(proposal, offered, undefined);
      await this.agent.proposals.settle(proposalId, 'applied');
      return 'applied';
    });
  }

  /** Code actions for pending proposals that touch this document, wherever the cursor is. */
  codeActions(uri: string): CodeAction[] {
    const path = uriToPath(uri);
    return path ? this.actions.actions(this.agent.proposals.pendingFor(path)) : [];
  }

  /** Called on every document change: wakes confirmations (late ones too) and refreshes proposal markers. */
  documentChanged(): void {
    this.confirmations.documentChanged();
    if (this.markers.active) this.markers.schedule(150);
  }

  private withdrawPrompt(proposalId: string): void {
    this.prompts.get(proposalId)?.abort();
    this.prompts.delete(proposalId);
  }

  /** A settled proposal: withdraw its prompt and free everything kept for it. */
  private release(proposal: Proposal): void {
    this.withdrawPrompt(proposal.id);
    this.actions.forget(proposal.id);
    this.views.forget(proposal.id);
    const inUse = new Set(this.agent.proposals.pending().flatMap((pending) => pending.files.map((file) => file.absolutePath)));
    for (const file of proposal.files) {
      if (inUse.has(file.absolutePath)) continue;
      this.diskTexts.delete(file.absolutePath);
      this.disk.forget(file.absolutePath);
    }
    this.markers.schedule(0);
  }

  /** What is held per proposal, for the memory benchmark: all zero once every proposal settled. */
  heldCounts(): Record<string, number> {
    return {
      proposals: this.agent.proposals.size,
      diskTexts: this.diskTexts.size,
      codeActions: this.actions.size,
      views: this.views.size,
      disk: this.disk.size,
      prompts: this.prompts.size,
      confirmations: this.confirmations.size,
      queue: this.queue.size,
    };
  }

  dispose(): void {
    this.markers.dispose();
    this.confirmations.dispose();
  }
}

function partialDetail(proposal: Proposal, restDiscarded = false): string | undefined {
  if (!proposal.hunksRejected && !restDiscarded) return undefined;
  const accepted = proposal.hunksAccepted ?? 0;
  return `partially applied: ${accepted} hunk${accepted === 1 ? '' : 's'} accepted, the rest discarded`;
}
