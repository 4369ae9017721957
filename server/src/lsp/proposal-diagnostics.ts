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
    // A client that reviews inline (the Neovim plugin) draws the hunks itself: a marker per hunk
    // would be a second hint on each line.
    const proposals = this.client.features.inlineReview ? [] : this.pending();
    for (const proposal of proposals) {
      const prepared = this.prepared(proposal);
      if (!prepared.ok) continue;
      for (const file of prepared.files) {
        if (!this.documents.get(file.absolutePath)) continue;
        const uri = pathToUri(file.absolutePath);
        const list = byUri.get(uri) ?? [];
        const lines = new LineIndex(file.currentText);
        for (const edit of file.edits) {
          list.push({
            range: lines.range(...wholeLines(file.currentText, edit), this.client.encoding),
            severity: DiagnosticSeverity.Information,
            source: 'codebench',
            message: hunkMessage(proposal.summary, file.currentText, edit),
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

/**
 * The lines an edit touches, whole: Helix shows the diagnostic under the cursor, and a marker on
 * the `hi` of `"hi "` would be found only with the cursor on those two characters.
 */
function wholeLines(text: string, edit: { start: number; end: number }): [number, number] {
  const start = text.lastIndexOf('\n', edit.start - 1) + 1;
  if (edit.end > edit.start && text[edit.end - 1] === '\n') return [start, edit.end - 1];
  const nextBreak = text.indexOf('\n', edit.end);
  return [start, nextBreak === -1 ? text.length : nextBreak];
}

/** Added lines shown in full up to this many; a longer hunk shows its head and how many follow. */
const MAX_SHOWN_LINES = 12;
const MAX_LINE = 160;
const MAX_FIRST_LINE = 80;

/**
 * What the hunk would make of its lines, so the change can be read before it is applied: Helix
 * prints a diagnostic's first line at the end of the line and the whole message under the cursor
 * and in the diagnostics picker. The first line is the new text in brief, the rest the whole new
 * lines (the edit widened to the lines it touches: an edit of `"hi "` shows the full line).
 */
export function hunkMessage(summary: string, currentText: string, edit: { start: number; end: number; newText: string }): string {
  const lineStart = currentText.lastIndexOf('\n', edit.start - 1) + 1;
  const atLineStart = (offset: number) => offset === 0 || currentText[offset - 1] === '\n';
  const wholeLines = edit.start === lineStart && atLineStart(edit.end) && (edit.newText === '' || edit.newText.endsWith('\n'));
  let newLines: string;
  if (wholeLines) {
    if (edit.newText === '') {
      const removed = currentText.slice(edit.start, edit.end).split('\n').length - 1;
      return `Agent proposal: delete ${removed <= 1 ? 'this line' : `these ${removed} lines`}\n(${summary}: code actions apply, preview or discard)`;
    }
    newLines = edit.newText.slice(0, -1);
  } else {
    const nextBreak = currentText.indexOf('\n', edit.end);
    newLines = currentText.slice(lineStart, edit.start) + edit.newText + currentText.slice(edit.end, nextBreak === -1 ? currentText.length : nextBreak);
  }
  const lines = newLines.split('\n');
  const shown = lines.slice(0, MAX_SHOWN_LINES).map((line) => `  ${clip(line, MAX_LINE)}`);
  if (lines.length > MAX_SHOWN_LINES) shown.push(`  … ${lines.length - MAX_SHOWN_LINES} more lines (Preview shows the whole change)`);
  const brief = lines.find((line) => line.trim() !== '')?.trim() ?? '';
  const more = lines.length > 1 ? ` (+${lines.length - 1} more lines)` : '';
  const verb = edit.start === edit.end ? 'inserts' : 'becomes';
  return [`Agent proposal ${verb}: ${clip(brief, MAX_FIRST_LINE)}${more}`, ...shown, `(${summary}: code actions apply, preview or discard)`].join('\n');
}

function clip(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}
