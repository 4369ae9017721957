import { parsePatch } from 'diff';
import type { ProvenanceInfo } from '../../protocol/shapes-insight.js';
import type { AppliedProposalOfFile } from '../../store/store.js';

/**
 * Which lines of a file an applied proposal wrote, found by content in the file's current text.
 *
 * Nothing records where a proposal's lines went after the user kept typing, and nothing needs to:
 * this always runs on the current text (the open document's synced buffer, else the disk), and
 * each hunk's lines are looked up there by their text, as a block, nearest where the proposal put
 * them. Lines the user inserted above only shift the block; lines inserted inside it are skipped
 * over; a line the user rewrote no longer matches, so it is no longer the agent's. Pure and
 * synchronous: a hover runs it on every request.
 */

/** A proposal as provenance needs it: its stored unified diff and the file's path in that diff. */
export interface ProvenanceSource {
  /** The proposal's whole unified diff (it may cover other files). */
  diff: string;
  /** Workspace-relative path of this file as the diff names it (`b/<path>`). */
  path: string;
}

/** How far (in lines) the user may have pushed one agent line from the previous one by inserting lines between them. */
const MAX_GAP = 40;
/** A line this common in the file (a lone `return;`) says nothing about where a block is. */
const MAX_OCCURRENCES_TO_VOTE = 64;

/** Blank, or nothing but punctuation and brackets: `}`, `});`, `]`, `*&/`. Such lines occur everywhere. */
export function isTrivialLine(line: string): boolean {
  return !/[\p{L}\p{N}]/u.test(line);
}

/** The file's lines as LSP counts them (`\r\n`, `\r` and `\n` all end a line). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * For each line of `text` (0-based, as LSP counts them), the proposal that wrote it, or undefined.
 * `sources` are newest first: a line two proposals could claim belongs to the newer one, and an
 * older proposal's block is located among the lines no newer one claimed.
 */
export function attributeLines<Source extends ProvenanceSource>(text: string, sources: readonly Source[]): Array<Source | undefined> {
  const lines = splitLines(text);
  const owners = new Array<Source | undefined>(lines.length).fill(undefined);
  const index = new LineIndex(lines, (position) => owners[position] !== undefined);
  for (const source of sources) {
    for (const hunk of hunksFor(source)) {
      for (const position of locateHunk(hunk, index)) owners[position] ??= source;
    }
  }
  return owners;
}

/** The proposal that wrote line `line` (0-based) of `text`, or undefined. */
export function provenanceOfLine<Source extends ProvenanceSource>(text: string, sources: readonly Source[], line: number): Source | undefined {
  if (sources.length === 0) return undefined;
  return attributeLines(text, sources)[line];
}

/** What the protocol (`codebench/provenance`, `blame --json`) says about the proposal that wrote a line. */
export function provenanceInfo(source: AppliedProposalOfFile): ProvenanceInfo {
  return {
    instruction: source.instruction,
    sessionId: source.sessionId,
    runId: source.runId,
    proposalId: source.proposalId,
    provider: source.provider,
    model: source.model,
    appliedAt: source.appliedAt,
  };
}

/** One hunk's new side: every line the proposal left there, with whether it added it. */
interface HunkLines {
  lines: string[];
  added: boolean[];
  /** 0-based line of the hunk's first new-side line in the file as the proposal left it. */
  start: number;
}

function hunksFor(source: ProvenanceSource): HunkLines[] {
  let patches;
  try {
    patches = parsePatch(source.diff);
  } catch {
    return [];
  }
  const wanted = `b/${source.path}`;
  const hunks: HunkLines[] = [];
  for (const patch of patches) {
    if (patch.newFileName !== wanted) continue;
    for (const hunk of patch.hunks) {
      const lines: string[] = [];
      const added: boolean[] = [];
      for (const line of hunk.lines) {
        const marker = line[0];
        if (marker !== '+' && marker !== ' ') continue;
        lines.push(line.slice(1).replace(/\r$/, ''));
        added.push(marker === '+');
      }
      if (added.some(Boolean)) hunks.push({ lines, added, start: Math.max(hunk.newStart - 1, 0) });
    }
  }
  return hunks;
}

/** Where each distinct line of the file occurs, ascending; lines a newer proposal claimed are skipped. */
class LineIndex {
  private readonly positions = new Map<string, number[]>();

  constructor(
    readonly lines: readonly string[],
    private readonly claimed: (position: number) => boolean,
  ) {
    lines.forEach((line, position) => {
      const list = this.positions.get(line);
      if (list) list.push(position);
      else this.positions.set(line, [position]);
    });
  }

  occurrences(line: string): readonly number[] {
    return this.positions.get(line) ?? [];
  }

  /** The first unclaimed occurrence of `line` in [from, to], or undefined. */
  firstIn(line: string, from: number, to: number): number | undefined {
    const list = this.occurrences(line);
    for (let i = lowerBound(list, from); i < list.length && list[i]! <= to; i++) {
      if (!this.claimed(list[i]!)) return list[i];
    }
    return undefined;
  }

  /** The last unclaimed occurrence of `line` in [from, to], or undefined. */
  lastIn(line: string, from: number, to: number): number | undefined {
    const list = this.occurrences(line);
    for (let i = lowerBound(list, to + 1) - 1; i >= 0 && list[i]! >= from; i--) {
      if (!this.claimed(list[i]!)) return list[i];
    }
    return undefined;
  }

  isFree(position: number): boolean {
    return !this.claimed(position);
  }
}

function lowerBound(list: readonly number[], value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The file positions of the hunk's added lines that are still there. The hunk is anchored where
 * most of its distinctive lines (context included) agree on one offset, the nearest to where the
 * proposal put it on a tie; from the anchor it is followed line by line in both directions. A
 * distinctive line may be found up to MAX_GAP lines past where the previous one implies (the user
 * inserted lines in between); a trivial line only where its neighbours put it, never further. A
 * hunk whose surviving added lines are all trivial claims nothing.
 */
function locateHunk(hunk: HunkLines, index: LineIndex): number[] {
  const anchor = findAnchor(hunk, index);
  if (anchor === undefined) return [];
  const found = new Array<number | undefined>(hunk.lines.length).fill(undefined);
  found[anchor.line] = anchor.position;
  let last = anchor;
  for (let line = anchor.line + 1; line < hunk.lines.length; line++) {
    const text = hunk.lines[line]!;
    const expected = last.position + (line - last.line);
    const position = index.firstIn(text, last.position + 1, isTrivialLine(text) ? expected : expected + MAX_GAP);
    if (position === undefined) continue;
    found[line] = position;
    last = { line, position };
  }
  let next = anchor;
  for (let line = anchor.line - 1; line >= 0; line--) {
    const text = hunk.lines[line]!;
    const expected = next.position - (next.line - line);
    const position = index.lastIn(text, isTrivialLine(text) ? expected : expected - MAX_GAP, next.position - 1);
    if (position === undefined) continue;
    found[line] = position;
    next = { line, position };
  }
  const claimed: number[] = [];
  let distinctive = false;
  for (let line = 0; line < hunk.lines.length; line++) {
    const position = found[line];
    if (!hunk.added[line] || position === undefined) continue;
    claimed.push(position);
    if (!isTrivialLine(hunk.lines[line]!)) distinctive = true;
  }
  return distinctive ? claimed : [];
}

/** The hunk line and file position the most distinctive lines agree on, or undefined when none is in the file. */
function findAnchor(hunk: HunkLines, index: LineIndex): { line: number; position: number } | undefined {
  const votes = new Map<number, { count: number; line: number }>();
  for (let line = 0; line < hunk.lines.length; line++) {
    const text = hunk.lines[line]!;
    if (isTrivialLine(text)) continue;
    const occurrences = index.occurrences(text);
    if (occurrences.length > MAX_OCCURRENCES_TO_VOTE) continue;
    for (const position of occurrences) {
      if (!index.isFree(position)) continue;
      const offset = position - line;
      const vote = votes.get(offset);
      if (vote) vote.count++;
      else votes.set(offset, { count: 1, line });
    }
  }
  let best: { offset: number; count: number; line: number } | undefined;
  for (const [offset, vote] of votes) {
    const better =
      !best || vote.count > best.count || (vote.count === best.count && Math.abs(offset - hunk.start) < Math.abs(best.offset - hunk.start));
    if (better) best = { offset, ...vote };
  }
  return best && { line: best.line, position: best.offset + best.line };
}
