import { describe, expect, it } from 'vitest';
import { explainNoMatch } from '../../server/src/agent/tools/edit-hints.js';
import { closestRegion, locateEdit, type Tolerance } from '../../server/src/agent/tools/text-match.js';
import { prng } from '../fakes/random.js';

/**
 * edit_file's tolerant matching over generated files: random lines (each carrying a unique id, so
 * every window is unique unless a test duplicates it), LF or CRLF, indented with spaces or tabs; a
 * random window is the model's old_string, distorted the ways models distort it, alone and
 * combined. The edit must land exactly where the undistorted text would have, at the strictest
 * level that explains the distortion.
 */


const WORDS = ['return', 'const', 'value', '=', '+', 'call(x)', '{', '}', 'if', 'a.b', '"s t"', '// note'];
const DISTORTIONS = ['trailing', 'eol', 'numbers', 'indent-in', 'indent-out'] as const;
type Distortion = (typeof DISTORTIONS)[number];

interface Case {
  lines: string[];
  eol: '\n' | '\r\n';
  finalNewline: boolean;
  unit: string;
  start: number;
  count: number;
}

function generate(random: () => number): Case {
  const integer = (below: number) => Math.floor(random() * below);
  const unit = random() < 0.5 ? '\t' : '  ';
  const total = 5 + integer(120);
  let depth = 1;
  const lines: string[] = [];
  for (let index = 0; index < total; index++) {
    if (random() < 0.1) {
      lines.push(random() < 0.3 ? ' ' : '');
      continue;
    }
    depth = Math.max(1, Math.min(5, depth + integer(3) - 1));
    const words = Array.from({ length: 1 + integer(4) }, () => WORDS[integer(WORDS.length)]).join(' ');
    // A trailing space in the file itself: the model may copy it or drop it.
    lines.push(`${unit.repeat(depth)}${words} id_${String(index).padStart(4, '0')}_${random() < 0.1 ? ' ' : ''}`);
  }
  const count = 1 + integer(Math.min(8, total));
  let start = integer(total - count + 1);
  // The window starts and ends on a line with content, as a model's old_string does.
  while (start > 0 && lines[start]!.trim() === '') start--;
  if (lines[start]!.trim() === '') lines[start] = `${unit}anchor id_start_`;
  const last = start + count - 1;
  if (lines[last]!.trim() === '') lines[last] = `${unit}anchor id_end_`;
  return { lines, eol: random() < 0.5 ? '\r\n' : '\n', finalNewline: random() < 0.8, unit, start, count };
}

/** What the model wants: each line of the window renamed, plus one inserted line. */
function intended(window: string[]): string[] {
  const changed = window.map((line) => line.replace(/id_/, 'renamed_'));
  const indent = /^[ \t]*/.exec(window.find((line) => line.trim() !== '') ?? '')![0];
  return [...changed, `${indent}added();`];
}

function numbered(lines: string[], first: number, last: number): string[] {
  const width = Math.max(4, String(last).length);
  return lines.map((line, index) => `${String(first + index).padStart(width)}\t${line}`);
}

function distort(testCase: Case, applied: readonly Distortion[], random: () => number) {
  const window = testCase.lines.slice(testCase.start, testCase.start + testCase.count);
  let oldLines = [...window];
  let newLines = intended(window);
  const expectedNew = [...newLines];
  if (applied.includes('indent-in')) {
    oldLines = oldLines.map((line) => (line.trim() === '' ? line : `    ${line}`));
    newLines = newLines.map((line) => (line.trim() === '' ? line : `    ${line}`));
  }
  if (applied.includes('indent-out')) {
    // Every window line is indented at least once; the model drops one level from all of them.
    const drop = (line: string) => (line.startsWith(testCase.unit) ? line.slice(testCase.unit.length) : line);
    oldLines = oldLines.map(drop);
    newLines = newLines.map(drop);
  }
  if (applied.includes('trailing')) {
    const at = Math.floor(random() * oldLines.length);
    oldLines = oldLines.map((line, index) => (index === at || random() < 0.3 ? `${line}${random() < 0.5 ? '  ' : '\t'}` : line));
  }
  if (applied.includes('numbers')) {
    const first = testCase.start + 1;
    oldLines = numbered(oldLines, first, first + oldLines.length - 1);
    // Half the time the model numbers new_string too (continuing the count).
    if (random() < 0.5) newLines = numbered(newLines, first, first + newLines.length - 1);
  }
  const modelEol = applied.includes('eol') ? (testCase.eol === '\n' ? '\r\n' : '\n') : testCase.eol;
  const withNewline = random() < 0.5;
  const join = (lines: string[]) => lines.join(modelEol) + (withNewline ? modelEol : '');
  return { oldString: join(oldLines), newString: join(newLines), expectedNew };
}

function fileText(lines: string[], eol: string, finalNewline: boolean): string {
  return lines.join(eol) + (finalNewline && lines.length > 0 ? eol : '');
}

const ORDER: Tolerance[] = ['exact', 'line-endings', 'trailing-whitespace', 'line-numbers', 'indentation'];

function loosestNeeded(applied: readonly Distortion[]): Tolerance {
  if (applied.includes('indent-in') || applied.includes('indent-out')) return 'indentation';
  if (applied.includes('numbers')) return 'line-numbers';
  if (applied.includes('trailing')) return 'trailing-whitespace';
  if (applied.includes('eol')) return 'line-endings';
  return 'exact';
}

function subsets(): Distortion[][] {
  const all: Distortion[][] = [];
  for (let mask = 0; mask < 1 << DISTORTIONS.length; mask++) {
    const set = DISTORTIONS.filter((_, index) => mask & (1 << index));
    if (set.includes('indent-in') && set.includes('indent-out')) continue;
    all.push(set);
  }
  return all;
}

describe('locateEdit over generated files and distorted old_strings', () => {
  it.each(subsets().map((set) => [set.join('+') || 'none', set] as const))('lands the edit with distortions: %s', (_, applied) => {
    const random = prng(applied.length * 7919 + applied.join('').length);
    for (let round = 0; round < 150; round++) {
      const testCase = generate(random);
      // One line with one indentation level dropped is a plain substring of the file's line: an
      // exact match, where new_string's other lines keep whatever indentation the model gave them.
      if (applied.includes('indent-out') && testCase.count < 2) continue;
      const text = fileText(testCase.lines, testCase.eol, testCase.finalNewline);
      const { oldString, newString, expectedNew } = distort(testCase, applied, random);
      const match = locateEdit(text, oldString, newString);
      const label = `round ${round}: ${JSON.stringify({ oldString, text: text.slice(0, 2000) })}`;
      expect(match.kind, label).toBe('found');
      if (match.kind !== 'found') continue;
      expect(ORDER.indexOf(match.tolerance), label).toBeLessThanOrEqual(ORDER.indexOf(loosestNeeded(applied)));

      const result = text.slice(0, match.start) + match.replacement + text.slice(match.end);
      const expectedLines = [...testCase.lines];
      expectedLines.splice(testCase.start, testCase.count, ...expectedNew);
      const expected = fileText(expectedLines, testCase.eol, testCase.finalNewline);
      // A loose match may eat or keep trailing whitespace on the replaced lines; compare without it.
      const normalize = (value: string) => value.replace(/[ \t]+(?=\r?\n|$)/g, '');
      expect(normalize(result), label).toBe(normalize(expected));
      // The file's line endings are kept, whatever the model used.
      if (testCase.eol === '\r\n') expect(result.replace(/\r\n/g, '').includes('\n'), label).toBe(false);
      else expect(result.includes('\r'), label).toBe(false);
      expect(match.startLine, label).toBe(testCase.start + 1);
    }
  });

  it('refuses a block that occurs twice at the same level, naming both places', () => {
    const random = prng(42);
    for (let round = 0; round < 200; round++) {
      const testCase = generate(random);
      const window = testCase.lines.slice(testCase.start, testCase.start + testCase.count);
      // Before or after the original, never inside it.
      const before = random() < 0.5;
      const copyAt = before ? Math.floor(random() * (testCase.start + 1)) : testCase.start + testCase.count + Math.floor(random() * (testCase.lines.length - testCase.start - testCase.count + 1));
      const shifted = random() < 0.5;
      // The copy sits at a different indentation half the time: the indentation level sees both.
      const copy = shifted ? window.map((line) => (line.trim() === '' ? line : `  ${line}`)) : window;
      const lines = [...testCase.lines.slice(0, copyAt), ...copy, ...testCase.lines.slice(copyAt)];
      const text = fileText(lines, testCase.eol, testCase.finalNewline);
      const oldString = (shifted ? window.map((line) => (line.trim() === '' ? line : `    ${line}`)) : window).join('\n');
      const match = locateEdit(text, oldString, 'replacement');
      const originalAt = copyAt <= testCase.start ? testCase.start + testCase.count + 1 : testCase.start + 1;
      const label = `round ${round}: ${JSON.stringify({ oldString, text })}`;
      expect(match.kind, label).toBe('ambiguous');
      if (match.kind !== 'ambiguous') continue;
      expect(match.lines, label).toContain(copyAt + 1);
      expect(match.lines, label).toContain(originalAt);
    }
  });

  it('shows the closest region when one line of old_string differs', () => {
    const random = prng(7);
    let checked = 0;
    for (let round = 0; round < 300 && checked < 100; round++) {
      const testCase = generate(random);
      const window = testCase.lines.slice(testCase.start, testCase.start + testCase.count);
      const contentful = window.filter((line) => line.trim() !== '').length;
      if (testCase.count < 3 || contentful < 3) continue;
      const middle = 1 + Math.floor(random() * (testCase.count - 2));
      if (window[middle]!.trim() === '') continue;
      const oldLines = [...window];
      oldLines[middle] = `${oldLines[middle]} misremembered`;
      const text = fileText(testCase.lines, testCase.eol, testCase.finalNewline);
      const oldString = oldLines.join('\n');
      expect(locateEdit(text, oldString, 'x').kind).toBe('none');
      const region = closestRegion(text, oldString);
      expect(region?.startLine).toBe(testCase.start + 1);
      const message = explainNoMatch(text, oldString, 'f.ts');
      const range = `lines ${testCase.start + 1}-${testCase.start + testCase.count}`;
      expect(message, message).toContain(`The closest region is ${range}`);
      // The region is shown as read_file numbers it, so the model can copy from it.
      const width = Math.max(4, String(testCase.start + testCase.count + 1).length);
      expect(message).toContain(`${String(testCase.start + 1 + middle).padStart(width)}\t${testCase.lines[testCase.start + middle]}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('locateEdit edge cases', () => {
  it('keeps exact matches exact, inside a line too', () => {
    const match = locateEdit('let x = 1;\nlet y = 2;\n', 'x = 1', 'x = 10');
    expect(match).toMatchObject({ kind: 'found', tolerance: 'exact', replacement: 'x = 10' });
  });

  it('strips line numbers from new_string only when every line has one', () => {
    const text = 'a\nb\nc\n';
    const both = locateEdit(text, '   2\tb\n   3\tc', '   2\tB\n   3\tC');
    expect(both).toMatchObject({ kind: 'found', tolerance: 'line-numbers', replacement: 'B\nC' });
    const oldOnly = locateEdit(text, '   2\tb', 'B');
    expect(oldOnly).toMatchObject({ kind: 'found', replacement: 'B' });
  });

  it('does not take a tab-separated data file for numbered output', () => {
    // "1\tx" then "5\ty": not counting up by one, so these are data, not read_file prefixes.
    expect(locateEdit('x\ny\n', '1\tx\n5\ty', 'z').kind).toBe('none');
  });

  it('re-indents new_string from spaces to the tabs of the file', () => {
    const text = 'function f() {\n\tif (a) {\n\t\treturn 1;\n\t}\n}\n';
    const match = locateEdit(text, 'if (a) {\n\treturn 1;\n}', 'if (a) {\n\treturn 2;\n}\nreturn 3;');
    expect(match.kind).toBe('found');
    if (match.kind !== 'found') return;
    expect(text.slice(0, match.start) + match.replacement + text.slice(match.end)).toBe('function f() {\n\tif (a) {\n\t\treturn 2;\n\t}\n\treturn 3;\n}\n');
  });

  it('finds the closest region of a 10,000-line file quickly', () => {
    const lines = Array.from({ length: 10_000 }, (_, index) => `  line ${index} of the file`);
    const text = lines.join('\n');
    const oldString = ['line 5000 of the file', 'line 5001 of the fiel', 'line 5002 of the file', 'line 5003 of the file'].join('\n');
    const started = performance.now();
    expect(locateEdit(text, oldString, 'x').kind).toBe('none');
    const message = explainNoMatch(text, oldString, 'big.txt');
    expect(performance.now() - started).toBeLessThan(500);
    expect(message).toContain('The closest region is lines 5001-5004 (3 of 4 lines');
  });
});
