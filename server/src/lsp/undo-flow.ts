import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeleteFile, WorkspaceEdit } from 'vscode-languageserver';
import { checkApplyPaths, readWithoutFollowing } from '../agent/proposals/apply-guard.js';
import type { PreparedFile } from '../agent/proposals/proposal.js';
import { planChange, type Direction, type PlannedFile } from '../agent/proposals/revert.js';
import { computeEdits } from '../agent/proposals/text-edits.js';
import { changedPaths, conflictMessage, conflictOutcome, doneMessage, latestApplied, notChangeable, NOTHING_TO_UNDO, recordChange, type UndoOutcome } from '../agent/proposals/undo.js';
import type { SensitiveFiles } from '../agent/workspace/secrets.js';
import type { UndoResult } from '../protocol/methods.js';
import type { ProposalRecord, Store } from '../store/store.js';
import type { AppliedProposals } from './applied-proposals.js';
import { pathToUri, uriToPath, type DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';

export interface UndoFlowOptions {
  store: () => Promise<Store>;
  documents: DocumentStore;
  client: EditorClient;
  applied: AppliedProposals;
  sensitive: () => SensitiveFiles;
  buildEdit: (files: PreparedFile[]) => WorkspaceEdit;
  workspaceFolders: () => string[];
  lastActiveUri: () => string | undefined;
}

/**
 * `codebench.undo` and re-applying a reverted proposal through the editor: every file's change is
 * worked out first (open documents from their synced text, closed files from the disk); a
 * conflict anywhere sends nothing; otherwise one versioned `workspace/applyEdit` carries every
 * file, the created ones' deletion included, so the editor undoes it as one step.
 */
export class UndoFlow {
  /** One operation per proposal at a time; a repeated one shares the running one's result. */
  private readonly running = new Map<string, Promise<UndoOutcome>>();

  constructor(private readonly options: UndoFlowOptions) {}

  /** The given proposal (an exact id, checked by the caller) or the workspace's most recently applied one. */
  async undo(proposalId: string | undefined): Promise<UndoResult> {
    const store = await this.options.store();
    const record = proposalId === undefined ? await latestApplied(store, this.workspaceUri()) : await store.getProposal(proposalId);
    if (!record) return toResult(this.told({ status: 'nothing', files: [], message: NOTHING_TO_UNDO }));
    return { ...toResult(await this.once(record, 'revert')), proposalId: record.id };
  }

  /**
   * A reverted proposal applied again (`codebench.applyProposal`): `applied` or `conflict`;
   * undefined when the proposal is not a reverted one (then review answers as for any other).
   */
  async reapply(proposalId: string): Promise<'applied' | 'conflict' | undefined> {
    const record = await (await this.options.store()).getProposal(proposalId);
    if (record?.status !== 'reverted') return undefined;
    const outcome = await this.once(record, 'reapply');
    return outcome.status === 'applied' || outcome.status === 'conflict' ? outcome.status : undefined;
  }

  private once(record: ProposalRecord, direction: Direction): Promise<UndoOutcome> {
    const key = `${direction}:${record.id}`;
    const running = this.running.get(key);
    if (running) return running;
    const operation = this.change(record, direction).finally(() => this.running.delete(key));
    this.running.set(key, operation);
    return operation;
  }

  private async change(record: ProposalRecord, direction: Direction): Promise<UndoOutcome> {
    const result = (outcome: UndoOutcome): UndoOutcome => this.told(outcome);
    // Re-read from the store: another window may have undone it since this one looked.
    const fresh = (await (await this.options.store()).getProposal(record.id)) ?? record;
    const refused = notChangeable(fresh, direction);
    if (refused !== undefined) return result({ status: 'nothing', files: [], message: refused });
    const staged = fresh.files.map((file) => ({ absolutePath: fileURLToPath(file.uri), relativePath: file.path, base: null, proposedText: '' }));
    // Editors follow links when they write: a path that now leads elsewhere stops the change.
    const paths = checkApplyPaths(staged, this.options.sensitive());
    if (!paths.ok) return result({ status: 'conflict', files: [], message: conflictMessage(direction, paths.reason) });
    // Editors answer `applied: false` when a document moved on between our read and their apply;
    // one fresh plan absorbs that race, a second refusal is reported.
    for (let attempt = 1; ; attempt++) {
      const versions = new Map<string, number | null>();
      let plan;
      try {
        plan = planChange(fresh, direction, (file) => {
          const absolutePath = fileURLToPath(file.uri);
          const open = this.options.documents.get(absolutePath);
          versions.set(file.path, open?.version ?? null);
          return open ? open.text : readWithoutFollowing(paths.targets.get(absolutePath)!.realPath);
        });
      } catch (error) {
        return result({ status: 'conflict', files: [], message: conflictMessage(direction, (error as Error).message) });
      }
      if (!plan.ok) return result(conflictOutcome(direction, plan));
      const changed = changedPaths(plan.files);
      if (changed.length > 0) {
        const edit = this.workspaceEdit(plan.files, versions);
        if (!edit) return result({ status: 'conflict', files: changed, message: conflictMessage(direction, 'the editor cannot delete files through the language server (run codebench undo in a terminal)') });
        const label = `codebench: ${direction === 'revert' ? 'undo' : 're-apply'} ${fresh.summary}`;
        const applied = await this.options.client.applyEdit(label, edit);
        if (!applied.applied) {
          if (attempt < 2) continue;
          return result({ status: 'conflict', files: changed, message: conflictMessage(direction, `the editor refused the edit (${applied.failureReason ?? 'no reason given'})`) });
        }
      }
      await recordChange(await this.options.store(), fresh, direction, changed);
      if (direction === 'revert') this.options.applied.remove(fresh.id);
      else this.options.applied.add(fresh);
      return result({ status: direction === 'revert' ? 'reverted' : 'applied', files: changed, message: doneMessage(fresh, direction, changed) });
    }
  }

  /** One WorkspaceEdit: text edits (created files first created), then deletions; undefined when the editor cannot delete. */
  private workspaceEdit(files: PlannedFile[], versions: Map<string, number | null>): WorkspaceEdit | undefined {
    const prepared: PreparedFile[] = [];
    const deletions: DeleteFile[] = [];
    for (const file of files) {
      const absolutePath = fileURLToPath(file.file.uri);
      const { outcome } = file;
      if (outcome.kind === 'delete') deletions.push({ kind: 'delete', uri: pathToUri(absolutePath), options: { ignoreIfNotExists: true } });
      if (outcome.kind !== 'write' && outcome.kind !== 'create') continue;
      const currentText = file.currentText ?? '';
      prepared.push({
        absolutePath,
        relativePath: file.file.path,
        create: outcome.kind === 'create',
        version: versions.get(file.file.path) ?? null,
        currentText,
        edits: computeEdits(currentText, outcome.text),
        resultText: outcome.text,
      });
    }
    const edit = this.options.buildEdit(prepared);
    if (deletions.length === 0) return edit;
    if (!edit.documentChanges && !this.options.client.features.documentChanges) return undefined;
    return { documentChanges: [...(edit.documentChanges ?? []), ...deletions] };
  }

  /** Conflicts and "nothing" are shown as well: from a code action, the result reaches no one. */
  private told(outcome: UndoOutcome): UndoOutcome {
    if (outcome.status === 'conflict') this.options.client.show('warning', `codebench: ${outcome.message}`);
    if (outcome.status === 'nothing') this.options.client.show('info', `codebench: ${outcome.message}`);
    return outcome;
  }

  /** The workspace of the last active document (its folder, else its directory), else the first folder. */
  private workspaceUri(): string {
    const active = this.options.lastActiveUri();
    const path = active === undefined ? undefined : uriToPath(active);
    const folders = this.options.workspaceFolders();
    if (path !== undefined) {
      const folder = folders.find((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
      return pathToUri(folder ?? dirname(path));
    }
    return pathToUri(folders[0] ?? process.cwd());
  }
}

/** An undo's outcome on the wire (an undo never re-applies, so `applied` does not occur). */
function toResult(outcome: UndoOutcome): UndoResult {
  return { status: outcome.status === 'applied' ? 'reverted' : outcome.status, ...(outcome.files.length > 0 ? { files: outcome.files } : {}), message: outcome.message };
}
