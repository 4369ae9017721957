import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';
import { walkFiles } from './walk.js';

/** Enough to find a misplaced file in a normal repository without stalling on a huge one. */
const SEARCH_LIMIT = 20_000;
const MAX_SUGGESTIONS = 5;

/**
 * "File x not found" plus likely intended paths: similar names in the nearest existing directory,
 * and files with the same name elsewhere (models often guess the wrong folder).
 */
export async function notFoundMessage(
  workspace: WorkspaceFiles,
  target: { absolutePath: string; relativePath: string; root: string },
  signal: AbortSignal,
): Promise<string> {
  const suggestions = await suggestPaths(workspace, target, signal);
  const head = `File ${target.relativePath} not found.`;
  if (suggestions.length === 0) return `${head} Use list_files to see which files exist.`;
  return `${head} Did you mean: ${suggestions.join(', ')}?`;
}

export async function suggestPaths(
  workspace: WorkspaceFiles,
  target: { absolutePath: string; root: string },
  signal: AbortSignal,
): Promise<string[]> {
  let directory = path.dirname(target.absolutePath);
  let missing = path.basename(target.absolutePath);
  while (!isDirectory(directory) && directory !== target.root && directory !== path.dirname(directory)) {
    missing = path.basename(directory);
    directory = path.dirname(directory);
  }

  const found = new Map<string, number>();
  const names = await readdir(directory).catch(() => [] as string[]);
  for (const created of workspace.overlay.createdFiles()) {
    if (path.dirname(created.absolutePath) === directory) names.push(path.basename(created.absolutePath));
  }
  for (const name of names) {
    const score = similarity(missing, name);
    if (score !== undefined) found.set(workspace.relativePath(path.join(directory, name)), score);
  }

  const wanted = path.basename(target.absolutePath).toLowerCase();
  let seen = 0;
  for await (const file of walkFiles({ workspace, root: target.root, start: target.root, signal })) {
    if (++seen > SEARCH_LIMIT) break;
    if (path.basename(file.absolutePath).toLowerCase() === wanted && !found.has(file.relativePath)) {
      found.set(file.relativePath, 0.5);
    }
  }

  return [...found.entries()]
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_SUGGESTIONS)
    .map(([relative]) => relative);
}

function isDirectory(candidate: string): boolean {
  try {
    return existsSync(candidate) && statSync(candidate).isDirectory();
  } catch {
    return false;
  }
}

/** Lower is closer; undefined when the names are unrelated. */
function similarity(wanted: string, candidate: string): number | undefined {
  const a = wanted.toLowerCase();
  const b = candidate.toLowerCase();
  if (a === b) return 0;
  const distance = levenshtein(a, b);
  if (distance <= Math.max(2, Math.floor(a.length / 3))) return distance;
  // Same stem, other extension: foo.ts vs foo.tsx, config.json vs config.jsonc.
  const stem = (name: string) => name.replace(/\.[^.]*$/, '');
  if (stem(a) !== '' && stem(a) === stem(b)) return 1;
  return undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
