/**
 * The one place where LSP positions meet JavaScript strings. Internally every offset is in UTF-16
 * code units (what JS strings and TextDocument use); the client's `character` counts in the
 * negotiated encoding. Converting anywhere else is how edits end up shifted after an emoji.
 * Lines end in CRLF, a lone CR or LF, as in the LSP text document model (and TextDocument), and a
 * position's character never counts the line break.
 */

export type PositionEncoding = 'utf-8' | 'utf-16' | 'utf-32';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

const SUPPORTED: readonly PositionEncoding[] = ['utf-8', 'utf-16', 'utf-32'];

/** Honours the client's preference order; UTF-16 when it states none (the LSP default). */
export function negotiateEncoding(offered: readonly string[] | undefined): PositionEncoding {
  for (const encoding of offered ?? []) {
    if ((SUPPORTED as readonly string[]).includes(encoding)) return encoding as PositionEncoding;
  }
  return 'utf-16';
}

const CR = 13;
const LF = 10;

/**
 * Line breaks as the LSP text document model has them: CRLF, a lone CR or LF. A fresh regex per
 * call, because a global regex carries its search position between uses.
 */
function lineBreaks(): RegExp {
  return /\r\n?|\n/g;
}

/** An offset between the CR and the LF of one break has no position; it means the line's end. */
function outsideLineBreak(text: string, offset: number): number {
  return offset > 0 && text.charCodeAt(offset - 1) === CR && text.charCodeAt(offset) === LF ? offset - 1 : offset;
}

function lineStart(text: string, line: number): number {
  if (line === 0) return 0;
  const breaks = lineBreaks();
  let current = 0;
  for (let match = breaks.exec(text); match; match = breaks.exec(text)) {
    if (++current === line) return match.index + match[0].length;
  }
  return text.length;
}

/** Where the line's content ends: before its CR, CRLF or LF. */
function lineEnd(text: string, start: number): number {
  const breaks = lineBreaks();
  breaks.lastIndex = start;
  return breaks.exec(text)?.index ?? text.length;
}

function unitsOf(codePoint: number, encoding: PositionEncoding): number {
  if (encoding === 'utf-16') return codePoint > 0xffff ? 2 : 1;
  if (encoding === 'utf-32') return 1;
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/** Position (client encoding) → UTF-16 offset. Characters past the line end clamp to it. */
export function offsetAt(text: string, position: Position, encoding: PositionEncoding): number {
  const start = lineStart(text, Math.max(0, position.line));
  if (position.line < 0) return 0;
  const end = lineEnd(text, start);
  if (encoding === 'utf-16') return Math.min(start + Math.max(0, position.character), end);
  let units = 0;
  let offset = start;
  while (offset < end && units < position.character) {
    const codePoint = text.codePointAt(offset)!;
    const width = unitsOf(codePoint, encoding);
    // A position inside a multi-unit character is invalid; round down to its start.
    if (units + width > position.character) break;
    units += width;
    offset += codePoint > 0xffff ? 2 : 1;
  }
  return offset;
}

/**
 * UTF-16 offset → position in the client encoding. An offset between a CR and its LF (which no
 * position can name) becomes the line's end, as a client would clamp it; computeEdits never
 * produces one.
 */
export function positionAt(text: string, offset: number, encoding: PositionEncoding): Position {
  const clamped = outsideLineBreak(text, Math.max(0, Math.min(offset, text.length)));
  let line = 0;
  let start = 0;
  const breaks = lineBreaks();
  for (let match = breaks.exec(text); match && match.index < clamped; match = breaks.exec(text)) {
    line++;
    start = match.index + match[0].length;
  }
  if (encoding === 'utf-16') return { line, character: clamped - start };
  let units = 0;
  let index = start;
  while (index < clamped) {
    const codePoint = text.codePointAt(index)!;
    units += unitsOf(codePoint, encoding);
    index += codePoint > 0xffff ? 2 : 1;
  }
  return { line, character: units };
}

export function rangeToOffsets(text: string, range: Range, encoding: PositionEncoding): { start: number; end: number } {
  const start = offsetAt(text, range.start, encoding);
  const end = Math.max(start, offsetAt(text, range.end, encoding));
  return { start, end };
}

export function offsetsToRange(text: string, start: number, end: number, encoding: PositionEncoding): Range {
  return { start: positionAt(text, start, encoding), end: positionAt(text, end, encoding) };
}

/** Converts a range from one encoding to another against the same text. */
export function convertRange(text: string, range: Range, from: PositionEncoding, to: PositionEncoding): Range {
  if (from === to) return range;
  const { start, end } = rangeToOffsets(text, range, from);
  return offsetsToRange(text, start, end, to);
}

/**
 * Line starts of one text, computed once, so converting many offsets (every hunk of a large
 * edit) costs a binary search each instead of a scan from the top.
 */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    const breaks = lineBreaks();
    for (let match = breaks.exec(text); match; match = breaks.exec(text)) this.starts.push(match.index + match[0].length);
  }

  positionAt(offset: number, encoding: PositionEncoding): Position {
    const clamped = outsideLineBreak(this.text, Math.max(0, Math.min(offset, this.text.length)));
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= clamped) low = middle;
      else high = middle - 1;
    }
    const start = this.starts[low]!;
    if (encoding === 'utf-16') return { line: low, character: clamped - start };
    let units = 0;
    for (let index = start; index < clamped; ) {
      const codePoint = this.text.codePointAt(index)!;
      units += unitsOf(codePoint, encoding);
      index += codePoint > 0xffff ? 2 : 1;
    }
    return { line: low, character: units };
  }

  range(start: number, end: number, encoding: PositionEncoding): Range {
    return { start: this.positionAt(start, encoding), end: this.positionAt(end, encoding) };
  }
}
