import { readFileSync, statSync } from 'node:fs';
import { prepareApplication, type CurrentText, type Proposal } from '../agent/proposals/proposal.js';
import type { ProposalHunks } from '../protocol/methods.js';
import { pathToUri, type DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';
import { LineIndex } from './positions.js';

/** A file that exists but cannot be read (permissions, a directory in its place): one line naming it. */
export class ReadError extends Error {}

function missing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function readError(path: string, error: unknown): ReadError {
  const { code, message } = error as NodeJS.ErrnoException;
  return new ReadError(`cannot read ${path}: ${code ?? message}${code === 'EACCES' || code === 'EPERM' ? ' (permission denied)' : ''}`);
}

/** The file's text now; undefined when it does not exist, a ReadError when it cannot be read. */
export function readDisk(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (missing(error)) return undefined;
    throw readError(path, error);
  }
}

/**
 * Disk texts for `codebench/proposal`, which the Neovim plugin calls after every typing pause:
 * a stat per file, and a read only when its modification time or size moved.
 */
export class DiskTexts {
  readonly #files = new Map<string, { stamp: string; text: string | undefined }>();

  /** What identifies the file's content without reading it. */
  stamp(path: string): string {
    try {
      const stats = statSync(path);
      return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    } catch (error) {
      if (missing(error)) return 'missing';
      throw readError(path, error);
    }
  }

  read(path: string): string | undefined {
    const stamp = this.stamp(path);
    const known = this.#files.get(path);
    if (known?.stamp === stamp) return known.text;
    const text = stamp === 'missing' ? undefined : readDisk(path);
    this.#files.set(path, { stamp, text });
    return text;
  }

  forget(path: string): void {
    this.#files.delete(path);
  }

  get size(): number {
    return this.#files.size;
  }
}

/**
 * A pending proposal as hunks against the current text, for clients that review inline. The view
 * is rebuilt only when an open document's version or a closed file's stamp moved.
 */
export class ProposalViews {
  readonly #views = new Map<string, { key: string; files: Proposal['files']; view: ProposalHunks }>();

  constructor(
    private readonly documents: DocumentStore,
    private readonly client: EditorClient,
    private readonly disk: DiskTexts,
  ) {}

  view(proposal: Proposal): ProposalHunks {
    const base = { proposalId: proposal.id, summary: proposal.summary, status: proposal.status, ...(proposal.evidence ? { evidence: proposal.evidence } : {}) };
    if (proposal.status !== 'proposed') return { ...base, files: [] };
    let key: string;
    try {
      key = proposal.files.map((file) => this.documents.get(file.absolutePath)?.version ?? this.disk.stamp(file.absolutePath)).join('|');
    } catch (error) {
      return this.unreadable(base, error);
    }
    const cached = this.#views.get(proposal.id);
    if (cached && cached.key === key && cached.files === proposal.files) return cached.view;
    let view: ProposalHunks;
    try {
      view = this.build(proposal, base);
    } catch (error) {
      return this.unreadable(base, error);
    }
    this.#views.set(proposal.id, { key, files: proposal.files, view });
    return view;
  }

  forget(proposalId: string): void {
    this.#views.delete(proposalId);
  }

  get size(): number {
    return this.#views.size;
  }

  /** The user hears of it, not only the client that asked: a plugin may show nothing for a conflict. */
  private unreadable(base: Omit<ProposalHunks, 'files'>, error: unknown): ProposalHunks {
    if (!(error instanceof ReadError)) throw error;
    this.client.show('error', `codebench: ${error.message}`);
    return { ...base, files: [], conflict: error.message };
  }

  private build(proposal: Proposal, base: Omit<ProposalHunks, 'files'>): ProposalHunks {
    const current = (path: string): CurrentText | undefined => {
      const open = this.documents.get(path);
      if (open) return open;
      const text = this.disk.read(path);
      return text === undefined ? undefined : { text, version: null };
    };
    const prepared = prepareApplication(proposal, current);
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
}
