/**
 * Where edit_file's old_string is in a file, tolerating the ways models mis-copy text: line
 * endings, trailing whitespace, read_file's line-number prefixes, and a block shifted by a
 * consistent indentation. Levels are tried from strictest to loosest and the first level with
 * exactly one candidate wins; two or more candidates at one level are never guessed between.
 * Pure: no I/O, so text-mode SEARCH blocks and tests use the same matching as edit_file.
 */

export type Tolerance = 'exact' | 'line-endings' | 'trailing-whitespace' | 'line-numbers' | 'indentation';

export type MatchResult =
  | { kind: 'found'; start: number; end: number; replacement: string; tolerance: Tolerance; startLine: number; endLine: number }
  | { kind: 'ambiguous'; tolerance: Tolerance; lines: number[]; more: boolean }
  | { kind: 'none' };

/** Beyond this the exact count stops mattering: the model must add context either way. */
export const MAX_CANDIDATES = 10;
/** Equally good closest regions compared further; beyond this the first ones win. */
const MAX_TIES = 1000;

/** read_file prints `String(n).padStart(width) + '\t'`; a blank line may lose its tab when copied. */
const NUMBERED_LINE = /^ *(\d+)\t/;
const NUMBER_ONLY = /^ *(\d+)\t?$/;

interface FileLines {
  lines: string[];
  /** Offset where each line starts. */
  starts: number[];
  /** Offset just before each line's terminator. */
  ends: number[];
  /** Offset just after each line's terminator (equals ends[i] for a last line without one). */
  nexts: number[];
}

export function fileLines(text: string): FileLines {
  const lines: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const nexts: number[] = [];
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const next = newline === -1 ? text.length : newline + 1;
    const end = newline === -1 ? text.length : newline > start && text[newline - 1] === '\r' ? newline - 1 : newline;
    lines.push(text.slice(start, end));
    starts.push(start);
    ends.push(end);
    nexts.push(next);
    start = next;
  }
  return { lines, starts, ends, nexts };
}

export function dominantLineEnding(text: string): '\n' | '\r\n' {
  const crlf = text.split('\r\n').length - 1;
  const lf = text.split('\n').length - 1 - crlf;
  return crlf > lf ? '\r\n' : '\n';
}

/** Finds old_string in text and builds the replacement for the level it matched at. */
export function locateEdit(text: string, oldString: string, newString: string): MatchResult {
  const eol = dominantLineEnding(text);
  const convertedNew = newString.replace(/\r?\n/g, eol);

  // Exact, then exact once the line endings are the file's: these also match inside a line.
  const exactLevels: Array<[Tolerance, string]> = [['exact', oldString]];
  const converted = oldString.replace(/\r?\n/g, eol);
  if (converted !== oldString) exactLevels.push(['line-endings', converted]);
  for (const [tolerance, needle] of exactLevels) {
    const found = occurrences(text, needle);
    if (found.length === 0) continue;
    if (found.length > 1) return ambiguous(tolerance, found.map((index) => lineOf(text, index)));
    const start = found[0]!;
    return { kind: 'found', start, end: start + needle.length, replacement: convertedNew, tolerance, startLine: lineOf(text, start), endLine: lineOf(text, start + Math.max(needle.length - 1, 0)) };
  }

  // The looser levels compare whole lines.
  const file = fileLines(text);
  const needle = needleLines(oldString);
  const numbered = stripLineNumbers(needle.lines);
  const newLines = needleLines(newString).lines;
  const levels: Array<{ tolerance: Tolerance; lines: string[]; replacement: string[]; indentation: boolean }> = [
    { tolerance: 'trailing-whitespace', lines: needle.lines, replacement: newLines, indentation: false },
  ];
  if (numbered) {
    const replacement = stripLineNumbers(newLines, false) ?? newLines;
    levels.push({ tolerance: 'line-numbers', lines: numbered, replacement, indentation: false });
  }
  levels.push({ tolerance: 'indentation', lines: numbered ?? needle.lines, replacement: numbered ? (stripLineNumbers(newLines, false) ?? newLines) : newLines, indentation: true });

  for (const level of levels) {
    const starts = level.indentation ? indentedWindows(file.lines, level.lines) : trimmedWindows(file.lines, level.lines);
    if (starts.length === 0) continue;
    if (starts.length > 1) return ambiguous(level.tolerance, starts.map((start) => start + 1));
    const first = starts[0]!;
    const last = first + level.lines.length - 1;
    let lines = level.replacement;
    if (level.indentation) lines = reindent(lines, commonIndent(level.lines), commonIndent(file.lines.slice(first, last + 1)));
    const withTerminator = needle.endsWithNewline && file.nexts[last]! > file.ends[last]!;
    let replacement = lines.join(eol);
    // old_string covered whole lines with their line break: keep new_string whole lines too,
    // even when the model left its final newline off.
    if (withTerminator && newString !== '') replacement += eol;
    return {
      kind: 'found',
      start: file.starts[first]!,
      end: withTerminator ? file.nexts[last]! : file.ends[last]!,
      replacement,
      tolerance: level.tolerance,
      startLine: first + 1,
      endLine: last + 1,
    };
  }
  return { kind: 'none' };
}

/** old_string as lines; a final line break ends the last line rather than starting an empty one. */
export function needleLines(text: string): { lines: string[]; endsWithNewline: boolean } {
  const lines = text.split(/\r?\n/);
  const endsWithNewline = lines.length > 1 && lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  return { lines, endsWithNewline };
}

/**
 * The lines without read_file's prefixes, when every line has one (blank lines may have lost
 * their tab); for old_string the numbers must also count up by one, as read_file prints them, so
 * a tab-separated data file is not mistaken for numbered output.
 */
export function stripLineNumbers(lines: readonly string[], consecutive = true): string[] | undefined {
  const stripped: string[] = [];
  let previous: number | undefined;
  let prefixed = 0;
  for (const line of lines) {
    const match = NUMBERED_LINE.exec(line) ?? NUMBER_ONLY.exec(line);
    if (!match) {
      if (line.trim() !== '') return undefined;
      // A blank line whose prefix the model trimmed away still takes up a number.
      stripped.push('');
      if (previous !== undefined) previous++;
      continue;
    }
    const number = Number(match[1]);
    if (consecutive && previous !== undefined && number !== previous + 1) return undefined;
    previous = number;
    if (match[0].endsWith('\t')) prefixed++;
    stripped.push(line.slice(match[0].length));
  }
  // At least one real prefix (number and tab) and some text left: a column of bare numbers is content.
  if (prefixed === 0 || stripped.every((line) => line.trim() === '')) return undefined;
  return stripped;
}

/** Line windows equal to the needle once trailing whitespace is ignored. */
function trimmedWindows(lines: readonly string[], needle: readonly string[]): number[] {
  const wanted = needle.map((line) => line.trimEnd());
  return windows(lines, wanted.length, (line, offset) => line.trimEnd() === wanted[offset]);
}

/** Line windows equal to the needle once the whole block is shifted by one indentation. */
function indentedWindows(lines: readonly string[], needle: readonly string[]): number[] {
  const wanted = needle.map((line) => line.trim());
  const needleIndent = commonIndent(needle);
  const relative = needle.map((line) => relativeLine(line, needleIndent));
  return windows(
    lines,
    needle.length,
    (line, offset) => line.trim() === wanted[offset],
    (start) => {
      const window = lines.slice(start, start + needle.length);
      const indent = commonIndent(window);
      return window.every((line, offset) => relativeLine(line, indent) === relative[offset]);
    },
  );
}

function windows(
  lines: readonly string[],
  size: number,
  lineMatches: (line: string, offset: number) => boolean,
  windowMatches: (start: number) => boolean = () => true,
): number[] {
  const found: number[] = [];
  if (size === 0) return found;
  for (let start = 0; start + size <= lines.length; start++) {
    let offset = 0;
    while (offset < size && lineMatches(lines[start + offset]!, offset)) offset++;
    if (offset < size || !windowMatches(start)) continue;
    found.push(start);
    if (found.length > MAX_CANDIDATES) break;
  }
  return found;
}

function relativeLine(line: string, indent: string): string {
  return line.trim() === '' ? '' : line.slice(indent.length).trimEnd();
}

/** The leading whitespace every non-blank line shares, character for character. */
export function commonIndent(lines: readonly string[]): string {
  let common: string | undefined;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const indent = /^[ \t]*/.exec(line)![0];
    if (common === undefined) {
      common = indent;
      continue;
    }
    let length = 0;
    while (length < common.length && length < indent.length && common[length] === indent[length]) length++;
    common = common.slice(0, length);
  }
  return common ?? '';
}

/** new_string moved from old_string's indentation to the file's, line by line. */
export function reindent(lines: readonly string[], from: string, to: string): string[] {
  return lines.map((line) => {
    if (line.trim() === '') return line.trimEnd() === '' ? '' : line;
    if (line.startsWith(from)) return to + line.slice(from.length);
    // A line less indented than old_string's block (new code that dedents): shift by the same
    // number of characters, as far as its own indentation allows.
    const own = /^[ \t]*/.exec(line)![0];
    const shift = to.length - from.length;
    if (shift >= 0) return to.slice(0, shift) + line;
    return line.slice(Math.min(-shift, own.length));
  });
}

/** Overlapping matches count too: "aa" in "aaa" is ambiguous. */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let index = text.indexOf(needle); index !== -1; index = text.indexOf(needle, index + 1)) {
    found.push(index);
    if (found.length > MAX_CANDIDATES) break;
  }
  return found;
}

function ambiguous(tolerance: Tolerance, lines: number[]): MatchResult {
  return { kind: 'ambiguous', tolerance, lines: lines.slice(0, MAX_CANDIDATES), more: lines.length > MAX_CANDIDATES };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) line++;
  return line;
}

/**
 * The window of old_string's line count sharing the most trimmed lines with it (a line counts as
 * often as the needle has it), for "not found" errors. One pass with a sliding count: linear in
 * the file, so a 10,000-line file costs milliseconds.
 */
export function closestRegion(text: string, oldString: string): { startLine: number; lineCount: number; matched: number } | undefined {
  const needle = needleLines(oldString).lines;
  const lines = stripLineNumbers(needle) ?? needle;
  const wanted = new Map<string, number>();
  for (const line of lines) {
    const key = line.trim();
    if (key !== '') wanted.set(key, (wanted.get(key) ?? 0) + 1);
  }
  const fileTrimmed = fileLines(text).lines.map((line) => line.trim());
  if (wanted.size === 0 || fileTrimmed.length === 0) return undefined;
  const size = Math.min(lines.length, fileTrimmed.length);
  const inWindow = new Map<string, number>();
  let score = 0;
  const add = (key: string) => {
    const limit = wanted.get(key);
    if (limit === undefined) return;
    const count = (inWindow.get(key) ?? 0) + 1;
    inWindow.set(key, count);
    if (count <= limit) score++;
  };
  const remove = (key: string) => {
    const limit = wanted.get(key);
    if (limit === undefined) return;
    const count = inWindow.get(key)! - 1;
    inWindow.set(key, count);
    if (count < limit) score--;
  };
  for (let index = 0; index < size; index++) add(fileTrimmed[index]!);
  let best = score;
  let ties = [0];
  for (let start = 1; start + size <= fileTrimmed.length; start++) {
    remove(fileTrimmed[start - 1]!);
    add(fileTrimmed[start + size - 1]!);
    if (score > best) {
      best = score;
      ties = [start];
    } else if (score === best && ties.length < MAX_TIES) {
      ties.push(start);
    }
  }
  if (best === 0) return undefined;
  // Among equal windows, the one where the lines also sit in old_string's order.
  const needleTrimmed = lines.map((line) => line.trim());
  const aligned = (start: number) => needleTrimmed.filter((line, offset) => line !== '' && fileTrimmed[start + offset] === line).length;
  let bestStart = ties[0]!;
  let bestAligned = aligned(bestStart);
  for (const start of ties.slice(1)) {
    const score = aligned(start);
    if (score > bestAligned) {
      bestAligned = score;
      bestStart = start;
    }
  }
  return { startLine: bestStart + 1, lineCount: size, matched: best };
}
