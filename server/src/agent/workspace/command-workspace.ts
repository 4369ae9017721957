import { createHash } from 'node:crypto';
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stagingRefusal } from '../tools/define.js';
import type { CommandChanges, CommandCopy } from '../tools/types.js';
import { DEFAULT_SHARED_DIRECTORIES } from './shared-directories.js';
import { ShadowWorkspace } from './shadow-workspace.js';
import { isInside, type OpenDocuments, type WorkspaceFiles } from './workspace-files.js';

export interface CommandWorkspaceOptions {
  /** The run's view of the workspace: its roots, its overlay of staged edits, its sensitive-file policy. */
  workspace: WorkspaceFiles;
  documents: OpenDocuments;
  /** `<data dir>/shadows`, where cleanStaleShadows finds what a crashed process left. */
  shadowsDirectory: string;
  /** Names added to DEFAULT_SHARED_DIRECTORIES (config `commands.sharedDirectories`). */
  sharedDirectories?: readonly string[];
}

export type { CommandChanges };

/**
 * One run's private copy of the workspace for run_command: the user's files as the CLI agents'
 * shadow copy has them (HEAD, uncommitted changes, unsaved buffers; protected files left out)
 * plus this run's staged edits, so that tests run against the change before it is proposed.
 *
 * Created at the first command (one copy per workspace root a command runs in), brought up to
 * date before each command by writing only the files whose staged text changed since the last
 * sync, and removed by `dispose` when the run ends. What a command changes in the copy comes back
 * as staged edits (`collectChanges`).
 */
export class CommandWorkspace implements CommandCopy {
  readonly #copies = new Map<string, Promise<ShadowWorkspace>>();
  /**
   * For each user file the copy was given a text for (a staged edit, or a command's change taken
   * back): a hash of that text, null when it was removed. Syncing compares against this.
   */
  readonly #written = new Map<string, string | null>();
  #disposing: Promise<void> | undefined;

  constructor(private readonly options: CommandWorkspaceOptions) {}

  /** Every directory name shared into the copy: the defaults and the configured ones. */
  get sharedDirectoryNames(): string[] {
    return [...new Set([...DEFAULT_SHARED_DIRECTORIES, ...(this.options.sharedDirectories ?? [])])];
  }

  /**
   * The copy of `root` (by default the first root), created the first time it is asked for.
   * Starting it does not wait for anything else: run_command starts it while the user is asked.
   */
  prepare(signal: AbortSignal, root = this.options.workspace.roots[0]!): Promise<ShadowWorkspace> {
    if (this.#disposing) return Promise.reject(new Error('the run has ended; its private copy is gone'));
    let copy = this.#copies.get(root);
    if (copy === undefined) {
      copy = ShadowWorkspace.create({
        root,
        documents: this.options.documents,
        shadowsDirectory: this.options.shadowsDirectory,
        signal,
        sensitive: this.options.workspace.sensitive,
        label: 'commands',
        sharedDirectories: this.sharedDirectoryNames,
      });
      this.#copies.set(root, copy);
      // A failed or cancelled creation is not kept: the next command tries again.
      copy.catch(() => {
        if (this.#copies.get(root) === copy) this.#copies.delete(root);
      });
    }
    return copy;
  }

  /** Where a directory of the user's tree (inside `root`) is in its copy; created there if the copy lacks it (an empty or ignored one). */
  async directoryFor(root: string, absolutePath: string, signal: AbortSignal): Promise<string> {
    const copy = await this.prepare(signal, root);
    const target = path.join(copy.path, path.relative(root, absolutePath));
    if (!existsSync(target)) await mkdir(target, { recursive: true });
    return target;
  }

  /** Writes into every copy the staged edits it does not have yet (and restores files edited back to their base). */
  async sync(): Promise<void> {
    const overlay = this.options.workspace.overlay;
    const changes = overlay.changes();
    for (const [root, pending] of this.#copies) {
      const copy = await pending;
      const current = new Set<string>();
      for (const change of changes) {
        if (!isInside(root, change.absolutePath)) continue;
        current.add(change.absolutePath);
        await this.#put(copy, root, change.absolutePath, change.realPath, change.text);
      }
      // Edited back to the base text: no longer a change, but the copy still holds the edit.
      for (const absolutePath of [...this.#written.keys()]) {
        if (current.has(absolutePath) || !isInside(root, absolutePath)) continue;
        await this.#put(copy, root, absolutePath, undefined, overlay.current(absolutePath) ?? null);
      }
    }
  }

  /**
   * Files a command changed in the copy that the user could review (tracked or new, not ignored,
   * inside a root), staged as edits of the run the way edit_file and write_file stage them.
   * Ignored outputs are never looked at; deletions are reported, not staged (a proposal holds
   * no deletions).
   */
  async collectChanges(): Promise<CommandChanges> {
    const staged: string[] = [];
    const skipped: CommandChanges['skipped'] = [];
    for (const [root, pending] of this.#copies) {
      const copy = await pending;
      const { files, skipped: notProposed } = await copy.changedFiles();
      const seen = new Set<string>();
      for (const file of files) {
        seen.add(file.absolutePath);
        if (this.#written.get(file.absolutePath) === hash(file.text)) continue;
        const refusal = await this.#stage(file.absolutePath, file.text);
        if (refusal === undefined) staged.push(file.relativePath);
        else skipped.push({ relativePath: file.relativePath, reason: refusal });
      }
      for (const entry of notProposed) {
        const absolutePath = path.join(root, entry.relativePath);
        seen.add(absolutePath);
        // Removed by a sync (never by the command): nothing to say.
        if (this.#written.get(absolutePath) === null) continue;
        skipped.push(entry);
      }
      // A file the copy was given that the command put back to its starting text is no longer in
      // the diff against the start, but it did change.
      for (const [absolutePath, written] of this.#written) {
        if (seen.has(absolutePath) || written === null || !isInside(root, absolutePath)) continue;
        const relativePath = this.options.workspace.relativePath(absolutePath);
        const text = await readFile(path.join(copy.path, path.relative(root, absolutePath)), 'utf8').catch(() => undefined);
        if (text === undefined) skipped.push({ relativePath, reason: 'deleted (deletions are not proposed; delete it yourself if you agree)' });
        else if (hash(text) !== written) {
          const refusal = await this.#stage(absolutePath, text);
          if (refusal === undefined) staged.push(relativePath);
          else skipped.push({ relativePath, reason: refusal });
        }
      }
    }
    return { staged: staged.sort(), skipped };
  }

  /** Removes every copy (and its worktree entry). Waits for a copy still being made. */
  /** Whether any copy was started (a run without commands has nothing to remove). */
  get started(): boolean {
    return this.#copies.size > 0;
  }

  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      const copies = await Promise.allSettled(this.#copies.values());
      for (const copy of copies) if (copy.status === 'fulfilled') await copy.value.dispose();
    })();
    return this.#disposing;
  }

  /** Stages a command's text for a user file; the reason when it may not be staged. */
  async #stage(absolutePath: string, text: string): Promise<string | undefined> {
    const workspace = this.options.workspace;
    const target = workspace.resolve(absolutePath);
    if (!target.ok) return target.error;
    const refusal = stagingRefusal(workspace, target);
    if (refusal !== undefined) return refusal;
    // Records the base the proposal is reviewed against, as reading it with read_file would.
    const content = await workspace.read(target.absolutePath);
    if (content.kind === 'directory') return 'it is a directory in the workspace';
    if (content.kind === 'unreadable') return content.reason;
    workspace.overlay.stage(target.absolutePath, text, { root: target.root, realPath: target.realPath });
    this.#written.set(absolutePath, hash(text));
    return undefined;
  }

  /** Gives the copy a user file's text (null: remove it), unless it already has exactly that. */
  async #put(copy: ShadowWorkspace, root: string, absolutePath: string, realPath: string | undefined, text: string | null): Promise<void> {
    const digest = text === null ? null : hash(text);
    if (this.#written.has(absolutePath) && this.#written.get(absolutePath) === digest) return;
    // Where the staged path really leads in the user's tree, so a tracked link in the copy is not written through.
    const relative = path.relative(root, realPath ?? absolutePath);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return;
    if (this.options.workspace.sensitive.isProtected(relative.split(path.sep).join('/'))) return;
    const target = path.join(copy.path, relative);
    // Never through a link out of the copy: a shared node_modules is the user's own directory.
    if (!insideCopy(copy.directory, path.dirname(target))) return;
    if (text === null) {
      await rm(target, { force: true });
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      if (isLink(target)) await rm(target, { force: true });
      await writeFile(target, text);
    }
    this.#written.set(absolutePath, digest);
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** Whether a directory (or, when missing, its nearest existing ancestor) really is inside the copy. */
function insideCopy(directory: string, target: string): boolean {
  let probe = target;
  while (!existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  try {
    return isInside(realpathSync(directory), realpathSync(probe));
  } catch {
    return false;
  }
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
