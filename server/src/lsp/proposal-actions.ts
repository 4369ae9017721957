import type { CodeAction, CreateFile, TextDocumentEdit, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import { CodeActionKind } from 'vscode-languageserver';
import { prepareApplication, type CurrentText, type PreparedApplication, type PreparedFile, type Proposal, type ProposalFile } from '../agent/proposals/proposal.js';
import { Commands } from '../protocol/methods.js';
import { pathToUri, type DocumentStore } from './documents.js';
import type { ClientFeatures } from './editor-client.js';
import { LineIndex, type PositionEncoding } from './positions.js';
import { ReadError } from './proposal-view.js';

/** One WorkspaceEdit for the prepared files, in the form the client accepts. */
export function buildWorkspaceEdit(files: PreparedFile[], features: ClientFeatures, encoding: PositionEncoding): WorkspaceEdit {
  const textEdits = (file: PreparedFile): TextEdit[] => {
    const lines = new LineIndex(file.currentText);
    return file.edits.map((edit) => ({ range: lines.range(edit.start, edit.end, encoding), newText: edit.newText }));
  };
  if (!features.documentChanges) {
    const changes: Record<string, TextEdit[]> = {};
    for (const file of files) changes[pathToUri(file.absolutePath)] = textEdits(file);
    return { changes };
  }
  const operations: Array<TextDocumentEdit | CreateFile> = [];
  for (const file of files) {
    const uri = pathToUri(file.absolutePath);
    if (file.create && features.createFiles) operations.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: true } });
    operations.push({ textDocument: { uri, version: file.version }, edits: textEdits(file) });
  }
  return { documentChanges: operations };
}

/**
 * The Apply / Preview / Discard code actions of pending proposals, computed from memory: editors
 * ask for code actions on every cursor move, so the rebase (a diff over each affected file) is
 * redone only when a document's version moves. Remembers the edit last offered, to recognise it
 * when the editor applies it itself (`codebench.confirmApplied`).
 */
export class ProposalCodeActions {
  private readonly offeredEdits = new Map<string, PreparedFile[]>();
  private readonly preparedCache = new Map<string, { key: string; files: ProposalFile[]; prepared: PreparedApplication }>();

  constructor(
    private readonly documents: DocumentStore,
    /** The text of a file as of the proposal (open buffer, else the snapshot): never the disk again. */
    private readonly currentText: (absolutePath: string) => CurrentText | undefined,
    private readonly buildEdit: (files: PreparedFile[]) => WorkspaceEdit,
  ) {}

  prepared(proposal: Proposal): PreparedApplication {
    const key = proposal.files.map((file) => `${file.absolutePath}@${this.documents.get(file.absolutePath)?.version ?? 'disk'}`).join('|');
    const cached = this.preparedCache.get(proposal.id);
    if (cached && cached.key === key && cached.files === proposal.files) return cached.prepared;
    let prepared: PreparedApplication;
    try {
      prepared = prepareApplication(proposal, this.currentText);
    } catch (error) {
      if (!(error instanceof ReadError)) throw error;
      prepared = { ok: false, conflict: error.message };
    }
    this.preparedCache.set(proposal.id, { key, files: proposal.files, prepared });
    return prepared;
  }

  offered(proposalId: string): PreparedFile[] | undefined {
    return this.offeredEdits.get(proposalId);
  }

  actions(proposals: Proposal[]): CodeAction[] {
    const actions: CodeAction[] = [];
    for (const proposal of proposals) {
      const prepared = this.prepared(proposal);
      const argumentsFor = [{ proposalId: proposal.id }];
      if (prepared.ok) {
        this.offeredEdits.set(proposal.id, prepared.files);
        actions.push({
          title: `Apply agent edit: ${proposal.summary}`,
          kind: CodeActionKind.QuickFix,
          isPreferred: true,
          edit: this.buildEdit(prepared.files),
          command: { title: 'Record applied', command: Commands.confirmApplied.command, arguments: argumentsFor },
        });
      }
      // Quick fixes like Apply: Helix sorts its menu by kind, and these belong right under it.
      actions.push(
        { title: `Preview agent edit: ${proposal.summary}`, kind: CodeActionKind.QuickFix, command: { title: 'Preview', command: Commands.previewProposal.command, arguments: argumentsFor } },
        { title: `Discard agent edit: ${proposal.summary}`, kind: CodeActionKind.QuickFix, command: { title: 'Discard', command: Commands.discardProposal.command, arguments: argumentsFor } },
      );
    }
    return actions;
  }

  forget(proposalId: string): void {
    this.offeredEdits.delete(proposalId);
    this.preparedCache.delete(proposalId);
  }

  get size(): number {
    return this.offeredEdits.size + this.preparedCache.size;
  }
}
