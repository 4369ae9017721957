import { existsSync, lstatSync, statSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';

/**
 * Dependency and build directories a command in the private copy needs but that git ignores, so
 * the copy does not have them: installed packages (`node_modules`, `vendor`), virtual environments
 * (`.venv`, `venv`) and build caches that take minutes to rebuild (`target`, `.gradle`). `build`
 * and `dist` are left out on purpose: they are outputs, and a test run that writes them should not
 * write the user's. `commands.sharedDirectories` adds names.
 */
export const DEFAULT_SHARED_DIRECTORIES: readonly string[] = ['node_modules', '.venv', 'venv', 'target', 'vendor', '.gradle'];

export interface SharedDirectory {
  /** '/'-separated, relative to the copied tree's top (the repository, or the root of a plain copy). */
  relativePath: string;
  /** `clone`: a copy-on-write clone, private to the copy; `link`: a symbolic link to the user's directory. */
  how: 'clone' | 'link';
}

/**
 * The directories named in `names` that the copy lacks: in a repository, untracked ignored
 * directories at any depth (`git ls-files --others --ignored --directory` does not descend into
 * them, so `node_modules` inside `node_modules` is not listed); in a plain folder, those directly
 * under the root.
 */
export async function findSharedDirectories(top: string, isRepository: boolean, names: readonly string[], signal?: AbortSignal): Promise<string[]> {
  const wanted = new Set(names);
  if (wanted.size === 0) return [];
  if (!isRepository) return [...wanted].filter((name) => isDirectory(join(top, name)));
  const result = await execa('git', ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory'], { cwd: top, cancelSignal: signal, env: { GIT_TERMINAL_PROMPT: '0' } });
  return result.stdout
    .split('\0')
    .map((entry) => entry.replace(/\/$/, ''))
    .filter((entry) => entry !== '' && wanted.has(basename(entry)) && isDirectory(join(top, entry)));
}

/**
 * Makes each directory of the user's tree (`from/<path>`) available at `to/<path>`: a
 * copy-on-write clone where the file system makes one (btrfs, XFS, APFS), else a symbolic link.
 * One failed clone means the file system cannot, and the rest are linked without trying.
 */
export async function shareDirectories(from: string, to: string, paths: readonly string[], signal?: AbortSignal): Promise<SharedDirectory[]> {
  const shared: SharedDirectory[] = [];
  let cloning = true;
  for (const relativePath of paths) {
    const source = join(from, relativePath);
    const target = join(to, relativePath);
    // Something of the same name is in the copy already (tracked in a parent, a link): leave it.
    if (existsSync(target) || isLink(target)) continue;
    await mkdir(dirname(target), { recursive: true });
    if (cloning && (await clone(source, target, signal))) {
      shared.push({ relativePath, how: 'clone' });
      continue;
    }
    cloning = false;
    await symlink(source, target, 'dir');
    shared.push({ relativePath, how: 'link' });
  }
  return shared;
}

async function clone(source: string, target: string, signal?: AbortSignal): Promise<boolean> {
  const args = process.platform === 'darwin' ? ['-c', '-R', source, target] : process.platform === 'linux' ? ['-R', '--reflink=always', source, target] : undefined;
  if (args === undefined) return false;
  const result = await execa('cp', args, { cancelSignal: signal, reject: false });
  if (result.exitCode === 0) return true;
  if (signal?.aborted) throw new Error('cancelled');
  await rm(target, { recursive: true, force: true });
  return false;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
