/**
 * The agent's private view of the workspace during one run. Tools stage edits here and later reads
 * see them; nothing reaches disk or the user's buffers until the proposal layer applies
 * `changes()` as one reviewed edit.
 *
 * Each file's base snapshot is frozen the first time the run reads it, so every edit in the run is
 * computed against one consistent text even while the user keeps typing; reconciling the base with
 * the live buffer is the proposal layer's job (it has the version to compare against).
 */

export interface FileSnapshot {
  text: string;
  /** Open-document version when the text came from an editor buffer; null when read from disk. */
  version: number | null;
}

export interface StagedChange {
  absolutePath: string;
  relativePath: string;
  /** null = the file did not exist when the run first looked at it. */
  base: FileSnapshot | null;
  text: string;
  /**
   * The workspace root the path belongs to and what it named (symlinks followed) when it was
   * staged; applying re-resolves the path and refuses when it names something else by then.
   */
  root?: string;
  realPath?: string;
}

/** Where a staged path led when it was checked (see `StagedChange`). */
export interface StagedTarget {
  root: string;
  realPath: string;
}

interface Entry {
  relativePath: string;
  base: FileSnapshot | null;
  staged: string | undefined;
  target?: StagedTarget;
}

export class Overlay {
  readonly #entries = new Map<string, Entry>();

  /**
   * Records what a file looked like when the run first read it (null = it did not exist). Later
   * calls for the same path are ignored so the snapshot stays the one every edit was based on.
   */
  recordBase(absolutePath: string, relativePath: string, base: FileSnapshot | null): void {
    if (!this.#entries.has(absolutePath)) {
      this.#entries.set(absolutePath, { relativePath, base, staged: undefined });
    }
  }

  /** The base snapshot: undefined = never read; null = recorded as not existing. */
  base(absolutePath: string): FileSnapshot | null | undefined {
    return this.#entries.get(absolutePath)?.base;
  }

  /** Whether the run has a view of this path at all (read it, or found it missing). */
  knows(absolutePath: string): boolean {
    return this.#entries.has(absolutePath);
  }

  /**
   * The run's current text: the staged text, else the base text. undefined when the path is
   * unknown or known not to exist.
   */
  current(absolutePath: string): string | undefined {
    const entry = this.#entries.get(absolutePath);
    if (entry === undefined) return undefined;
    return entry.staged ?? entry.base?.text;
  }

  /** The staged text only (undefined when the file has not been edited in this run). */
  staged(absolutePath: string): string | undefined {
    return this.#entries.get(absolutePath)?.staged;
  }

  /**
   * Stages new text. The base must have been recorded first (read the file, or record it as
   * missing), otherwise there would be nothing to review the change against.
   */
  stage(absolutePath: string, text: string, target?: StagedTarget): void {
    const entry = this.#entries.get(absolutePath);
    if (entry === undefined) {
      throw new Error(`Overlay.stage: no base recorded for ${absolutePath}; read it first`);
    }
    entry.staged = text;
    if (target !== undefined) entry.target = { ...target };
  }

  /** True for files this run created (did not exist at first read, now staged). */
  isCreatedByRun(absolutePath: string): boolean {
    const entry = this.#entries.get(absolutePath);
    return entry !== undefined && entry.base === null && entry.staged !== undefined;
  }

  /** Files created by this run, so directory walks can show them although they are not on disk. */
  createdFiles(): { absolutePath: string; relativePath: string }[] {
    const created: { absolutePath: string; relativePath: string }[] = [];
    for (const [absolutePath, entry] of this.#entries) {
      if (entry.base === null && entry.staged !== undefined) {
        created.push({ absolutePath, relativePath: entry.relativePath });
      }
    }
    return created.sort((a, b) => compare(a.absolutePath, b.absolutePath));
  }

  /**
   * Files whose staged text differs from their base, new files included, sorted by path. A file
   * edited back to its original text drops out: there is nothing left to review.
   */
  changes(): StagedChange[] {
    const result: StagedChange[] = [];
    for (const [absolutePath, entry] of this.#entries) {
      if (entry.staged === undefined) continue;
      if (entry.base !== null && entry.base.text === entry.staged) continue;
      result.push({
        absolutePath,
        relativePath: entry.relativePath,
        base: entry.base === null ? null : { ...entry.base },
        text: entry.staged,
        ...(entry.target ? { root: entry.target.root, realPath: entry.target.realPath } : {}),
      });
    }
    return result.sort((a, b) => compare(a.absolutePath, b.absolutePath));
  }
}

// Code-unit order rather than localeCompare so the order is identical on every machine.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
