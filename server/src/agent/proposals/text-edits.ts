import { diffArrays } from 'diff';

/** A replacement of `[start, end)` in UTF-16 code units of the old text. */
export interface OffsetEdit {
  start: number;
  end: number;
  newText: string;
}

/**
 * Lines with their terminators, so joining them gives the text back exactly. A line ends in LF,
 * CRLF or a lone CR, as in the LSP text document model, so a classic-Mac file is not one line.
 */
export function linesWithEnds(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * An offset between the CR and the LF of one line break has no LSP position (a position's
 * character is clamped to the line's end, before the CR), so an edit must never start or end there.
 */
function splitsLineBreak(text: string, offset: number): boolean {
  return text.charCodeAt(offset - 1) === 13 && text.charCodeAt(offset) === 10;
}

/**
 * Minimal edits turning `oldText` into `newText`: a line diff finds the hunks, then each hunk is
 * trimmed to the characters that really differ, so an edit never rewrites text the user may be
 * looking at (or typing in) for no reason. Trimming never splits a surrogate pair, so an emoji is
 * always replaced whole, nor a CRLF, so every edit has an exact LSP range.
 */
export function computeEdits(oldText: string, newText: string): OffsetEdit[] {
  if (oldText === newText) return [];
  const edits: OffsetEdit[] = [];
  let offset = 0;
  let pending: { start: number; removed: string; added: string } | undefined;
  const flush = () => {
    if (!pending) return;
    edits.push(trim(pending.start, pending.removed, pending.added));
    pending = undefined;
  };
  for (const change of diffArrays(linesWithEnds(oldText), linesWithEnds(newText))) {
    const value = change.value.join('');
    if (!change.added && !change.removed) {
      flush();
      offset += value.length;
      continue;
    }
    pending ??= { start: offset, removed: '', added: '' };
    if (change.removed) {
      pending.removed += value;
      offset += value.length;
    } else {
      pending.added += value;
    }
  }
  flush();
  return edits;
}

function trim(start: number, removed: string, added: string): OffsetEdit {
  let prefix = 0;
  const limit = Math.min(removed.length, added.length);
  while (prefix < limit && removed.charCodeAt(prefix) === added.charCodeAt(prefix)) prefix++;
  if (prefix > 0 && (isHighSurrogate(removed.charCodeAt(prefix - 1)) || splitsLineBreak(removed, prefix))) prefix--;
  let suffix = 0;
  while (
    suffix < limit - prefix &&
    removed.charCodeAt(removed.length - 1 - suffix) === added.charCodeAt(added.length - 1 - suffix)
  ) {
    suffix++;
  }
  if (suffix > 0 && (isHighSurrogate(removed.charCodeAt(removed.length - 1 - suffix)) || splitsLineBreak(removed, removed.length - suffix))) {
    suffix--;
  }
  return {
    start: start + prefix,
    end: start + removed.length - suffix,
    newText: added.slice(prefix, added.length - suffix),
  };
}

/** Applies offset edits (non-overlapping, any order) to a text; used to verify and to preview. */
export function applyEdits(text: string, edits: OffsetEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let result = text;
  for (const edit of sorted) result = result.slice(0, edit.start) + edit.newText + result.slice(edit.end);
  return result;
}
