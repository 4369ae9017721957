import { constants, lstatSync, mkdirSync, openSync, closeSync, fstatSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ProposalFile } from './proposal.js';
import { SensitiveFiles } from '../workspace/secrets.js';
import { gitDirectoryRefusal } from '../tools/define.js';
import { WorkspaceFiles } from '../workspace/workspace-files.js';

/**
 * The boundary again at apply time. Paths were checked when the agent staged them, but the tree can
 * change before the user accepts (a `dir/` replaced by a link to `~/.ssh`, a file by a link to
 * `.git/config`), so every path is resolved once more and the write itself never follows a link.
 */

/** Where an accepted file is really written: its root and its path with every link followed. */
export interface ApplyTarget {
  root: string;
  realPath: string;
}

export type ApplyCheck = { ok: true; targets: Map<string, ApplyTarget> } | { ok: false; reason: string };

/**
 * Re-resolves every file of a proposal; the first refusal names the file and why, and nothing is
 * applied. Refused: outside the root (also through a link), inside .git as written or as resolved,
 * a link to a protected file, a path that leads somewhere else than when it was staged, several
 * hard links, something other than a regular file, two names of one file.
 */
export function checkApplyPaths(files: readonly ProposalFile[], sensitive: SensitiveFiles = new SensitiveFiles()): ApplyCheck {
  const workspaces = new Map<string, WorkspaceFiles>();
  const targets = new Map<string, ApplyTarget>();
  const owners = new Map<string, string>();
  for (const file of files) {
    const refuse = (why: string): ApplyCheck => ({ ok: false, reason: `refused ${file.relativePath}: ${why}` });
    const root = file.root ?? rootOf(file);
    if (root === undefined) return refuse('cannot tell which workspace folder it belongs to');
    let workspace = workspaces.get(root);
    if (workspace === undefined) {
      workspace = new WorkspaceFiles([root], { get: () => undefined }, undefined, sensitive);
      workspaces.set(root, workspace);
    }
    const resolved = workspace.resolve(file.absolutePath);
    if (!resolved.ok) return refuse(resolved.error);
    const git = gitDirectoryRefusal(resolved.relativePath, resolved.realRelativePath);
    if (git !== undefined) return refuse(git);
    if (file.realPath !== undefined && resolved.realPath !== file.realPath) {
      return refuse(`it now leads through a symbolic link to ${resolved.realRelativePath}, not to ${workspace.relativePath(file.realPath)} as when the change was made`);
    }
    // With a staged record the name was judged by the run's own policy; without one, judge it here.
    const linked = resolved.realPath !== resolved.absolutePath;
    if (linked || file.realPath === undefined) {
      const protection = workspace.protectedReason(resolved.absolutePath);
      if (protection !== undefined) return refuse(protection);
    }
    const hardLinks = workspace.writeRefusal(resolved.realPath);
    if (hardLinks !== undefined) return refuse(hardLinks);
    const kind = existingKind(resolved.realPath);
    if (kind !== undefined && kind !== 'file') return refuse(`it is now a ${kind}, not a regular file`);
    const other = owners.get(resolved.realPath);
    if (other !== undefined) return refuse(`it names the same file as ${other}`);
    owners.set(resolved.realPath, file.relativePath);
    targets.set(file.absolutePath, { root, realPath: resolved.realPath });
  }
  return { ok: true, targets };
}

/** Two checks agree when every file still leads to the same place. */
export function sameTargets(a: Map<string, ApplyTarget>, b: Map<string, ApplyTarget>): string | undefined {
  for (const [absolutePath, target] of a) {
    if (b.get(absolutePath)?.realPath !== target.realPath) return absolutePath;
  }
  return undefined;
}

/** The file's text without following a final symlink; undefined when it does not exist. */
export function readWithoutFollowing(realPath: string): string | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(realPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new Error(`${realPath} was replaced by a symbolic link`);
    throw error;
  }
  try {
    if (!fstatSync(descriptor).isFile()) throw new Error(`${realPath} is not a regular file`);
    return readFileSync(descriptor, 'utf8');
  } finally {
    closeSync(descriptor);
  }
}

export interface DiskWrite {
  absolutePath: string;
  text: string;
  create: boolean;
  /** The workspace root: no directory between it and the file may be a symbolic link. */
  root?: string;
}

/**
 * Writes every file to a temporary sibling, then renames them all into place, so a crash never
 * leaves a half-written file. Missing directories are made one level at a time and every directory
 * below the root is checked with lstat when the temporary file is written and again right before
 * the rename: a link swapped in meanwhile fails the whole write. rename(2) replaces a final
 * symlink instead of writing through it, and the temporary file is created exclusively (O_EXCL
 * refuses an existing name, links included).
 */
export function writeFilesInside(files: readonly DiskWrite[]): void {
  const staged: Array<{ temporary: string; file: DiskWrite }> = [];
  try {
    for (const file of files) {
      const directory = path.dirname(file.absolutePath);
      ensureRealDirectories(file.root, directory);
      const existing = lstatOrUndefined(file.absolutePath);
      if (existing?.isSymbolicLink()) throw new Error(`${file.absolutePath} is a symbolic link; refusing to write through it`);
      const mode = file.create || existing === undefined ? 0o644 : existing.mode & 0o7777;
      const temporary = path.join(directory, `.${path.basename(file.absolutePath)}.codebench-${randomBytes(4).toString('hex')}`);
      writeFileSync(temporary, file.text, { mode, flag: 'wx' });
      staged.push({ temporary, file });
    }
    for (const { temporary, file } of staged) {
      ensureRealDirectories(file.root, path.dirname(file.absolutePath), false);
      if (lstatOrUndefined(file.absolutePath)?.isDirectory()) throw new Error(`${file.absolutePath} is now a directory`);
      renameSync(temporary, file.absolutePath);
    }
  } catch (error) {
    for (const { temporary } of staged) {
      try {
        unlinkSync(temporary);
      } catch {
        // Already renamed or never written.
      }
    }
    throw error;
  }
}

/** Every directory from below `root` down to `directory` is a real directory (made when missing). */
function ensureRealDirectories(root: string | undefined, directory: string, create = true): void {
  if (root === undefined) {
    if (create) mkdirSync(directory, { recursive: true });
    return;
  }
  const relative = path.relative(root, directory);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) throw new Error(`${directory} is outside ${root}`);
  let current = root;
  for (const segment of relative === '' ? [] : relative.split(path.sep)) {
    current = path.join(current, segment);
    let info = lstatOrUndefined(current);
    if (info === undefined && create) {
      try {
        mkdirSync(current);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      info = lstatOrUndefined(current);
    }
    if (info === undefined) throw new Error(`${current} disappeared`);
    if (info.isSymbolicLink()) throw new Error(`${current} is a symbolic link; refusing to write through it`);
    if (!info.isDirectory()) throw new Error(`${current} is not a directory`);
  }
}

function lstatOrUndefined(target: string) {
  try {
    return lstatSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function existingKind(realPath: string): 'file' | 'directory' | 'symbolic link' | 'special file' | undefined {
  const info = lstatOrUndefined(realPath);
  if (info === undefined) return undefined;
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'directory';
  if (info.isSymbolicLink()) return 'symbolic link';
  return 'special file';
}

/** For proposals without a recorded root: the absolute path minus its workspace-relative spelling. */
function rootOf(file: ProposalFile): string | undefined {
  const suffix = path.sep + file.relativePath.split('/').join(path.sep);
  return file.absolutePath.endsWith(suffix) ? file.absolutePath.slice(0, -suffix.length) : undefined;
}
