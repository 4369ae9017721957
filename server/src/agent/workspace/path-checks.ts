import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Path checks shared by the workspace's file access, the shadow copy and apply, and where a
 * workspace's root is for the front-ends.
 */

/**
 * `~`, `~user`, `$HOME`, `${X}`, `$(…)` and `%APPDATA%` in a path. Lower-case `$names` such as
 * SvelteKit's `$lib` / `$types` are real file names and stay allowed.
 */
export function expansionIn(raw: string): string | undefined {
  if (raw.startsWith('~')) return '"~" (the home directory)';
  if (/\$[{(]|\$[A-Z_][A-Z0-9_]*(?![a-z])/.test(raw)) return 'an environment variable or substitution';
  if (/%[A-Za-z_][A-Za-z0-9_]*%/.test(raw)) return 'a %VARIABLE%';
  return undefined;
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

export function isMissingError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The git work tree `directory` is in (the nearest ancestor holding `.git`), or undefined: what
 * "this workspace" means for the terminal client, and where a marker-less editor root widens to.
 */
export function enclosingGitRoot(directory: string): string | undefined {
  for (let current = path.resolve(directory); ; current = path.dirname(current)) {
    if (existsSync(path.join(current, '.git'))) return current;
    if (path.dirname(current) === current) return undefined;
  }
}
