import path from 'node:path';

/** Lexical path checks shared by the workspace's file access, the shadow copy and apply. */

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
