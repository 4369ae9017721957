import { statSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import type { SensitiveFiles } from './secrets.js';
import { walkFiles } from '../tools/walk.js';
import { isInside, WorkspaceFiles, type OpenDocuments } from './workspace-files.js';

/**
 * How a shadow copy is built from the user's tree (shadow-workspace.ts): the git plumbing, and
 * the rules for what stays out of it.
 */

export async function git(cwd: string, args: string[], signal?: AbortSignal): Promise<string> {
  const result = await execa('git', args, { cwd, cancelSignal: signal, stripFinalNewline: true, env: { GIT_TERMINAL_PROMPT: '0' } });
  return result.stdout;
}

export async function gitTopLevel(root: string): Promise<string | undefined> {
  try {
    const top = await git(root, ['rev-parse', '--show-toplevel']);
    await git(root, ['rev-parse', '--verify', '--quiet', 'HEAD']);
    return top;
  } catch {
    return undefined;
  }
}


/** Like Promise.all, but waits for every part before failing, so nothing is still writing when the copy is removed. */
export async function allSettled<T extends readonly unknown[]>(parts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(parts);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Unsaved editor text, written over the copy; returns the files written (absolute, in the copy). */
export async function writeOpenDocuments(root: string, documents: OpenDocuments, path: string, isProtected: (absolutePath: string) => boolean): Promise<string[]> {
  const written: string[] = [];
  for (const open of documents.paths?.() ?? []) {
    if (!isInside(root, open) || isProtected(open)) continue;
    const text = documents.get(open)?.text;
    if (text === undefined) continue;
    const target = join(path, relative(root, open));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
    written.push(target);
  }
  return written;
}


export async function snapshot(directory: string, signal?: AbortSignal): Promise<string> {
  await git(directory, ['add', '--all'], signal);
  return git(directory, ['write-tree'], signal);
}

/**
 * The checkout's index is HEAD with fresh stat data: only the paths written or removed since need
 * updating. `git add --all` would re-hash every file checked out within the same second (git's
 * "racily clean" entries), most of the cost of a copy of a large tree.
 */
export async function snapshotPaths(directory: string, paths: readonly string[], signal?: AbortSignal): Promise<string> {
  if (paths.length > 0) {
    await execa('git', ['update-index', '--add', '--remove', '-z', '--stdin'], { cwd: directory, cancelSignal: signal, input: paths.join('\0'), env: { GIT_TERMINAL_PROMPT: '0' } });
  }
  return git(directory, ['write-tree'], signal);
}

/** Of the given repository paths, those git does not ignore (an open buffer of an ignored file stays out of the snapshot). */
export async function withoutIgnored(directory: string, paths: readonly string[], signal?: AbortSignal): Promise<string[]> {
  if (paths.length === 0) return [];
  const result = await execa('git', ['check-ignore', '-z', '--stdin'], { cwd: directory, cancelSignal: signal, input: paths.join('\0'), reject: false });
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`git check-ignore failed: ${result.stderr}`);
  const ignored = new Set(result.stdout.split('\0').filter(Boolean));
  return paths.filter((path) => !ignored.has(path));
}

export interface Uncommitted {
  /** Tracked files that differ from HEAD (staged or not), and untracked files git does not ignore. */
  changed: string[];
  /** Files of HEAD that are gone from the user's tree (or from their index). */
  deleted: string[];
}

/**
 * What the user's tree has that HEAD does not, compared with the files (not only the index: a
 * change the user staged with `git add` counts like any other).
 */
export async function uncommittedChanges(top: string, signal?: AbortSignal): Promise<Uncommitted> {
  const [differing, untracked] = await Promise.all([
    git(top, ['diff-index', '--name-status', '--no-renames', '-z', 'HEAD', '--'], signal),
    git(top, ['ls-files', '-z', '--others', '--exclude-standard'], signal),
  ]);
  const fields = differing.split('\0').filter(Boolean);
  const changed: string[] = [];
  const deleted: string[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) (fields[index] === 'D' ? deleted : changed).push(fields[index + 1]!);
  changed.push(...untracked.split('\0').filter(Boolean));
  return { changed, deleted };
}

/** Deleted files are removed from the checkout, then changed ones copied over; returns both. */
export async function overlayUncommitted(top: string, shadow: string, uncommitted: Uncommitted, skip: (path: string) => boolean): Promise<string[]> {
  const touched: string[] = [];
  // Deletions first: a file taken out of the index (`git rm --cached`) but still on disk is both.
  for (const path of uncommitted.deleted) {
    await rm(join(shadow, path), { force: true });
    touched.push(path);
  }
  for (const path of uncommitted.changed) {
    if (skip(path)) continue;
    const source = join(top, path);
    // Only files: a submodule whose commit moved is listed too, as its directory.
    if (!isFile(source)) continue;
    const target = join(shadow, path);
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { force: true });
    await copyFile(source, target);
    touched.push(path);
  }
  return touched;
}

/**
 * Checked-out files the copy must not hold: protected by name (a committed `.env`), and tracked
 * symbolic links (git mode 120000) that in the copy lead outside it or nowhere, or whose
 * counterpart in the user's tree is excluded. A regular file from HEAD is judged by its name
 * alone: its content is HEAD's, whatever the user's tree has at that path now. Returns the
 * repository paths removed.
 */
export async function removeExcluded(top: string, shadow: string, root: string, sensitive: SensitiveFiles, excluded: (path: string) => boolean, signal?: AbortSignal): Promise<string[]> {
  const entries = (await git(shadow, ['ls-files', '-s', '-z'], signal)).split('\0').filter(Boolean);
  const inShadow = new WorkspaceFiles([shadow], { get: () => undefined });
  const removed: string[] = [];
  for (const entry of entries) {
    const path = entry.slice(entry.indexOf('\t') + 1);
    const absolute = join(top, path);
    const named = relative(isInside(root, absolute) ? root : top, absolute).split(sep).join('/');
    let stays: boolean;
    if (entry.startsWith('120000 ')) stays = inShadow.resolve(join(shadow, path)).ok && !excluded(path);
    else stays = !sensitive.isProtected(named);
    if (stays) continue;
    await rm(join(shadow, path), { force: true });
    removed.push(path);
  }
  return removed;
}

/**
 * Whether a file of the user's tree stays out of the shadow: protected by name or by what it leads
 * to (`alias.txt -> .env`), or a link that leaves the workspace or leads nowhere (copying follows
 * links, so it would copy the outside file's content in). Files inside the root are judged as the
 * tools see them; others in the same repository relative to the repository.
 */
export function excluder(root: string, top: string | undefined, sensitive: SensitiveFiles): (absolutePath: string) => boolean {
  const inRoot = new WorkspaceFiles([root], { get: () => undefined }, undefined, sensitive);
  const inRepository = top === undefined ? inRoot : new WorkspaceFiles([top], { get: () => undefined }, undefined, sensitive);
  return (absolutePath) => {
    const workspace = isInside(root, absolutePath) ? inRoot : inRepository;
    return workspace.protectedReason(absolutePath) !== undefined || workspace.realPathOf(absolutePath) === undefined;
  };
}

export async function copyWorkspace(root: string, target: string, excluded: (absolutePath: string) => boolean, signal?: AbortSignal): Promise<void> {
  const workspace = new WorkspaceFiles([root], { get: () => undefined });
  for await (const file of walkFiles({ workspace, root, start: root, signal: signal ?? new AbortController().signal })) {
    if (excluded(file.absolutePath)) continue;
    const destination = join(target, file.rootRelative);
    await mkdir(dirname(destination), { recursive: true });
    await copyFile(file.absolutePath, destination);
  }
}


export async function removeShadow(directory: string, repository: string | undefined): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  if (repository) await git(repository, ['worktree', 'prune']).catch(() => undefined);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
