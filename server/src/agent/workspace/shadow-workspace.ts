import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import type { StagedChange } from './overlay.js';
import { SensitiveFiles } from './secrets.js';
import { gitDirectoryRefusal } from '../tools/define.js';
import { walkFiles } from '../tools/walk.js';
import { isInside, WorkspaceFiles, type OpenDocuments } from './workspace-files.js';

export interface ShadowOptions {
  /** The user's workspace root. */
  root: string;
  documents: OpenDocuments;
  /** Where shadows live: `<data dir>/shadows`. */
  shadowsDirectory: string;
  signal?: AbortSignal;
  /** Protected files are never copied in (nor left in a worktree checkout); built-ins when absent. */
  sensitive?: SensitiveFiles;
}

export interface ShadowChanges {
  changes: StagedChange[];
  /** Files the external agent deleted or made binary: reported, never proposed. */
  skipped: Array<{ relativePath: string; reason: string }>;
}

async function git(cwd: string, args: string[], signal?: AbortSignal): Promise<string> {
  const result = await execa('git', args, { cwd, cancelSignal: signal, stripFinalNewline: true, env: { GIT_TERMINAL_PROMPT: '0' } });
  return result.stdout;
}

async function gitTopLevel(root: string): Promise<string | undefined> {
  try {
    const top = await git(root, ['rev-parse', '--show-toplevel']);
    await git(root, ['rev-parse', '--verify', '--quiet', 'HEAD']);
    return top;
  } catch {
    return undefined;
  }
}

/**
 * A private copy of the workspace for CLI agents that edit files themselves (claude, codex). For
 * git repositories it is a worktree at HEAD with the user's uncommitted and unsaved changes laid
 * over it; otherwise a copy of the files git would not ignore, in a fresh repository. Either way
 * the starting state is snapshotted with `git write-tree`, so what the agent changed is one
 * `git diff-index` away, and the user's tree is never touched.
 */
export class ShadowWorkspace {
  private constructor(
    /** The shadow's counterpart of the user's root (a subfolder when the root is inside a repo). */
    readonly path: string,
    private readonly directory: string,
    private readonly root: string,
    private readonly repository: string | undefined,
    private readonly startTree: string,
    private readonly documents: OpenDocuments,
    private readonly sensitive: SensitiveFiles,
  ) {}

  static async create(options: ShadowOptions): Promise<ShadowWorkspace> {
    const directory = join(options.shadowsDirectory, `${process.pid}-${randomUUID().slice(0, 8)}`);
    await mkdir(options.shadowsDirectory, { recursive: true, mode: 0o700 });
    const top = await gitTopLevel(options.root);
    const sensitive = options.sensitive ?? new SensitiveFiles();
    const isProtected = excluder(options.root, top, sensitive);
    try {
      let path: string;
      if (top) {
        await git(top, ['worktree', 'add', '--detach', '--quiet', directory, 'HEAD'], options.signal);
        path = join(directory, relative(top, options.root));
        await overlayUncommitted(top, directory, (file) => isProtected(join(top, file)), options.signal);
        // A committed .env is checked out with HEAD: take it out before the starting snapshot.
        await removeProtected(top, directory, (file) => isProtected(join(top, file)), options.signal);
        // Committed links are checked out as links: one to ~/.ssh or to the user's own tree would
        // hand the CLI agent what the copy exists to keep from it.
        await removeEscapingLinks(top, directory, (file) => isProtected(join(top, file)), options.signal);
      } else {
        await mkdir(directory, { recursive: true, mode: 0o700 });
        path = directory;
        await copyWorkspace(options.root, path, isProtected, options.signal);
        await git(path, ['init', '--quiet'], options.signal);
      }
      for (const open of options.documents.paths?.() ?? []) {
        if (!isInside(options.root, open) || isProtected(open)) continue;
        const text = options.documents.get(open)?.text;
        if (text === undefined) continue;
        const target = join(path, relative(options.root, open));
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, text);
      }
      const startTree = await snapshot(directory, options.signal);
      return new ShadowWorkspace(path, directory, options.root, top, startTree, options.documents, sensitive);
    } catch (error) {
      await removeShadow(directory, top);
      throw error;
    }
  }

  /** What the external agent changed, as staged changes against the user's files. */
  async changes(): Promise<ShadowChanges> {
    await git(this.directory, ['add', '--all']);
    const output = await git(this.directory, ['diff-index', '--cached', '--name-status', '--no-renames', '-z', this.startTree]);
    const fields = output.split('\0').filter(Boolean);
    const changes: StagedChange[] = [];
    const skipped: ShadowChanges['skipped'] = [];
    for (let index = 0; index + 1 < fields.length; index += 2) {
      const status = fields[index]!;
      const repositoryPath = fields[index + 1]!;
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
      const where = { root: this.root, realPath: escape.realPath };
      const bytes = await readFile(shadowFile);
      if (bytes.includes(0)) {
        skipped.push({ relativePath, reason: 'binary content is not proposed' });
        continue;
      }
      const text = bytes.toString('utf8');
      if (status === 'A') {
        changes.push({ absolutePath, relativePath, base: null, text, ...where });
        continue;
      }
      const base = await readBlob(this.directory, this.startTree, repositoryPath);
      changes.push({ absolutePath, relativePath, base: { text: base, version: this.documents.get(absolutePath)?.version ?? null }, text, ...where });
    }
    changes.sort((a, b) => a.relativePath.localeCompare(b.relativePath));
    return { changes, skipped };
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

  async dispose(): Promise<void> {
    await removeShadow(this.directory, this.repository);
  }
}

async function readBlob(cwd: string, tree: string, path: string): Promise<string> {
  // execa would strip the final newline; the exact bytes matter for the diff.
  const result = await execa('git', ['cat-file', 'blob', `${tree}:${path}`], { cwd, stripFinalNewline: false, encoding: 'utf8' });
  return result.stdout;
}

async function snapshot(directory: string, signal?: AbortSignal): Promise<string> {
  await git(directory, ['add', '--all'], signal);
  return git(directory, ['write-tree'], signal);
}

/** Modified and untracked (not ignored) files are copied over; deleted ones removed. */
async function overlayUncommitted(top: string, shadow: string, skip: (path: string) => boolean, signal?: AbortSignal): Promise<void> {
  const changed = (await git(top, ['ls-files', '-z', '--modified', '--others', '--exclude-standard'], signal)).split('\0').filter(Boolean);
  const deleted = new Set((await git(top, ['ls-files', '-z', '--deleted'], signal)).split('\0').filter(Boolean));
  for (const path of changed) {
    if (deleted.has(path) || skip(path)) continue;
    const target = join(shadow, path);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(top, path), target);
  }
  for (const path of deleted) await rm(join(shadow, path), { force: true });
}

/** Tracked files the policy protects, deleted from the worktree (paths relative to the repository). */
async function removeProtected(top: string, shadow: string, isProtected: (path: string) => boolean, signal?: AbortSignal): Promise<void> {
  const tracked = (await git(top, ['ls-files', '-z'], signal)).split('\0').filter(Boolean);
  for (const path of tracked) if (isProtected(path)) await rm(join(shadow, path), { force: true });
}

/**
 * Whether a file of the user's tree stays out of the shadow: protected by name or by what it leads
 * to (`alias.txt -> .env`), or a link that leaves the workspace or leads nowhere (copying follows
 * links, so it would copy the outside file's content in). Files inside the root are judged as the
 * tools see them; others in the same repository relative to the repository.
 */
function excluder(root: string, top: string | undefined, sensitive: SensitiveFiles): (absolutePath: string) => boolean {
  const inRoot = new WorkspaceFiles([root], { get: () => undefined }, undefined, sensitive);
  const inRepository = top === undefined ? inRoot : new WorkspaceFiles([top], { get: () => undefined }, undefined, sensitive);
  return (absolutePath) => {
    const workspace = isInside(root, absolutePath) ? inRoot : inRepository;
    return workspace.protectedReason(absolutePath) !== undefined || workspace.realPathOf(absolutePath) === undefined;
  };
}

/**
 * Tracked symbolic links (git mode 120000) that, in the shadow, lead outside it or nowhere, or whose
 * counterpart in the user's tree is excluded. Removed before the starting snapshot, so they are
 * not reported as deletions.
 */
async function removeEscapingLinks(top: string, shadow: string, excluded: (path: string) => boolean, signal?: AbortSignal): Promise<void> {
  const entries = (await git(shadow, ['ls-files', '-s', '-z'], signal)).split('\0').filter(Boolean);
  const inShadow = new WorkspaceFiles([shadow], { get: () => undefined });
  for (const entry of entries) {
    if (!entry.startsWith('120000 ')) continue;
    const path = entry.slice(entry.indexOf('\t') + 1);
    const link = join(shadow, path);
    const stays = inShadow.resolve(link).ok && !excluded(path);
    if (!stays) await rm(link, { force: true });
  }
}

async function copyWorkspace(root: string, target: string, excluded: (absolutePath: string) => boolean, signal?: AbortSignal): Promise<void> {
  const workspace = new WorkspaceFiles([root], { get: () => undefined });
  for await (const file of walkFiles({ workspace, root, start: root, signal: signal ?? new AbortController().signal })) {
    if (excluded(file.absolutePath)) continue;
    const destination = join(target, file.rootRelative);
    await mkdir(dirname(destination), { recursive: true });
    await copyFile(file.absolutePath, destination);
  }
}

async function removeShadow(directory: string, repository: string | undefined): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  if (repository) await git(repository, ['worktree', 'prune']).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
    if (!Number.isInteger(pid) || alive(pid)) continue;
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
