import path from 'node:path';
import { execa } from 'execa';
import { CHARS_PER_TOKEN } from '../../providers/token-estimate.js';
import { walkFiles } from '../tools/walk.js';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';

/**
 * The workspace map: the files of the workspace as a tree, small enough to ride along in the first
 * request of a session so the model does not spend its first steps listing files. Files are
 * listed by name only, like list_files does (protected files included: their names are not
 * secret, and the tools refuse their content either way); what .gitignore excludes is left out.
 */

/** Target for a 2,000-file repository: 1,500 tokens with the header; the tree itself gets this. */
export const MAP_BUDGET_TOKENS = 1_200;
/** Beyond this many files the listing stops: the map summarises anyway, and memory stays bounded. */
const MAX_FILES = 50_000;
/** A map is a convenience: the first request waits at most this long for the listing. */
const LISTING_TIMEOUT_MS = 1_500;

export interface WorkspaceMap {
  /** The tree, one entry a line, two spaces of indent per level. */
  text: string;
  fileCount: number;
  /** 'git': `git ls-files` (tracked plus untracked-but-not-ignored); 'walk': the tools' walker. */
  source: 'git' | 'walk';
  /** The listing stopped early (file cap or time limit): counts are lower bounds. */
  partial: boolean;
}

/** Lists the root's files and renders them within `budgetTokens`; undefined when nothing could be listed. */
export async function workspaceMap(workspace: WorkspaceFiles, root: string, signal: AbortSignal, budgetTokens = MAP_BUDGET_TOKENS): Promise<WorkspaceMap | undefined> {
  const listing = (await gitFiles(root, signal)) ?? (await walkedFiles(workspace, root, signal));
  // A git listing that ran out of time is not retried by walking: the ask has waited long enough.
  if (listing === 'timed-out') return undefined;
  if (listing.files.length === 0) return undefined;
  return { text: renderTree(listing.files, budgetTokens), fileCount: listing.files.length, source: listing.source, partial: listing.partial };
}

interface Listing {
  files: string[];
  source: 'git' | 'walk';
  partial: boolean;
}

/** `git ls-files` in a child process (the event loop stays free); undefined outside a git work tree or without git. */
async function gitFiles(root: string, signal: AbortSignal): Promise<Listing | 'timed-out' | undefined> {
  // Tracked files plus new ones not yet added, both as .gitignore allows: what the user would call
  // the project's files. `-t --deleted` tags files deleted from disk ("R") so they can be left out.
  const result = await execa('git', ['ls-files', '-z', '-t', '--cached', '--others', '--deleted', '--exclude-standard'], {
    cwd: root,
    reject: false,
    timeout: LISTING_TIMEOUT_MS,
    cancelSignal: signal,
    stdin: 'ignore',
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
    windowsHide: true,
  }).catch(() => undefined);
  if (result?.timedOut || result?.isCanceled) return 'timed-out';
  if (result === undefined || result.exitCode !== 0 || typeof result.stdout !== 'string') return undefined;
  const entries = result.stdout.split('\0').filter((entry) => entry.length > 2);
  const deleted = new Set(entries.filter((entry) => entry.startsWith('R ')).map((entry) => entry.slice(2)));
  // A set: a file with merge conflicts is listed once per stage.
  const files = [...new Set(entries.map((entry) => entry.slice(2)).filter((file) => !deleted.has(file)))];
  return { files: files.slice(0, MAX_FILES), source: 'git', partial: files.length > MAX_FILES };
}

/** Outside git: the walker list_files uses (.gitignore files honoured, .git and node_modules skipped). */
async function walkedFiles(workspace: WorkspaceFiles, root: string, signal: AbortSignal): Promise<Listing> {
  const files: string[] = [];
  const limited = AbortSignal.any([signal, AbortSignal.timeout(LISTING_TIMEOUT_MS)]);
  try {
    for await (const file of walkFiles({ workspace, root, start: root, signal: limited })) {
      files.push(file.rootRelative);
      if (files.length === MAX_FILES) return { files, source: 'walk', partial: true };
    }
  } catch {
    return { files, source: 'walk', partial: true }; // timed out or cancelled: what was found so far
  }
  return { files, source: 'walk', partial: false };
}

interface Directory {
  /** Path segment(s) from the parent; a chain of directories holding only one directory is joined ("server/src"). */
  name: string;
  files: string[];
  directories: Directory[];
  total: number;
  extensions: Map<string, number>;
}

/**
 * The tree within the budget. The root's entries are always shown; then, cheapest first, a
 * summarised directory is opened (its files listed, its subdirectories summarised) while the text
 * still fits. So small directories are shown whole and the largest stay one line:
 * "src/generated/ (312 files: .ts)".
 */
export function renderTree(files: readonly string[], budgetTokens: number): string {
  const root = buildTree(files);
  const budgetChars = Math.floor(budgetTokens * CHARS_PER_TOKEN);
  const open = new Set<Directory>([root]);
  let used = openedCost(root, -1);
  // Each candidate's cost of opening is fixed (its depth never changes), so it is computed once.
  const candidates: Array<{ directory: Directory; depth: number; cost: number }> = [];
  const offer = (directory: Directory, depth: number) =>
    candidates.push({ directory, depth, cost: openedCost(directory, depth) - summaryLine(directory, depth).length });
  for (const child of root.directories) offer(child, 0);
  for (;;) {
    let cheapestIndex = -1;
    for (const [index, candidate] of candidates.entries()) {
      const best = candidates[cheapestIndex];
      if (best === undefined || candidate.cost < best.cost || (candidate.cost === best.cost && candidate.depth < best.depth)) cheapestIndex = index;
    }
    const cheapest = candidates[cheapestIndex];
    // Nothing cheaper will turn up: new candidates only come from opening one.
    if (cheapest === undefined || used + cheapest.cost > budgetChars) break;
    open.add(cheapest.directory);
    used += cheapest.cost;
    candidates.splice(cheapestIndex, 1);
    for (const child of cheapest.directory.directories) offer(child, cheapest.depth + 1);
  }
  const lines: string[] = [];
  renderEntries(root, 0, open, lines);
  return fitLines(lines, budgetChars, root);
}

function buildTree(files: readonly string[]): Directory {
  const root = newDirectory('');
  for (const file of [...files].sort()) {
    const segments = file.split('/');
    let directory = root;
    const extension = extensionOf(segments.at(-1)!);
    for (const segment of segments.slice(0, -1)) {
      count(directory, extension);
      let child = directory.directories.find((candidate) => candidate.name === segment);
      if (child === undefined) {
        child = newDirectory(segment);
        directory.directories.push(child);
      }
      directory = child;
    }
    count(directory, extension);
    directory.files.push(segments.at(-1)!);
  }
  joinChains(root);
  return root;
}

function newDirectory(name: string): Directory {
  return { name, files: [], directories: [], total: 0, extensions: new Map() };
}

function count(directory: Directory, extension: string): void {
  directory.total++;
  directory.extensions.set(extension, (directory.extensions.get(extension) ?? 0) + 1);
}

/** "a/" holding only "b/" shows as "a/b/": one line instead of two, and no information lost. */
function joinChains(directory: Directory): void {
  for (const [index, child] of directory.directories.entries()) {
    let joined = child;
    while (joined.files.length === 0 && joined.directories.length === 1) {
      const only = joined.directories[0]!;
      joined = { ...only, name: `${joined.name}/${only.name}` };
    }
    directory.directories[index] = joined;
    joinChains(joined);
  }
}

function extensionOf(name: string): string {
  const extension = path.posix.extname(name);
  return extension === '' || extension === name ? '' : extension;
}

const indent = (depth: number) => '  '.repeat(depth);

/** "generated/ (312 files: .ts 300, .json 12)"; the three commonest extensions. */
function summaryLine(directory: Directory, depth: number): string {
  return `${indent(depth)}${directory.name}/ (${countsOf(directory.total, directory.extensions)})\n`;
}

function countsOf(total: number, extensions: Map<string, number>): string {
  const files = `${total.toLocaleString('en-US')} ${total === 1 ? 'file' : 'files'}`;
  const named = [...extensions].filter(([extension]) => extension !== '').sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (named.length === 0) return files;
  if (named.length === 1 && named[0]![1] === total) return `${files}: ${named[0]![0]}`;
  const shown = named.slice(0, 3).map(([extension, n]) => `${extension} ${n.toLocaleString('en-US')}`);
  return `${files}: ${shown.join(', ')}${named.length > 3 || named.reduce((sum, [, n]) => sum + n, 0) < total ? ', …' : ''}`;
}

/** Characters of a directory shown open at `depth`: its own line (none for the root), its files, its subdirectories summarised. */
function openedCost(directory: Directory, depth: number): number {
  let cost = depth < 0 ? 0 : indent(depth).length + directory.name.length + 2;
  for (const child of directory.directories) cost += summaryLine(child, depth + 1).length;
  for (const file of directory.files) cost += indent(depth + 1).length + file.length + 1;
  return cost;
}

/** Directories first, then files, each in name order. The root's entries are at depth 0. */
function renderEntries(directory: Directory, depth: number, open: Set<Directory>, lines: string[]): void {
  for (const child of directory.directories) {
    if (open.has(child)) {
      lines.push(`${indent(depth)}${child.name}/`);
      renderEntries(child, depth + 1, open, lines);
    } else {
      lines.push(summaryLine(child, depth).slice(0, -1));
    }
  }
  for (const file of directory.files) lines.push(`${indent(depth)}${file}`);
}

/** Only the root's own entries can overflow (a flat root of thousands of files): cut them with a count of what is missing. */
function fitLines(lines: string[], budgetChars: number, root: Directory): string {
  const text = lines.join('\n');
  if (text.length <= budgetChars) return text;
  const kept: string[] = [];
  let used = 0;
  // Room for the closing line, which is at most about 80 characters.
  while (kept.length < lines.length && used + lines[kept.length]!.length + 1 <= budgetChars - 80) {
    used += lines[kept.length]!.length + 1;
    kept.push(lines[kept.length]!);
  }
  const left = lines.length - kept.length;
  kept.push(`… ${left.toLocaleString('en-US')} more entries of the ${root.total.toLocaleString('en-US')} files not shown`);
  return kept.join('\n');
}

