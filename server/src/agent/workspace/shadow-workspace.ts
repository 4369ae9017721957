import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import { execa } from 'execa';
import type { StagedChange } from './overlay.js';
import { SensitiveFiles } from './secrets.js';
import { gitDirectoryRefusal } from '../tools/define.js';
import { isInside, WorkspaceFiles, type OpenDocuments } from './workspace-files.js';
import { findSharedDirectories, shareDirectories, type SharedDirectory } from './shared-directories.js';
import { processAlive } from '../../store/process-alive.js';
import { allSettled, copyWorkspace, excluder, git, gitTopLevel, overlayUncommitted, removeExcluded, removeShadow, snapshot, snapshotPaths, uncommittedChanges, withoutIgnored, writeOpenDocuments } from './shadow-building.js';

export interface ShadowOptions {
  /** The user's workspace root. */
  root: string;
  documents: OpenDocuments;
  /** Where shadows live: `<data dir>/shadows`. */
  shadowsDirectory: string;
  signal?: AbortSignal;
  /** Protected files are never copied in (nor left in a worktree checkout); built-ins when absent. */
  sensitive?: SensitiveFiles;
  /** Part of the directory name, after the process id that cleanStaleShadows reads (e.g. "commands"). */
  label?: string;
  /** Ignored dependency directories (names) to make available in the copy: see shared-directories.ts. */
  sharedDirectories?: readonly string[];
}

export interface ShadowChanges {
  changes: StagedChange[];
  /** Files the external agent deleted or made binary: reported, never proposed. */
  skipped: Array<{ relativePath: string; reason: string }>;
}

/** A file that differs in the copy from its start: its text there, and where it lands in the user's tree. */
export interface ChangedFile {
  absolutePath: string;
  relativePath: string;
  text: string;
  root: string;
  realPath: string;
  /** Relative to the copy's top (`directory`). */
  repositoryPath: string;
  /** Not in the starting snapshot. */
  added: boolean;
}

/**
 * A private copy of the workspace for CLI agents that edit files themselves (claude, codex). For
 * git repositories it is a worktree at HEAD with the user's uncommitted and unsaved changes laid
 * over it; otherwise a copy of the files git would not ignore, in a fresh repository. Either way
 * the starting state is snapshotted with `git write-tree`, so what the agent changed is one
 * `git diff-index` away, and the user's tree is never touched.
 */
export class ShadowWorkspace {
  /** Paths (relative to `directory`) the copy holds for commands but never reports as changed. */
  readonly #shared = new Set<string>();

  private constructor(
    /** The shadow's counterpart of the user's root (a subfolder when the root is inside a repo). */
    readonly path: string,
    /** The copy's top: the worktree (the counterpart of the repository's top), or the plain copy. */
    readonly directory: string,
    private readonly root: string,
    private readonly repository: string | undefined,
    private readonly startTree: string,
    private readonly documents: OpenDocuments,
    private readonly sensitive: SensitiveFiles,
    /** Dependency directories made available in the copy (see shared-directories.ts). */
    readonly shared: readonly SharedDirectory[] = [],
  ) {
    for (const entry of shared) this.#shared.add(entry.relativePath);
  }

  static async create(options: ShadowOptions): Promise<ShadowWorkspace> {
    const name = `${process.pid}-${options.label ? `${options.label}-` : ''}${randomUUID().slice(0, 8)}`;
    const directory = join(options.shadowsDirectory, name);
    await mkdir(options.shadowsDirectory, { recursive: true, mode: 0o700 });
    const top = await gitTopLevel(options.root);
    const sensitive = options.sensitive ?? new SensitiveFiles();
    const isProtected = excluder(options.root, top, sensitive);
    const signal = options.signal;
    try {
      let path: string;
      let startTree: string;
      let shared: string[];
      if (top) {
        // The checkout and the questions about the user's tree do not depend on each other.
        const [, uncommitted, sharedPaths] = await allSettled([
          // Files written by one worker per core: on a busy disk this halves the time of a large checkout.
          git(top, ['-c', 'checkout.workers=0', 'worktree', 'add', '--detach', '--quiet', directory, 'HEAD'], signal),
          uncommittedChanges(top, signal),
          findSharedDirectories(top, true, options.sharedDirectories ?? [], signal),
        ]);
        path = join(directory, relative(top, options.root));
        shared = sharedPaths;
        // Every path written or removed after the checkout, so that the starting snapshot only
        // looks at those instead of hashing the whole tree again.
        const touched = await overlayUncommitted(top, directory, uncommitted, (file) => isProtected(join(top, file)));
        // A committed .env is checked out with HEAD, and committed links as links (one to ~/.ssh or
        // to the user's own tree would hand out what the copy exists to keep back): out they go.
        touched.push(...(await removeExcluded(top, directory, options.root, sensitive, (file) => isProtected(join(top, file)), signal)));
        const written = await writeOpenDocuments(options.root, options.documents, path, isProtected);
        touched.push(...(await withoutIgnored(directory, written.map((file) => relative(directory, file).split(sep).join('/')), signal)));
        startTree = await snapshotPaths(directory, touched, signal);
      } else {
        await mkdir(directory, { recursive: true, mode: 0o700 });
        path = directory;
        shared = await findSharedDirectories(options.root, false, options.sharedDirectories ?? [], signal);
        // Shared directories are linked in below, not copied file by file.
        const sharedRoots = shared.map((entry) => join(options.root, entry));
        await copyWorkspace(options.root, path, (file) => isProtected(file) || sharedRoots.some((entry) => isInside(entry, file)), signal);
        await git(path, ['init', '--quiet'], signal);
        await writeOpenDocuments(options.root, options.documents, path, isProtected);
        startTree = await snapshot(directory, signal);
      }
      // After the snapshot: they are not part of the copy's files, only there for commands.
      const sharedEntries = await shareDirectories(top ?? options.root, directory, shared, signal);
      return new ShadowWorkspace(path, directory, options.root, top, startTree, options.documents, sensitive, sharedEntries);
    } catch (error) {
      await removeShadow(directory, top);
      throw error;
    }
  }

  /** What the external agent changed, as staged changes against the user's files. */
  async changes(): Promise<ShadowChanges> {
    const { files, skipped } = await this.changedFiles();
    const changes: StagedChange[] = [];
    for (const { repositoryPath, added, ...change } of files) {
      const base = added ? null : { text: await readBlob(this.directory, this.startTree, repositoryPath), version: this.documents.get(change.absolutePath)?.version ?? null };
      changes.push({ ...change, base });
    }
    return { changes, skipped };
  }

  /**
   * Files of the user's root that differ in the copy from its starting snapshot, with their text
   * in the copy, sorted by path; deleted, protected, binary and escaping ones are `skipped`.
   */
  async changedFiles(): Promise<{ files: ChangedFile[]; skipped: ShadowChanges['skipped'] }> {
    await git(this.directory, ['add', '--all']);
    const output = await git(this.directory, ['diff-index', '--cached', '--name-status', '--no-renames', '-z', this.startTree]);
    const fields = output.split('\0').filter(Boolean);
    const files: ChangedFile[] = [];
    const skipped: ShadowChanges['skipped'] = [];
    for (let index = 0; index + 1 < fields.length; index += 2) {
      const status = fields[index]!;
      const repositoryPath = fields[index + 1]!;
      if (this.#isShared(repositoryPath)) continue;
      const shadowFile = join(this.directory, repositoryPath);
      if (!isInside(this.path, shadowFile)) continue;
      const relativePath = relative(this.path, shadowFile).split(sep).join('/');
      const absolutePath = join(this.root, relativePath);
      if (this.sensitive.isProtected(relativePath)) {
        skipped.push({ relativePath, reason: 'protected file (sensitive-file policy): not proposed' });
        continue;
      }
      if (status === 'D') {
        skipped.push({ relativePath, reason: 'deleted (deletions are not proposed; delete it yourself if you agree)' });
        continue;
      }
      const escape = await this.escapeReason(shadowFile, relativePath);
      if ('reason' in escape) {
        skipped.push({ relativePath, reason: escape.reason });
        continue;
      }
      const bytes = await readFile(shadowFile);
      if (bytes.includes(0)) {
        skipped.push({ relativePath, reason: 'binary content is not proposed' });
        continue;
      }
      files.push({ absolutePath, relativePath, text: bytes.toString('utf8'), root: this.root, realPath: escape.realPath, repositoryPath, added: status === 'A' });
    }
    files.sort((a, b) => a.relativePath.localeCompare(b.relativePath));
    return { files, skipped };
  }

  /**
   * A CLI agent can create anything in its copy: a symlink to ~/.ssh, a file under .git, a name
   * that resolves outside the user's root through the user's own symlinks. None is proposed.
   */
  private async escapeReason(shadowFile: string, relativePath: string): Promise<{ reason: string } | { realPath: string }> {
    const info = await lstat(shadowFile).catch(() => undefined);
    if (!info?.isFile()) return { reason: 'symbolic links and special files are not proposed' };
    if (relativePath.split('/').some((segment) => segment === '..')) return { reason: 'it is outside the workspace' };
    // Judged in the user's tree, where the change would land: their links count, not the copy's.
    const workspace = new WorkspaceFiles([this.root], { get: () => undefined }, undefined, this.sensitive);
    const target = workspace.resolve(relativePath);
    if (!target.ok) return { reason: target.error };
    if (target.absolutePath !== join(this.root, relativePath)) return { reason: 'it resolves outside the workspace' };
    const refusal = gitDirectoryRefusal(target.relativePath, target.realRelativePath) ?? workspace.protectedReason(target.absolutePath) ?? workspace.writeRefusal(target.realPath);
    if (refusal !== undefined) return { reason: refusal };
    return { realPath: target.realPath };
  }

  #isShared(repositoryPath: string): boolean {
    for (let path = repositoryPath; path !== '.' && path !== ''; path = posix.dirname(path)) {
      if (this.#shared.has(path)) return true;
    }
    return false;
  }

  async dispose(): Promise<void> {
    await removeShadow(this.directory, this.repository);
  }
}

async function readBlob(cwd: string, tree: string, path: string): Promise<string> {
  // execa would strip the final newline; the exact bytes matter for the diff.
  const result = await execa('git', ['cat-file', 'blob', `${tree}:${path}`], { cwd, stripFinalNewline: false, encoding: 'utf8' });
  return result.stdout;
}


/**
 * Removes shadows whose process is gone (a crash or kill -9 mid-run), and prunes their worktree
 * records from the user's repository. Called at start-up.
 */
export async function cleanStaleShadows(shadowsDirectory: string): Promise<number> {
  if (!existsSync(shadowsDirectory)) return 0;
  let removed = 0;
  for (const name of readdirSync(shadowsDirectory)) {
    const pid = Number(name.split('-')[0]);
    if (!Number.isInteger(pid) || processAlive(pid)) continue;
    const directory = join(shadowsDirectory, name);
    let repository: string | undefined;
    try {
      // A worktree's .git file names its repository: "gitdir: /repo/.git/worktrees/<name>".
      const pointer = /^gitdir: (.+)$/m.exec(readFileSync(join(directory, '.git'), 'utf8'))?.[1];
      if (pointer) repository = dirname(dirname(dirname(pointer.trim())));
    } catch {
      // Not a worktree (a plain copy), or already half gone.
    }
    await removeShadow(directory, repository);
    removed++;
  }
  return removed;
}
