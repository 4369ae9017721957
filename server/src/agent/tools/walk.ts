import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { isInside, type WorkspaceFiles } from '../workspace/workspace-files.js';
import { throwIfAborted } from './define.js';

/** Never worth showing the model, whether or not a .gitignore says so. */
const ALWAYS_SKIPPED = new Set(['.git', 'node_modules']);

export interface WalkedFile {
  absolutePath: string;
  /** Workspace-relative display path (what the model passes back to other tools). */
  relativePath: string;
  /** '/'-separated path relative to the owning root, for ignore and glob matching. */
  rootRelative: string;
  /** '/'-separated path relative to the walked directory. */
  startRelative: string;
  /** Created by this run and so far only in the overlay. */
  staged: boolean;
}

export interface WalkOptions {
  workspace: WorkspaceFiles;
  /** The workspace root that contains `start`. */
  root: string;
  /** Absolute directory to walk. */
  start: string;
  signal: AbortSignal;
}

interface Matcher {
  /** Root-relative directory the .gitignore lives in ('' for the root). */
  base: string;
  rules: Ignore;
}

/**
 * Files under `start` in name order, skipping .git, node_modules and whatever the .gitignore files
 * from the root down exclude, then files this run created there. Symlinked files are included
 * only when they resolve inside the workspace; symlinked directories are not followed (cycles).
 */
export async function* walkFiles(options: WalkOptions): AsyncGenerator<WalkedFile> {
  const { workspace, root, start, signal } = options;
  const matchers: Matcher[] = [];
  const startRelative = toPosix(path.relative(root, start));
  // Ignore files above the walked directory still apply to it, as they do for git.
  let ancestor = '';
  for (const segment of startRelative === '' ? [] : startRelative.split('/')) {
    await addMatcher(matchers, root, ancestor);
    ancestor = ancestor === '' ? segment : `${ancestor}/${segment}`;
  }

  for await (const file of walkDirectory(workspace, root, start, startRelative, matchers, signal)) {
    yield file;
  }

  for (const created of workspace.overlay.createdFiles()) {
    if (!isInside(start, created.absolutePath) || existsSync(created.absolutePath)) continue;
    yield {
      ...created,
      rootRelative: toPosix(path.relative(root, created.absolutePath)),
      startRelative: toPosix(path.relative(start, created.absolutePath)),
      staged: true,
    };
  }
}

async function* walkDirectory(
  workspace: WorkspaceFiles,
  root: string,
  start: string,
  directoryRelative: string,
  inherited: Matcher[],
  signal: AbortSignal,
): AsyncGenerator<WalkedFile> {
  throwIfAborted(signal);
  const matchers = [...inherited];
  await addMatcher(matchers, root, directoryRelative);
  const directory = path.join(root, directoryRelative);
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch {
    return; // unreadable directories are skipped rather than failing the whole walk
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  for (const entry of entries) {
    throwIfAborted(signal);
    const rootRelative = directoryRelative === '' ? entry.name : `${directoryRelative}/${entry.name}`;
    const absolutePath = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (ALWAYS_SKIPPED.has(entry.name) || isIgnored(matchers, rootRelative, true)) continue;
      yield* walkDirectory(workspace, root, start, rootRelative, matchers, signal);
      continue;
    }
    if (isIgnored(matchers, rootRelative, false)) continue;
    if (entry.isSymbolicLink()) {
      if (!workspace.resolve(absolutePath).ok) continue;
      const target = await stat(absolutePath).catch(() => undefined);
      if (target === undefined || !target.isFile()) continue;
    } else if (!entry.isFile()) {
      continue;
    }
    yield {
      absolutePath,
      relativePath: workspace.relativePath(absolutePath),
      rootRelative,
      startRelative: toPosix(path.relative(start, absolutePath)),
      staged: false,
    };
  }
}

async function addMatcher(matchers: Matcher[], root: string, base: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path.join(root, base, '.gitignore'), 'utf8');
  } catch {
    return;
  }
  matchers.push({ base, rules: ignore().add(text) });
}

// Later (deeper) files override earlier ones, so a nested `!pattern` can re-include a file.
function isIgnored(matchers: Matcher[], rootRelative: string, isDirectory: boolean): boolean {
  let ignored = false;
  for (const { base, rules } of matchers) {
    if (base !== '' && !rootRelative.startsWith(`${base}/`)) continue;
    const relative = base === '' ? rootRelative : rootRelative.slice(base.length + 1);
    const result = rules.test(isDirectory ? `${relative}/` : relative);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

/**
 * A glob filter as models tend to mean it: a pattern without '/' matches the file name at any
 * depth ("*.ts"); one with '/' matches the path relative to the walked directory or to the root.
 */
export function globFilter(glob: string | undefined): ((file: WalkedFile) => boolean) | string {
  if (glob === undefined || glob.trim() === '') return () => true;
  try {
    // picomatch's `basename` option also applies to patterns with '/', where it never matches.
    const pattern = glob.trim();
    const matches = picomatch(pattern, { dot: true, basename: !pattern.includes('/') });
    return (file) => matches(file.startRelative) || matches(file.rootRelative);
  } catch (error) {
    return `invalid glob ${JSON.stringify(glob)}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}
