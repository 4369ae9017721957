import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, TextDocumentEdit, CreateFile, WorkspaceEdit, TextEdit } from 'vscode-languageserver';
import { CodeActionKind } from 'vscode-languageserver';
import type { Agent } from '../agent/agent.js';
import { checkApplyPaths } from '../agent/proposals/apply-guard.js';
import {
  countHunks,
  prepareApplication,
  selectHunks,
  withoutHunks,
  type CurrentText,
  type PreparedApplication,
  type PreparedFile,
  type Proposal,
  type ProposalFile,
} from '../agent/proposals/proposal.js';
import type { Config } from '../config/schema.js';
import { Commands, type ProposalHunks } from '../protocol/methods.js';
import { pathToUri, uriToPath, type DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';
import { LineIndex } from './positions.js';
import { ProposalDiagnostics } from './proposal-diagnostics.js';

export type ReviewOutcome = 'applied' | 'discarded' | 'conflict' | 'pending';

const CONFIRM_TIMEOUT_MS = 3000;

function outcomeOf(proposal: Proposal | undefined): ReviewOutcome {
  if (!proposal) return 'conflict';
  return proposal.status === 'proposed' ? 'pending' : proposal.status;
}

/**
 * How a proposal reaches the user and comes back: asked with showMessageRequest where the editor
 * has it, otherwise offered as code actions marked by a diagnostic (Helix); applied as one
 * versioned WorkspaceEdit, rebased onto whatever the user typed meanwhile.
 */
export class ReviewService {
  /** Closed files' text as of the proposal, so code actions never touch the disk. */
  private readonly diskTexts = new Map<string, string | undefined>();
  /** The edit last offered in a code action, to recognise it when the editor applies it. */
  private readonly offered = new Map<string, PreparedFile[]>();
  /** Rebased edits per proposal, reused while no affected document changes version. */
  private readonly preparedCache = new Map<string, { key: string; files: ProposalFile[]; prepared: PreparedApplication }>();
  private readonly waiters = new Set<() => void>();
  private readonly markers: ProposalDiagnostics;

  constructor(
    private readonly agent: Agent,
    private readonly documents: DocumentStore,
    private readonly client: EditorClient,
    private readonly config: () => Config,
    private readonly dataDirectory: string,
  ) {
    this.markers = new ProposalDiagnostics(() => agent.proposals.pending(), (proposal) => this.preparedFromMemory(proposal), documents, client);
    agent.proposals.onSettled((proposal) => {
      this.preparedCache.delete(proposal.id);
      this.markers.schedule(0);
    });
  }

  async present(proposal: Proposal): Promise<ReviewOutcome> {
    for (const file of proposal.files) {
      if (!this.documents.get(file.absolutePath)) this.diskTexts.set(file.absolutePath, readDisk(file.absolutePath));
    }
    this.markers.schedule(0);
    if (this.config().review === 'auto') return this.apply(proposal.id);
    // The plugin shows the hunks in the buffer and calls apply/discard itself.
    if (this.client.features.inlineReview) return 'pending';
    if (!this.client.features.showMessageRequest) {
      this.client.show(
        'info',
        `codebench proposes changes to ${proposal.summary}. Use code actions on the file to apply, preview or discard them.`,
      );
      return 'pending';
    }
    let actions = ['Apply', 'Preview', 'Discard'];
    for (;;) {
      const choice = await this.client.ask('info', `codebench proposes changes to ${proposal.summary}.`, actions);
      if (proposal.status !== 'proposed') return outcomeOf(proposal);
      if (choice === 'Apply') return this.apply(proposal.id);
      if (choice === 'Discard') return this.discard(proposal.id);
      if (choice !== 'Preview') return 'pending';
      await this.preview(proposal.id);
      actions = ['Apply', 'Discard'];
    }
  }

  currentText(absolutePath: string, fromDisk: boolean): CurrentText | undefined {
    const open = this.documents.get(absolutePath);
    if (open) return open;
    const text = fromDisk || !this.diskTexts.has(absolutePath) ? readDisk(absolutePath) : this.diskTexts.get(absolutePath);
    return text === undefined ? undefined : { text, version: null };
  }

  buildEdit(files: PreparedFile[]): WorkspaceEdit {
    const { documentChanges, createFiles } = this.client.features;
    if (!documentChanges) {
      const changes: Record<string, TextEdit[]> = {};
      for (const file of files) changes[pathToUri(file.absolutePath)] = this.textEdits(file);
      return { changes };
    }
    const operations: Array<TextDocumentEdit | CreateFile> = [];
    for (const file of files) {
      const uri = pathToUri(file.absolutePath);
      if (file.create && createFiles) operations.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: true } });
      operations.push({ textDocument: { uri, version: file.version }, edits: this.textEdits(file) });
    }
    return { documentChanges: operations };
  }

  private textEdits(file: PreparedFile): TextEdit[] {
    const lines = new LineIndex(file.currentText);
    return file.edits.map((edit) => ({
      range: lines.range(edit.start, edit.end, this.client.encoding),
      newText: edit.newText,
    }));
  }

  /** Applies the whole proposal, or only the given hunks (numbered as in `hunkView`). */
  async apply(proposalId: string, hunks?: readonly number[]): Promise<ReviewOutcome> {
    const proposal = this.agent.proposals.get(proposalId);
    if (!proposal || proposal.status !== 'proposed') return outcomeOf(proposal);
    // The editor follows symlinks when it writes: a directory swapped for a link (out of the
    // workspace, into .git, onto a protected file) since the agent staged must stop the apply.
    const paths = checkApplyPaths(proposal.files, this.agent.sensitiveFiles());
    if (!paths.ok) return this.conflict(proposal, paths.reason);
    // Editors answer `applied: false` when the document moved on between our read and their
    // apply; one fresh rebase absorbs that race, a second failure is reported.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const prepared = prepareApplication(proposal, (path) => this.currentText(path, true));
      if (!prepared.ok) return this.conflict(proposal, prepared.conflict);
      const files = hunks ? selectHunks(prepared.files, new Set(hunks)) : prepared.files;
      if (files.length === 0) return this.settleIfDone(proposal);
      const result = await this.client.applyEdit(`codebench: ${proposal.summary}`, this.buildEdit(files));
      if (result.applied) {
        const confirmed = await this.waitForTexts(files, CONFIRM_TIMEOUT_MS);
        if (!hunks) {
          await this.agent.proposals.settle(proposal.id, 'applied', confirmed ? partialDetail(proposal) : 'editor did not confirm the change');
          return 'applied';
        }
        proposal.hunksAccepted = (proposal.hunksAccepted ?? 0) + countHunks(files);
        return this.settleIfDone(proposal);
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

  /** Discards the whole proposal, or only the given hunks; the rest stays proposed. */
  async discard(proposalId: string, hunks?: readonly number[]): Promise<ReviewOutcome> {
    const proposal = this.agent.proposals.get(proposalId);
    if (!proposal || proposal.status !== 'proposed') return outcomeOf(proposal);
    if (hunks) {
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
    await this.agent.proposals.settle(proposalId, 'discarded');
    return 'discarded';
  }

  /** Once no hunk is left to decide, the proposal's fate is recorded. */
  private async settleIfDone(proposal: Proposal): Promise<ReviewOutcome> {
    const prepared = prepareApplication(proposal, (path) => this.currentText(path, true));
    if (prepared.ok && countHunks(prepared.files) > 0) return 'pending';
    const status = proposal.hunksAccepted ? 'applied' : 'discarded';
    await this.agent.proposals.settle(proposal.id, status, partialDetail(proposal));
    return status;
  }

  /** The pending proposal as hunks against the current text, for clients that review inline. */
  hunkView(proposalId: string): ProposalHunks | undefined {
    const proposal = this.agent.proposals.get(proposalId);
    if (!proposal) return undefined;
    const base = { proposalId: proposal.id, summary: proposal.summary, status: proposal.status };
    if (proposal.status !== 'proposed') return { ...base, files: [] };
    const prepared = prepareApplication(proposal, (path) => this.currentText(path, true));
    if (!prepared.ok) return { ...base, files: [], conflict: prepared.conflict };
    let index = 0;
    return {
      ...base,
      files: prepared.files.map((file) => {
        const lines = new LineIndex(file.currentText);
        return {
          uri: pathToUri(file.absolutePath),
          path: file.relativePath,
          created: file.create,
          version: file.version,
          hunks: file.edits.map((edit) => ({
            index: index++,
            range: lines.range(edit.start, edit.end, this.client.encoding),
            oldText: file.currentText.slice(edit.start, edit.end),
            newText: edit.newText,
          })),
        };
      }),
    };
  }

  /** Writes the unified diff under the data directory and asks the editor to open it. */
  async preview(proposalId: string): Promise<string | undefined> {
    const proposal = this.agent.proposals.get(proposalId);
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
  async confirmApplied(proposalId: string): Promise<ReviewOutcome> {
    const proposal = this.agent.proposals.get(proposalId);
    if (!proposal || proposal.status !== 'proposed') return outcomeOf(proposal);
    const offered = this.offered.get(proposalId);
    const confirmed = offered ? await this.waitForTexts(offered, CONFIRM_TIMEOUT_MS) : false;
    await this.agent.proposals.settle(proposalId, 'applied', confirmed ? undefined : 'applied by the editor, not confirmed');
    return 'applied';
  }

  /**
   * The rebase for code actions and markers: editors ask for code actions on every cursor move,
   * so the work (a diff over each affected file) is redone only when a document's version moves.
   */
  private preparedFromMemory(proposal: Proposal): PreparedApplication {
    const key = proposal.files.map((file) => `${file.absolutePath}@${this.documents.get(file.absolutePath)?.version ?? 'disk'}`).join('|');
    const cached = this.preparedCache.get(proposal.id);
    if (cached && cached.key === key && cached.files === proposal.files) return cached.prepared;
    const prepared = prepareApplication(proposal, (file) => this.currentText(file, false));
    this.preparedCache.set(proposal.id, { key, files: proposal.files, prepared });
    return prepared;
  }

  /** Code actions for pending proposals that touch this document, wherever the cursor is. */
  codeActions(uri: string): CodeAction[] {
    const path = uriToPath(uri);
    if (!path) return [];
    const actions: CodeAction[] = [];
    for (const proposal of this.agent.proposals.pendingFor(path)) {
      const prepared = this.preparedFromMemory(proposal);
      const argumentsFor = [{ proposalId: proposal.id }];
      if (prepared.ok) {
        this.offered.set(proposal.id, prepared.files);
        actions.push({
          title: `Apply agent edit: ${proposal.summary}`,
          kind: CodeActionKind.QuickFix,
          isPreferred: true,
          edit: this.buildEdit(prepared.files),
          command: { title: 'Record applied', command: Commands.confirmApplied.command, arguments: argumentsFor },
        });
      }
      actions.push(
        { title: `Preview agent edit: ${proposal.summary}`, kind: CodeActionKind.Empty, command: { title: 'Preview', command: Commands.previewProposal.command, arguments: argumentsFor } },
        { title: `Discard agent edit: ${proposal.summary}`, kind: CodeActionKind.Empty, command: { title: 'Discard', command: Commands.discardProposal.command, arguments: argumentsFor } },
      );
    }
    return actions;
  }

  /** Called on every document change: wakes confirmations and refreshes proposal markers. */
  documentChanged(): void {
    for (const waiter of [...this.waiters]) waiter();
    if (this.markers.active) this.markers.schedule(150);
  }

  private waitForTexts(files: PreparedFile[], timeoutMs: number): Promise<boolean> {
    const open = files.filter((file) => this.documents.get(file.absolutePath));
    const matches = () => open.every((file) => this.documents.get(file.absolutePath)?.text === file.resultText);
    if (matches()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!matches()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
    });
  }

  dispose(): void {
    this.markers.dispose();
  }
}

function partialDetail(proposal: Proposal, restDiscarded = false): string | undefined {
  if (!proposal.hunksRejected && !restDiscarded) return undefined;
  const accepted = proposal.hunksAccepted ?? 0;
  return `partially applied: ${accepted} hunk${accepted === 1 ? '' : 's'} accepted, the rest discarded`;
}

function readDisk(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
