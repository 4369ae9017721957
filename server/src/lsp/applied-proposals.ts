import type { CodeAction, Range } from 'vscode-languageserver';
import { CodeActionKind } from 'vscode-languageserver';
import type { Proposal } from '../agent/proposals/proposal.js';
import { agentWrittenLines, indexLines, storedChanges, type IndexedLines, type StoredFileChange } from '../agent/proposals/revert.js';
import { Commands } from '../protocol/methods.js';
import type { ProposalRecord, Store } from '../store/store.js';
import { pathToUri, uriToPath, type DocumentStore } from './documents.js';

/** How many applied proposals offer "Undo agent edit" (newest first); older ones stay undoable by id. */
export const RECENT_APPLIED = 20;

interface Entry {
  id: string;
  summary: string;
  /** When it was applied: newest first in code actions. */
  appliedAt: string;
  /** The stored hunks of each file, by absolute path. */
  files: Map<string, StoredFileChange>;
}

/**
 * The recently applied proposals, in memory, so "Undo agent edit: …" is computed without the
 * database: filled when this server applies one, and loaded once in the background when the
 * store opens (the last RECENT_APPLIED of any workspace, so it works after a restart). Which lines
 * a proposal wrote is worked out from its hunks against the open document, once per version.
 */
export class AppliedProposals {
  private readonly entries = new Map<string, Entry>();
  /** Per open file: the text the ranges were worked out on (a reopened file restarts its versions). */
  private readonly lineCache = new Map<string, { text: string; ranges: Array<{ id: string; start: number; end: number }> }>();
  private loading: Promise<void> | undefined;

  constructor(private readonly documents: DocumentStore) {}

  /** Once per process, after the store opened; a failure only costs the older proposals' actions. */
  loadOnce(store: Store, log: (message: string) => void): Promise<void> {
    this.loading ??= store.recentlyAppliedProposals({ limit: RECENT_APPLIED }).then(
      (records) => {
        for (const record of records) if (!this.entries.has(record.id)) this.put(record);
        this.trim();
      },
      (error: unknown) => log(`codebench: recently applied proposals not loaded: ${(error as Error).message}`),
    );
    return this.loading;
  }

  /** A stored proposal applied (again) now. */
  add(record: Pick<ProposalRecord, 'id' | 'summary' | 'files' | 'diff'> & { decidedAt?: string }): void {
    this.put({ ...record, decidedAt: new Date().toISOString() });
    this.trim();
  }

  /** A proposal this server's review just applied: the same, from its in-memory form. */
  addSettled(proposal: Proposal): void {
    if (proposal.status !== 'applied' && proposal.status !== 'unconfirmed') return;
    this.add({
      id: proposal.id,
      summary: proposal.summary,
      diff: proposal.diff,
      files: proposal.files.map((file) => ({ uri: pathToUri(file.absolutePath), path: file.relativePath, baseVersion: file.base?.version ?? null, created: file.base === null })),
    });
  }

  remove(id: string): void {
    if (this.entries.delete(id)) this.lineCache.clear();
  }

  private put(record: Pick<ProposalRecord, 'id' | 'summary' | 'files' | 'diff' | 'decidedAt'>): void {
    const files = new Map<string, StoredFileChange>();
    for (const change of storedChanges(record)) {
      const path = uriToPath(change.file.uri);
      if (path !== undefined) files.set(path, change);
    }
    this.entries.set(record.id, { id: record.id, summary: record.summary, appliedAt: record.decidedAt ?? '', files });
    this.lineCache.clear();
  }

  private trim(): void {
    const newestFirst = [...this.entries.values()].sort((a, b) => b.appliedAt.localeCompare(a.appliedAt));
    for (const entry of newestFirst.slice(RECENT_APPLIED)) this.entries.delete(entry.id);
  }

  /** "Undo agent edit: …" for each recent proposal whose written lines the range touches. */
  codeActions(uri: string, range: Range): CodeAction[] {
    const path = uriToPath(uri);
    const document = path === undefined ? undefined : this.documents.get(path);
    if (path === undefined || !document) return [];
    const ranges = this.writtenLines(path, document);
    const first = range.start.line;
    // A range ending at column 0 of a line does not take that line in (a whole-line selection).
    const last = Math.max(first, range.end.character === 0 && range.end.line > first ? range.end.line - 1 : range.end.line);
    const touched = new Set(ranges.filter((written) => written.start <= last && first < written.end).map((written) => written.id));
    return [...touched].map((id) => {
      const entry = this.entries.get(id)!;
      return {
        title: `Undo agent edit: ${entry.summary}`,
        kind: CodeActionKind.Empty,
        command: { title: 'Undo agent edit', command: Commands.undo.command, arguments: [{ proposalId: id }] },
      };
    });
  }

  /** Per proposal touching the file, newest first, the lines it wrote that are still as written. */
  private writtenLines(path: string, document: { text: string; version: number }): Array<{ id: string; start: number; end: number }> {
    const cached = this.lineCache.get(path);
    if (cached && cached.text === document.text) return cached.ranges;
    const ranges: Array<{ id: string; start: number; end: number }> = [];
    const newestFirst = [...this.entries.values()].sort((a, b) => b.appliedAt.localeCompare(a.appliedAt));
    // The text's lines indexed once for all proposals, and only when one touches this file.
    let indexed: IndexedLines | undefined;
    for (const entry of newestFirst) {
      const change = entry.files.get(path);
      if (change) indexed ??= indexLines(document.text);
      const written = change && agentWrittenLines(change, document.text, indexed);
      for (const lines of written ?? []) ranges.push({ id: entry.id, ...lines });
    }
    // Files closed since are not tracked: past a bound, start over.
    if (this.lineCache.size >= 64) this.lineCache.clear();
    this.lineCache.set(path, { text: document.text, ranges });
    return ranges;
  }

  get size(): number {
    return this.entries.size;
  }
}
