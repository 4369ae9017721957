import { closestRegion, MAX_CANDIDATES, needleLines, stripLineNumbers, type Tolerance } from './text-match.js';
import { numberLines, splitLines } from './text.js';

const MAX_SCANNED_LINES = 50_000;
/** A closest region longer than this is cut: the model needs the start of it to re-anchor. */
const MAX_REGION_LINES = 40;

const IGNORING: Record<Tolerance, string> = {
  exact: '',
  'line-endings': ' once line endings are ignored',
  'trailing-whitespace': ' once trailing whitespace is ignored',
  'line-numbers': " once read_file's line-number prefixes are removed",
  indentation: ' once indentation is ignored',
};

/** Two or more places matched at the same tolerance: never guessed between. */
export function explainAmbiguous(name: string, tolerance: Tolerance, lines: readonly number[], more: boolean): string {
  const times = more ? `more than ${MAX_CANDIDATES} times` : `${lines.length} times`;
  return `old_string appears ${times} in ${name}${IGNORING[tolerance]} (at lines ${lines.join(', ')}). Include more surrounding lines in old_string to make it unique.`;
}

/** What a match at a loose level changed, so the model knows its text was not exact. */
export function describeTolerance(tolerance: Tolerance): string | undefined {
  switch (tolerance) {
    case 'exact':
    case 'line-endings':
      return undefined;
    case 'trailing-whitespace':
      return 'old_string matched once trailing whitespace was ignored.';
    case 'line-numbers':
      return "old_string matched once read_file's line-number prefixes were removed (from new_string too); leave them out next time.";
    case 'indentation':
      return 'old_string matched with a different indentation; new_string was re-indented by the same amount.';
  }
}

/**
 * Why old_string did not match, as concretely as we can tell, with the closest region of the file
 * numbered as read_file shows it, so the model's next attempt is a correction rather than a guess.
 */
export function explainNoMatch(text: string, oldString: string, name: string): string {
  const head = `old_string was not found in ${name}.`;
  const tail = 'Copy the text exactly as the file has it now (without the line-number prefixes); an earlier edit may have changed it.';
  const needle = needleLines(oldString).lines;
  const oldLines = stripLineNumbers(needle) ?? needle;
  const fileLines = splitLines(text).slice(0, MAX_SCANNED_LINES);

  const collapsed = trimBlankEnds(oldLines).map(collapse);
  if (collapsed.length > 0) {
    const at = findLines(fileLines.map(collapse), collapsed);
    if (at !== undefined) {
      const range = collapsed.length === 1 ? `line ${at + 1}` : `lines ${at + 1}-${at + collapsed.length}`;
      return `${head} It matches ${range} if whitespace is ignored, so the indentation or spacing differs:\n${region(fileLines, at, collapsed.length)}\n${tail}`;
    }
  }

  const closest = closestRegion(fileLines.join('\n'), oldLines.join('\n'));
  const meaningful = oldLines.filter((line) => line.trim() !== '').length;
  if (closest !== undefined && meaningful > 1) {
    const { startLine, lineCount, matched } = closest;
    const range = lineCount === 1 ? `line ${startLine}` : `lines ${startLine}-${startLine + lineCount - 1}`;
    return `${head} The closest region is ${range} (${matched} of ${meaningful} lines of old_string occur there); the file there reads:\n${region(fileLines, startLine - 1, lineCount)}\n${tail}`;
  }
  const first = oldLines.find((line) => line.trim() !== '')?.trim();
  if (first !== undefined) {
    const similar = mostSimilarLine(fileLines, first);
    if (similar !== undefined) return `${head} The most similar line is:\n${numberLines([fileLines[similar]!], similar + 1, 200)}\n${tail}`;
  }
  return `${head} ${tail}`;
}

/** The region with one line of context either side, cut to MAX_REGION_LINES. */
function region(lines: readonly string[], start: number, count: number): string {
  const from = Math.max(0, start - 1);
  const to = Math.min(lines.length, start + count + 1, from + MAX_REGION_LINES);
  const more = Math.min(lines.length, start + count + 1) > to ? '\n…' : '';
  return numberLines(lines.slice(from, to), from + 1, 200) + more;
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
