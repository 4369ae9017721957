import { numberLines, splitLines } from './text.js';

const MAX_SCANNED_LINES = 50_000;

/**
 * Why old_string did not match, as concretely as we can tell, so the model's next attempt is a
 * correction rather than a guess. Nothing here applies a fuzzy match: edits stay exact.
 */
export function explainNoMatch(text: string, oldString: string, name: string): string {
  const head = `old_string was not found in ${name}.`;
  const tail =
    'Copy the text exactly as read_file shows it (without the line-number prefix); the file may differ from what you remember, or an earlier edit changed it.';
  const oldLines = oldString.split(/\r?\n/);
  const meaningful = oldLines.filter((line) => line.trim() !== '');

  if (meaningful.length > 0 && meaningful.every((line) => /^\s*\d+\t/.test(line))) {
    return `${head} It seems to include the line-number prefixes that read_file adds (like "  12\\t"); those are not part of the file. Remove them and keep only the text after the tab.`;
  }

  const fileLines = splitLines(text).slice(0, MAX_SCANNED_LINES);
  const needle = trimBlankEnds(oldLines).map(collapse);
  if (needle.length > 0) {
    const at = findLines(fileLines.map(collapse), needle);
    if (at !== undefined) {
      const range = needle.length === 1 ? `line ${at + 1}` : `lines ${at + 1}-${at + needle.length}`;
      return `${head} It matches ${range} if whitespace is ignored, so the indentation or spacing differs:\n${numberLines(fileLines.slice(at, at + needle.length), at + 1, 200)}\n${tail}`;
    }
  }

  const first = meaningful[0]?.trim();
  if (first !== undefined) {
    const exact = fileLines.findIndex((line) => line.includes(first));
    if (exact !== -1 && meaningful.length > 1) {
      const shown = fileLines.slice(exact, exact + Math.min(oldLines.length + 1, 12));
      return `${head} Its first line occurs at line ${exact + 1}, but the lines after it differ. The file there reads:\n${numberLines(shown, exact + 1, 200)}\n${tail}`;
    }
    const closest = mostSimilarLine(fileLines, first);
    if (closest !== undefined) {
      return `${head} The most similar line is:\n${numberLines([fileLines[closest]!], closest + 1, 200)}\n${tail}`;
    }
  }
  return `${head} ${tail}`;
}

function collapse(line: string): string {
  return line.trim().replace(/\s+/g, ' ');
}

function trimBlankEnds(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.trim() === '') start++;
  while (end > start && lines[end - 1]!.trim() === '') end--;
  return lines.slice(start, end);
}

function findLines(haystack: string[], needle: string[]): number | undefined {
  for (let start = 0; start + needle.length <= haystack.length; start++) {
    if (needle.every((line, offset) => haystack[start + offset] === line)) return start;
  }
  return undefined;
}

/** Dice coefficient over character bigrams: cheap, and robust to small typos and renames. */
function mostSimilarLine(lines: string[], wanted: string): number | undefined {
  const target = bigrams(wanted);
  if (target.size === 0) return undefined;
  let best: number | undefined;
  let bestScore = 0.6; // below this the "closest" line is noise
  lines.forEach((line, index) => {
    const candidate = bigrams(line.trim());
    if (candidate.size === 0) return;
    let shared = 0;
    for (const gram of candidate) if (target.has(gram)) shared++;
    const score = (2 * shared) / (candidate.size + target.size);
    if (score > bestScore) {
      bestScore = score;
      best = index;
    }
  });
  return best;
}

function bigrams(text: string): Set<string> {
  const grams = new Set<string>();
  for (let index = 0; index < text.length - 1; index++) grams.add(text.slice(index, index + 2));
  return grams;
}
