import { parsePatch } from 'diff';
import type { ProposalFile, ProposalRecord } from '../../store/records.js';

/*
 * Taking an applied proposal back, and applying a reverted one again, from what the store keeps:
 * the file list and the unified diff (3 lines of context), not the whole texts. Each hunk is found
 * in the file's current text by its exact lines, the agent's side and the context around it, and
 * replaced by the other side; everything between hunks is the user's and is kept as it is now.
 *
 * Exactness over reach: a hunk applies only where it is found line for line and where it is the
 * only way to place all of the file's hunks in order. Anything else (the user changed a
 * line the agent wrote, or one of its context lines, or the hunk would fit in two places) is a
 * conflict naming the file and the lines, and nothing of the whole proposal is written.
 */

/** A file's text as lines, each with its own line break (the last may have none). */
type Lines = string[];

interface Hunk {
  /** The text before the proposal and after it, with the context lines in both. */
  before: Lines;
  after: Lines;
  /** 0-based first line in the text before and after the proposal. */
  beforeStart: number;
  afterStart: number;
  /** Context lines ahead of and behind the change. */
  leading: number;
  trailing: number;
}

export interface StoredFileChange {
  file: ProposalFile;
  hunks: Hunk[];
}

export type Direction = 'revert' | 'reapply';

/** What one file must become; `unchanged` when it already is. */
export type FileOutcome =
  | { kind: 'write'; text: string }
  | { kind: 'create'; text: string }
  | { kind: 'delete' }
  | { kind: 'unchanged' };

export interface PlannedFile {
  file: ProposalFile;
  /** The text the outcome was computed from; undefined when the file does not exist. */
  currentText: string | undefined;
  outcome: FileOutcome;
}

export interface FileConflict {
  path: string;
  /** 1-based, inclusive, in the file as it is now; absent when the whole file is meant. */
  lines?: { start: number; end: number };
  /** E.g. "you changed src/a.ts lines 3-4 since the agent wrote them". */
  message: string;
}

export type Plan = { ok: true; files: PlannedFile[] } | { ok: false; conflict: FileConflict };

export function splitLines(text: string): Lines {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Each file of the record with its hunks, in the record's file order. */
export function storedChanges(record: Pick<ProposalRecord, 'files' | 'diff'>): StoredFileChange[] {
  const patches = parsePatch(record.diff);
  return record.files.map((file) => {
    const patch = patches.find((candidate) => candidate.newFileName === `b/${file.path}`);
    return { file, hunks: (patch?.hunks ?? []).map(toHunk) };
  });
}

function toHunk(hunk: { oldStart: number; newStart: number; lines: string[] }): Hunk {
  const before: Lines = [];
  const after: Lines = [];
  let leading = 0;
  let trailing = 0;
  let changed = false;
  hunk.lines.forEach((line, index) => {
    const marker = line[0];
    if (marker === '\\') return;
    // "\ No newline at end of file" after a line: that line is the file's last and has no break.
    const text = line.slice(1) + (hunk.lines[index + 1]?.startsWith('\\') ? '' : '\n');
    if (marker === ' ') {
      before.push(text);
      after.push(text);
      if (changed) trailing++;
      else leading++;
      return;
    }
    changed = true;
    trailing = 0;
    if (marker === '-') before.push(text);
    if (marker === '+') after.push(text);
  });
  // parsePatch counts from 1 (an empty side too: "+0,0" is read as starting at 1).
  return {
    before,
    after,
    beforeStart: hunk.oldStart - 1,
    afterStart: hunk.newStart - 1,
    leading,
    trailing,
  };
}

/** The text the agent wrote for a file it created (all `+` lines). */
function createdText(change: StoredFileChange): string {
  return change.hunks.flatMap((hunk) => hunk.after).join('');
}

/**
 * Every file's outcome, or the first conflict. `currentTextOf` gives what a file holds now (open
 * buffer or disk), undefined when it does not exist.
 */
export function planChange(record: Pick<ProposalRecord, 'files' | 'diff'>, direction: Direction, currentTextOf: (file: ProposalFile) => string | undefined): Plan {
  const files: PlannedFile[] = [];
  for (const change of storedChanges(record)) {
    const currentText = currentTextOf(change.file);
    const planned = planFile(change, direction, currentText);
    if ('message' in planned) return { ok: false, conflict: planned };
    files.push({ file: change.file, currentText, outcome: planned });
  }
  return { ok: true, files };
}

export function planFile(change: StoredFileChange, direction: Direction, current: string | undefined): FileOutcome | FileConflict {
  const path = change.file.path;
  if (change.file.created) {
    const written = createdText(change);
    if (direction === 'revert') {
      if (current === undefined) return { kind: 'unchanged' };
      // Deleting a file throws away everything in it: only when it is exactly what the agent wrote.
      return current === written ? { kind: 'delete' } : { path, message: `you changed ${path} since the agent created it` };
    }
    if (current === undefined) return { kind: 'create', text: written };
    return current === written ? { kind: 'unchanged' } : { path, message: `${path} exists again, with other content` };
  }
  if (current === undefined) return { path, message: `${path} no longer exists` };
  const indexed = indexLines(current);
  const { lines } = indexed;
  const sides = change.hunks.map((hunk) => (direction === 'revert' ? { find: hunk.after, put: hunk.before } : { find: hunk.before, put: hunk.after }));
  const placed = placeHunks(change.hunks.map((hunk) => (direction === 'revert' ? hunk.afterStart : hunk.beforeStart)), sides.map((side) => side.find), indexed);
  if ('hunk' in placed) return conflictAt(change, direction, placed, lines.length);
  if (change.hunks.length === 0) return { kind: 'unchanged' };
  const result: string[] = [];
  let cursor = 0;
  placed.positions.forEach((position, index) => {
    result.push(...lines.slice(cursor, position), ...sides[index]!.put);
    cursor = position + sides[index]!.find.length;
  });
  result.push(...lines.slice(cursor));
  const text = result.join('');
  return text === current ? { kind: 'unchanged' } : { kind: 'write', text };
}

/**
 * The lines of `text` the agent wrote, 0-based and end-exclusive, one range per hunk (a hunk that
 * only removed lines gives the one line after the removal; a created file is all of it); undefined
 * unless every hunk of the file is found as it was written, as a revert would find it.
 */
export function agentWrittenLines(change: StoredFileChange, text: string, indexed: IndexedLines = indexLines(text)): Array<{ start: number; end: number }> | undefined {
  if (change.file.created) return text !== '' && text === createdText(change) ? [{ start: 0, end: indexed.lines.length }] : undefined;
  if (change.hunks.length === 0) return undefined;
  const placed = placeHunks(change.hunks.map((hunk) => hunk.afterStart), change.hunks.map((hunk) => hunk.after), indexed);
  if ('hunk' in placed) return undefined;
  return change.hunks.map((hunk, index) => {
    const start = placed.positions[index]! + hunk.leading;
    return { start, end: Math.max(start + 1, placed.positions[index]! + hunk.after.length - hunk.trailing) };
  });
}

type Placement = { positions: number[] } | { hunk: number; why: 'changed' | 'ambiguous'; near: number };

/**
 * Where each hunk's lines are, in order and without overlap, if there is exactly one way. The
 * earliest and the latest feasible place of every hunk are computed (greedy from either end);
 * when they agree for every hunk, every feasible placement puts each hunk there.
 */
/** A text's lines and where each distinct line occurs: built once per text, shared by every proposal placed on it. */
export interface IndexedLines {
  lines: Lines;
  where: Map<string, number[]>;
}

export function indexLines(text: string): IndexedLines {
  const lines = splitLines(text);
  const where = new Map<string, number[]>();
  lines.forEach((line, position) => {
    const positions = where.get(line);
    if (positions) positions.push(position);
    else where.set(line, [position]);
  });
  return { lines, where };
}

function placeHunks(starts: number[], finds: Lines[], { lines, where }: IndexedLines): Placement {
  // A hunk is tried only where its first line is (`where`).
  const candidates = finds.map((find) => occurrences(find, lines, where));
  const earliest: number[] = [];
  let from = 0;
  let drift = 0;
  for (let index = 0; index < finds.length; index++) {
    const position = candidates[index]!.find((candidate) => candidate >= from);
    if (position === undefined) return { hunk: index, why: 'changed', near: starts[index]! + drift };
    earliest.push(position);
    drift = position - starts[index]!;
    from = position + finds[index]!.length;
  }
  let until = lines.length;
  for (let index = finds.length - 1; index >= 0; index--) {
    const length = finds[index]!.length;
    const position = candidates[index]!.findLast((candidate) => candidate + length <= until)!;
    if (position !== earliest[index]) return { hunk: index, why: 'ambiguous', near: earliest[index]! };
    until = position;
  }
  return { positions: earliest };
}

/** Every place `find` occurs in `lines` line for line, ascending. */
function occurrences(find: Lines, lines: Lines, where: Map<string, number[]>): number[] {
  // A side with no lines at all is the whole file (its context would otherwise be there).
  if (find.length === 0) return lines.length === 0 ? [0] : [];
  const starts = where.get(find[0]!) ?? [];
  return starts.filter((position) => position + find.length <= lines.length && find.every((line, offset) => lines[position + offset] === line));
}

function conflictAt(change: StoredFileChange, direction: Direction, placed: Exclude<Placement, { positions: number[] }>, lineCount: number): FileConflict {
  const hunk = change.hunks[placed.hunk]!;
  // The changed lines as they stand in the current text: the agent's, or for a re-apply the originals.
  const side = direction === 'revert' ? hunk.after : hunk.before;
  const changed = side.length - hunk.leading - hunk.trailing;
  const last = Math.max(1, lineCount);
  const start = Math.min(last, Math.max(1, placed.near + hunk.leading + 1));
  const end = Math.min(last, start + Math.max(0, changed - 1));
  const lines = { start, end };
  const where = `${change.file.path} ${start === end ? `line ${start}` : `lines ${start}-${end}`}`;
  if (placed.why === 'ambiguous') return { path: change.file.path, lines, message: `the lines around ${where} occur more than once, so which to change is not clear` };
  const since = direction === 'revert' ? 'since the agent wrote them' : 'since the agent\'s change was reverted';
  return { path: change.file.path, lines, message: `you changed ${where} ${since}` };
}
