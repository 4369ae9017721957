import { lstatSync, realpathSync, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeText, formatBytes, readRegularFile } from './file-text.js';
import { Overlay } from './overlay.js';
import { SensitiveFiles } from './secrets.js';
import { expansionIn, isInside, isMissingError } from './path-checks.js';

/** Unsaved editor buffers; the LSP layer implements this over its open documents. */
export interface OpenDocuments {
  get(absolutePath: string): { text: string; version: number } | undefined;
  /** Paths of all open documents (for copying unsaved text into a CLI's shadow workspace). */
  paths?(): string[];
  /**
   * Asks the editor for a file's current text when open documents are not mirrored here (ACP's
   * fs/read_text_file). Used for the files the agent reads or edits, not for whole-tree searches.
   */
  read?(absolutePath: string): Promise<{ text: string; version: number | null } | undefined>;
}

export type ResolvedPath =
  | {
      ok: true;
      absolutePath: string;
      relativePath: string;
      root: string;
      /**
       * What the path names once every symlink in it is followed, spelled under `root` (equal to
       * `absolutePath` when no link is involved). Boundary checks (.git, protected files) judge
       * this as well as the path as written: `gl/config` with `gl -> .git` is `.git/config`.
       */
      realPath: string;
      realRelativePath: string;
    }
  | { ok: false; error: string };

/** What a read found. `reason` in `unreadable` is written for the model. */
export type FileContent =
  | { kind: 'text'; text: string; source: 'staged' | 'document' | 'disk' }
  | { kind: 'missing' }
  | { kind: 'directory' }
  /** `bytes` is set when the file was refused for its size; `protected` for a sensitive file. */
  | { kind: 'unreadable'; reason: string; bytes?: number; protected?: boolean };

export { decodeText, formatBytes } from './file-text.js';
export { expansionIn, isInside } from './path-checks.js';

/** Larger files are not treated as text: reading them would bloat both memory and the prompt. */
export const MAX_TEXT_FILE_BYTES = 10 * 1024 * 1024;

/**
 * The agent's only door to the workspace: path resolution that refuses escapes, and reads that
 * prefer the run's overlay, then unsaved editor text, then disk. Nothing here writes.
 */
export class WorkspaceFiles {
  readonly roots: readonly string[];
  readonly overlay: Overlay;
  readonly #documents: OpenDocuments;
  readonly #realRoots = new Map<string, string>();
  /** Files whose content the agent never reads (agent/workspace/secrets.ts); the built-in list by default. */
  readonly sensitive: SensitiveFiles;

  constructor(roots: string[], documents: OpenDocuments, overlay: Overlay = new Overlay(), sensitive: SensitiveFiles = new SensitiveFiles()) {
    if (roots.length === 0) throw new Error('WorkspaceFiles needs at least one root');
    this.roots = roots.map((root) => path.resolve(root));
    this.#documents = documents;
    this.overlay = overlay;
    this.sensitive = sensitive;
  }

  /**
   * Why the agent may not see this file, written for the model; undefined when it may. The name
   * and what it names once symlinks are followed are both judged: `alias.txt -> .env` and
   * `d/config` with `d -> .ssh` are as protected as the files they reach.
   */
  protectedReason(absolutePath: string): string | undefined {
    const byName = this.sensitive.reason(this.relativePath(absolutePath));
    if (byName !== undefined) return byName;
    const real = this.realPathOf(absolutePath);
    if (real === undefined || real === absolutePath) return undefined;
    const pattern = this.sensitive.match(this.relativePath(real));
    if (pattern === undefined) return undefined;
    return `${this.relativePath(absolutePath)} leads through a symbolic link to ${this.relativePath(real)}, a protected file (it matches the sensitive-file pattern "${pattern}"): its content is never read or changed by the agent or sent to the model. Do not try to read it another way; if the task needs a value from it, ask the user.`;
  }

  /**
   * What an absolute path inside a root names once symlinks are followed (see `resolve`), or
   * undefined when it is outside every root or cannot be resolved (dangling, escaping link).
   */
  realPathOf(absolutePath: string): string | undefined {
    const located = this.#locateAbsolute(absolutePath);
    if (located === undefined) return undefined;
    const real = this.#checkRealPath(located.absolutePath, located.root, absolutePath);
    return 'error' in real ? undefined : real.realPath;
  }

  /**
   * Accepts a workspace-relative path (relative to the first root where it exists; in multi-root
   * workspaces a path may start with another root's folder name, which is how `relativePath`
   * names files there), an absolute path inside a root, or a file:// URI.
   */
  resolve(input: string): ResolvedPath {
    let raw = input.trim();
    if (raw.includes('\0')) return { ok: false, error: `path ${JSON.stringify(input)} contains a NUL character` };
    if (raw.startsWith('file://')) {
      try {
        raw = fileURLToPath(raw);
      } catch {
        return { ok: false, error: `path ${input} is not a valid file URI; use a workspace-relative path` };
      }
    }
    // Nothing here expands `~` or variables; a model that writes them means a place we cannot check.
    const expansion = expansionIn(raw);
    if (expansion !== undefined) {
      return { ok: false, error: `path ${input} uses ${expansion}, which is not expanded here; give a path relative to the workspace root instead` };
    }
    const located = path.isAbsolute(raw) ? this.#locateAbsolute(raw) : this.#locateRelative(raw);
    if (located === undefined) return { ok: false, error: this.#outsideMessage(input) };

    const { absolutePath, root } = located;
    const real = this.#checkRealPath(absolutePath, root, input);
    if ('error' in real) return { ok: false, error: real.error };
    return { ok: true, absolutePath, root, relativePath: this.relativePath(absolutePath), realPath: real.realPath, realRelativePath: this.relativePath(real.realPath) };
  }

  /** Workspace-relative display path with '/' separators; the root itself is '.'. */
  relativePath(absolutePath: string): string {
    const index = this.roots.findIndex((root) => isInside(root, absolutePath));
    if (index === -1) return absolutePath;
    const root = this.roots[index]!;
    const relative = path.relative(root, absolutePath).split(path.sep).join('/');
    if (index === 0 || this.roots.length === 1) return relative === '' ? '.' : relative;
    const prefix = path.basename(root);
    return relative === '' ? prefix : `${prefix}/${relative}`;
  }

  /**
   * The run's view of a file. The first read of a file records its base snapshot in the overlay
   * (`record: false` lets searches peek without pinning every file they touch). `maxBytes` lowers
   * the size limit for files read from disk.
   */
  async read(absolutePath: string, options: { record?: boolean; maxBytes?: number } = {}): Promise<FileContent> {
    const record = options.record ?? true;
    const maxBytes = Math.min(options.maxBytes ?? MAX_TEXT_FILE_BYTES, MAX_TEXT_FILE_BYTES);
    // Every tool reads through here, so a protected file's content cannot leak by any path.
    const protection = this.protectedReason(absolutePath);
    if (protection !== undefined && !(await isDirectory(absolutePath))) return { kind: 'unreadable', reason: protection, protected: true };
    const known = this.#fromOverlay(absolutePath);
    if (known !== undefined) return known;
    // Judged now, not when the caller resolved it: a link may have been swapped in since.
    const realPath = this.realPathOf(absolutePath);
    if (realPath === undefined) return { kind: 'unreadable', reason: 'it resolves through a symbolic link to a place outside the workspace (or to nothing)' };

    const document = this.#documents.get(absolutePath) ?? (record && this.#documents.read ? await this.#documents.read(absolutePath) : undefined);
    if (document !== undefined) {
      if (!record) return { kind: 'text', text: document.text, source: 'document' };
      this.overlay.recordBase(absolutePath, this.relativePath(absolutePath), {
        text: document.text,
        version: document.version,
      });
      return this.#fromOverlay(absolutePath)!;
    }

    let info;
    try {
      info = await stat(realPath);
    } catch (error) {
      if (!isMissingError(error)) throw error;
      if (!record) return { kind: 'missing' };
      this.overlay.recordBase(absolutePath, this.relativePath(absolutePath), null);
      return this.#fromOverlay(absolutePath)!;
    }
    if (info.isDirectory()) return { kind: 'directory' };
    // FIFOs and devices would block or never end; refuse before opening them.
    if (!info.isFile()) return { kind: 'unreadable', reason: 'it is not a regular file' };
    if (info.size > maxBytes) {
      return {
        kind: 'unreadable',
        bytes: info.size,
        reason: `it is ${formatBytes(info.size)}, over the ${formatBytes(maxBytes)} limit for text files`,
      };
    }

    const bytes = await readRegularFile(realPath, maxBytes);
    if (!(bytes instanceof Uint8Array)) return bytes;
    const decoded = decodeText(bytes);
    if (typeof decoded !== 'string') return decoded;
    if (!record) return { kind: 'text', text: decoded, source: 'disk' };
    // A concurrent read may have recorded first; recordBase keeps that one and we return it.
    this.overlay.recordBase(absolutePath, this.relativePath(absolutePath), { text: decoded, version: null });
    return this.#fromOverlay(absolutePath)!;
  }

  /** Overlay first, then open document (unsaved text), then disk; undefined if there is no text. */
  async readText(absolutePath: string): Promise<string | undefined> {
    const content = await this.read(absolutePath);
    return content.kind === 'text' ? content.text : undefined;
  }

  #fromOverlay(absolutePath: string): FileContent | undefined {
    if (!this.overlay.knows(absolutePath)) return undefined;
    const text = this.overlay.current(absolutePath);
    if (text === undefined) return { kind: 'missing' };
    if (this.overlay.staged(absolutePath) !== undefined) return { kind: 'text', text, source: 'staged' };
    return { kind: 'text', text, source: this.overlay.base(absolutePath)?.version == null ? 'disk' : 'document' };
  }

  #locateAbsolute(raw: string): { absolutePath: string; root: string } | undefined {
    const absolutePath = path.resolve(raw);
    const root = this.roots.find((candidate) => isInside(candidate, absolutePath));
    if (root !== undefined) return { absolutePath, root };
    // The model may have seen the real path of a symlinked root (e.g. /private/tmp on macOS).
    for (const candidate of this.roots) {
      const real = this.#realRoot(candidate);
      if (real !== candidate && isInside(real, absolutePath)) {
        return { absolutePath: path.join(candidate, path.relative(real, absolutePath)), root: candidate };
      }
    }
    return undefined;
  }

  #locateRelative(raw: string): { absolutePath: string; root: string } | undefined {
    const normalized = path.normalize(raw === '' ? '.' : raw);
    if (normalized === '..' || normalized.startsWith(`..${path.sep}`)) return undefined;

    const direct = this.roots.map((root) => ({ root, absolutePath: path.join(root, normalized) }));
    const [first, ...rest] = normalized.split(path.sep);
    const prefixed = this.roots
      .slice(1)
      .filter((root) => path.basename(root) === first)
      .map((root) => ({ root, absolutePath: path.join(root, ...rest) }));
    const candidates = [direct[0]!, ...prefixed, ...direct.slice(1)];
    return (
      candidates.find((candidate) => existsSync(candidate.absolutePath)) ?? prefixed[0] ?? direct[0]!
    );
  }

  /**
   * Lexical checks miss symlinks, so the nearest existing ancestor's real path must also be inside
   * the root; this covers not-yet-existing files under a symlinked directory too. Returns what the
   * path really names, mapped back under `root` (the root itself may be reached through a link).
   */
  #checkRealPath(absolutePath: string, root: string, input: string): { realPath: string } | { error: string } {
    let probe = absolutePath;
    for (;;) {
      try {
        lstatSync(probe);
      } catch (error) {
        if (!isMissingError(error)) {
          return { error: `path ${input} cannot be accessed (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
        }
        const parent = path.dirname(probe);
        if (parent === probe) return { realPath: absolutePath };
        probe = parent;
        continue;
      }
      let real: string;
      try {
        real = realpathSync(probe);
      } catch {
        // A dangling link: a later write would land wherever it points, so refuse it.
        return { error: `path ${input} goes through a symbolic link (${this.relativePath(probe)}) whose target does not exist; use a path inside the workspace (${root})` };
      }
      const realRoot = this.#realRoot(root);
      const rest = path.relative(probe, absolutePath);
      if (isInside(realRoot, real)) return { realPath: path.join(root, path.relative(realRoot, real), rest) };
      // On a case-insensitive file system (macOS, Windows) realpath may keep the spelling it was given.
      if (this.#caseInsensitive(root) && isInside(realRoot.toLowerCase(), real.toLowerCase())) {
        return { realPath: path.join(root, real.slice(realRoot.length), rest) };
      }
      return { error: `path ${input} is outside the workspace (${root}): it resolves through a symbolic link to ${real}; use a path inside it` };
    }
  }

  /**
   * Editing a file with several hard links changes every name of it, and the other names may be
   * outside the workspace: such files are read-only to the agent. Undefined when writing is fine.
   */
  writeRefusal(absolutePath: string): string | undefined {
    try {
      const info = lstatSync(absolutePath);
      if (info.isFile() && info.nlink > 1) {
        return `${this.relativePath(absolutePath)} has ${info.nlink} hard links; changing it would also change the other names, which may be outside the workspace, so the agent does not edit it.`;
      }
    } catch {
      // Missing: a new file has no other names.
    }
    return undefined;
  }

  readonly #caseFolding = new Map<string, boolean>();

  /** Detected once per root: the root spelled in another case names the same directory. */
  #caseInsensitive(root: string): boolean {
    let folding = this.#caseFolding.get(root);
    if (folding === undefined) {
      const real = this.#realRoot(root);
      const swapped = real.replace(/[a-zA-Z]/g, (char) => (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase()));
      try {
        const a = lstatSync(real);
        const b = lstatSync(swapped);
        folding = swapped !== real && a.ino === b.ino && a.dev === b.dev;
      } catch {
        folding = false;
      }
      this.#caseFolding.set(root, folding);
    }
    return folding;
  }

  #realRoot(root: string): string {
    let real = this.#realRoots.get(root);
    if (real === undefined) {
      try {
        real = realpathSync(root);
      } catch {
        real = root;
      }
      this.#realRoots.set(root, real);
    }
    return real;
  }

  #outsideMessage(input: string): string {
    const where = this.roots.length === 1 ? this.roots[0]! : this.roots.join(', ');
    return `path ${input} is outside the workspace (${where}); use a path inside it`;
  }
}

async function isDirectory(absolutePath: string): Promise<boolean> {
  return stat(absolutePath).then((info) => info.isDirectory(), () => false);
}
