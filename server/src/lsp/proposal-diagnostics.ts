import type { Diagnostic } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import type { PreparedApplication, Proposal } from '../agent/proposals/proposal.js';
import { pathToUri, type DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';
import { LineIndex } from './positions.js';

/**
 * One Information diagnostic per proposed hunk in open documents, so Helix users find proposals
 * (the Apply / Preview / Discard code actions sit on them). Republished, debounced, when typing
 * moves the hunks or a proposal settles; cleared where none is left.
 */
export class ProposalDiagnostics {
  #timer: NodeJS.Timeout | undefined;
  readonly #diagnosedUris = new Set<string>();

  constructor(
    private readonly pending: () => Proposal[],
    private readonly prepared: (proposal: Proposal) => PreparedApplication,
    private readonly documents: DocumentStore,
    private readonly client: EditorClient,
  ) {}

  /** Whether a document change could move or clear a marker. */
  get active(): boolean {
    return this.pending().length > 0 || this.#diagnosedUris.size > 0;
  }

  schedule(delayMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#publish(), delayMs);
  }

  #publish(): void {
    this.#timer = undefined;
    const byUri = new Map<string, Diagnostic[]>();
    for (const proposal of this.pending()) {
      const prepared = this.prepared(proposal);
      if (!prepared.ok) continue;
      for (const file of prepared.files) {
        if (!this.documents.get(file.absolutePath)) continue;
        const uri = pathToUri(file.absolutePath);
        const list = byUri.get(uri) ?? [];
        const lines = new LineIndex(file.currentText);
        for (const edit of file.edits) {
          list.push({
            range: lines.range(edit.start, edit.end, this.client.encoding),
            severity: DiagnosticSeverity.Information,
            source: 'codebench',
            message: `Agent proposal: ${proposal.summary}. Code actions: apply, preview or discard.`,
            data: { proposalId: proposal.id },
          });
        }
        byUri.set(uri, list);
      }
    }
    for (const uri of this.#diagnosedUris) if (!byUri.has(uri)) this.client.publishDiagnostics(uri, []);
    this.#diagnosedUris.clear();
    for (const [uri, diagnostics] of byUri) {
      this.client.publishDiagnostics(uri, diagnostics);
      this.#diagnosedUris.add(uri);
    }
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}
