import { parsePatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { planChange, type Plan } from '../../server/src/agent/proposals/revert.js';
import { unifiedDiff } from '../../server/src/agent/proposals/proposal.js';
import { prng } from '../fakes/random.js';

/**
 * Undo's reverse apply (agent/proposals/revert.ts) over generated cases: a random file, random
 * agent hunks, the stored diff made by the product's own unifiedDiff, then random user edits.
 * The test knows the truth by construction: the diff's hunk spans cut the agent's text into gaps
 * (the same in both versions) and hunks; the user edits gaps only, or a hunk's own lines.
 *
 * - edits outside every hunk (context included): the revert gives the original with exactly the
 *   user's edits, and re-applying gives the agent's text with them;
 * - an edit of a line a hunk covers (the agent's or its context): always a conflict naming the
 *   file and lines, never a text;
 * - with lines from a tiny alphabet (blocks repeat): the revert gives that same text or refuses
 *   with "occur more than once", never another text.
 */


type Alphabet = 'unique' | 'tiny';

function generator(random: () => number, alphabet: Alphabet) {
  let counter = 0;
  const integer = (below: number) => Math.floor(random() * below);
  const tiny = ['a\n', 'b\n', '\n', '}\n', 'a\n', 'x = 1;\r\n'];
  const line = () => (alphabet === 'tiny' ? tiny[integer(tiny.length)]! : `line ${counter++} ${integer(1e6)}\n`);
  const lines = (count: number) => Array.from({ length: count }, line);
  const agentEdit = (base: string[]) => {
    const result = [...base];
    for (let count = 1 + integer(4); count > 0; count--) {
      const at = integer(result.length + 1);
      const kind = integer(3);
      if (kind === 0) result.splice(at, 0, ...lines(1 + integer(3)));
      else if (kind === 1) result.splice(at, 1 + integer(3));
      else result.splice(at, 1 + integer(3), ...lines(1 + integer(3)));
    }
    return result;
  };
  return { integer, line, lines, agentEdit };
}

const PATH = 'src/file.ts';
const RECORD_FILE = { uri: `file:///w/${PATH}`, path: PATH, baseVersion: null, created: false };

interface Case {
  original: string;
  after: string;
  diff: string;
  /** The agent's text cut at the hunks: gaps[i] precedes spans[i]; one more gap at the end. */
  gaps: string[][];
  spans: Array<{ before: string[]; after: string[] }>;
}

function makeCase(random: () => number, alphabet: Alphabet): Case | undefined {
  const { integer, lines, agentEdit } = generator(random, alphabet);
  const originalLines = lines(integer(40));
  const afterLines = agentEdit(originalLines);
  const noFinalNewline = random() < 0.2;
  const join = (parts: string[]) => (noFinalNewline ? parts.join('').replace(/\r?\n$/, '') : parts.join(''));
  const original = join(originalLines);
  const after = join(afterLines);
  if (original === after) return undefined;
  const diff = unifiedDiff([{ absolutePath: `/w/${PATH}`, relativePath: PATH, base: { text: original, version: null }, proposedText: after }]);
  const split = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const afterSplit = split(after);
  const gaps: string[][] = [];
  const spans: Case['spans'] = [];
  let cursor = 0;
  for (const hunk of parsePatch(diff)[0]!.hunks) {
    const start = hunk.newStart - 1;
    gaps.push(afterSplit.slice(cursor, start));
    const beforeText = hunk.lines.filter((l) => l[0] === ' ' || l[0] === '-').length;
    const afterSpan = afterSplit.slice(start, start + hunk.newLines);
    // The hunk's before side from the original, located by its old start.
    const originalSplit = split(original);
    spans.push({ before: originalSplit.slice(hunk.oldStart - 1, hunk.oldStart - 1 + beforeText), after: afterSpan });
    cursor = start + hunk.newLines;
  }
  gaps.push(afterSplit.slice(cursor));
  return { original, after, diff, gaps, spans };
}

function compose(gaps: string[][], spans: string[][]): string {
  return gaps.map((gap, index) => gap.join('') + (spans[index]?.join('') ?? '')).join('');
}

function textOf(plan: Plan, current: string): string {
  if (!plan.ok) throw new Error(`conflict: ${plan.conflict.message}`);
  const outcome = plan.files[0]!.outcome;
  if (outcome.kind === 'unchanged') return current;
  if (outcome.kind !== 'write') throw new Error(`unexpected ${outcome.kind}`);
  return outcome.text;
}

/** One to three user edits of gap lines (modify, delete, insert), at the file's start and end too. */
function editGaps(random: () => number, alphabet: Alphabet, testCase: Case): string[][] {
  const { integer, line } = generator(random, alphabet);
  const gaps = testCase.gaps.map((gap) => [...gap]);
  for (let count = 1 + integer(3); count > 0; count--) {
    const which = integer(gaps.length);
    const gap = gaps[which]!;
    const kind = integer(3);
    if (kind < 2 && gap.length > 0) {
      const at = integer(gap.length);
      if (kind === 0) gap[at] = line();
      else gap.splice(at, 1);
      continue;
    }
    const at = integer(gap.length + 1);
    // After a last line without a newline (in either version) an inserted line would join it.
    if (which === gaps.length - 1 && at === gap.length && !(testCase.after.endsWith('\n') && testCase.original.endsWith('\n'))) continue;
    gap.splice(at, 0, line());
  }
  return gaps;
}

const CASES = 3000;

describe('revert and re-apply of a stored diff (generated cases)', () => {
  for (const alphabet of ['unique', 'tiny'] as const) {
    it(`${alphabet} lines: the user's edits outside the hunks are kept; nothing else differs`, () => {
      let checked = 0;
      let refused = 0;
      for (let seed = 1; seed <= CASES; seed++) {
        const random = prng(seed * 7919 + (alphabet === 'tiny' ? 1 : 0));
        const testCase = makeCase(random, alphabet);
        if (!testCase) continue;
        const edited = random() < 0.2 ? testCase.gaps : editGaps(random, alphabet, testCase);
        const current = compose(edited, testCase.spans.map((span) => span.after));
        const expected = compose(edited, testCase.spans.map((span) => span.before));
        const record = { files: [RECORD_FILE], diff: testCase.diff };
        const reverted = planChange(record, 'revert', () => current);
        // The agent emptied the file: with nothing of its text left to find, lines typed since cannot be placed.
        if (testCase.after === '' && current !== '') {
          expect(reverted.ok).toBe(false);
          continue;
        }
        if (!reverted.ok && alphabet === 'tiny') {
          expect(reverted.conflict.message, `seed ${seed}`).toMatch(/occur more than once/);
          refused++;
          continue;
        }
        expect(textOf(reverted, current), `seed ${seed}\n${testCase.diff}`).toBe(expected);
        const reapplied = planChange(record, 'reapply', () => expected);
        if (testCase.original === '' && expected !== '') {
          expect(reapplied.ok).toBe(false);
          continue;
        }
        if (!reapplied.ok && alphabet === 'tiny') {
          expect(reapplied.conflict.message, `seed ${seed}\n${JSON.stringify({ diff: testCase.diff, current, expected })}`).toMatch(/occur more than once/);
          continue;
        }
        expect(textOf(reapplied, expected), `seed ${seed}`).toBe(current);
        checked++;
      }
      expect(checked).toBeGreaterThan(CASES / 2);
      if (alphabet === 'tiny') expect(refused).toBeLessThan(checked);
    });
  }

  it('an edit of a line a hunk covers (the agent\'s or its context) always conflicts, naming the file and lines', () => {
    let checked = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const random = prng(seed * 104729);
      const testCase = makeCase(random, 'unique');
      if (!testCase || testCase.spans.length === 0) continue;
      const { integer, line } = generator(random, 'unique');
      const spans = testCase.spans.map((span) => [...span.after]);
      const which = integer(spans.length);
      const span = spans[which]!;
      if (span.length === 0) continue;
      const at = integer(span.length);
      const kind = integer(3);
      if (kind === 0) span[at] = line();
      else if (kind === 1) span.splice(at, 1);
      else if (span.length > 1) span.splice(1 + integer(span.length - 1), 0, line());
      else continue;
      const current = compose(editGaps(random, 'unique', testCase), spans);
      const plan = planChange({ files: [RECORD_FILE], diff: testCase.diff }, 'revert', () => current);
      expect(plan.ok, `seed ${seed}: ${plan.ok ? textOf(plan, current) : ''}\n${testCase.diff}`).toBe(false);
      if (plan.ok) continue;
      expect(plan.conflict.path).toBe(PATH);
      expect(plan.conflict.message).toMatch(new RegExp(`^you changed ${PATH} lines? \\d+(-\\d+)? since the agent wrote them$`));
      checked++;
    }
    expect(checked).toBeGreaterThan(CASES / 2);
  });
});

describe('revert: examples', () => {
  const diffOf = (files: Array<{ path: string; before: string | null; after: string }>) =>
    unifiedDiff(files.map((file) => ({ absolutePath: `/w/${file.path}`, relativePath: file.path, base: file.before === null ? null : { text: file.before, version: null }, proposedText: file.after })));
  const recordOf = (files: Array<{ path: string; before: string | null; after: string }>) => ({
    files: files.map((file) => ({ uri: `file:///w/${file.path}`, path: file.path, baseVersion: null, created: file.before === null })),
    diff: diffOf(files),
  });

  it('a created file is deleted only while it holds exactly what the agent wrote; re-applying creates it again', () => {
    const record = recordOf([{ path: 'new.ts', before: null, after: 'one\ntwo' }]);
    expect(planChange(record, 'revert', () => 'one\ntwo')).toMatchObject({ ok: true, files: [{ outcome: { kind: 'delete' } }] });
    expect(planChange(record, 'revert', () => 'one\ntwo\n')).toMatchObject({ ok: false, conflict: { path: 'new.ts', message: 'you changed new.ts since the agent created it' } });
    expect(planChange(record, 'revert', () => undefined)).toMatchObject({ ok: true, files: [{ outcome: { kind: 'unchanged' } }] });
    expect(planChange(record, 'reapply', () => undefined)).toMatchObject({ ok: true, files: [{ outcome: { kind: 'create', text: 'one\ntwo' } }] });
    expect(planChange(record, 'reapply', () => 'other')).toMatchObject({ ok: false });
  });

  it('keeps CRLF, a missing final newline and "-- " lines exactly, across two files', () => {
    const a = 'x = 1\r\n-- note\r\ny = 2\r\n';
    const b = 'first\nlast';
    const record = recordOf([
      { path: 'a.sql', before: a, after: a.replace('y = 2', 'y = 3') },
      { path: 'b.txt', before: b, after: 'first\n--- x\nlast\n' },
    ]);
    const current = { 'a.sql': a.replace('y = 2', 'y = 3'), 'b.txt': 'first\n--- x\nlast\n' } as Record<string, string>;
    const plan = planChange(record, 'revert', (file) => current[file.path]);
    expect(plan.ok && plan.files.map((file) => file.outcome)).toEqual([{ kind: 'write', text: a }, { kind: 'write', text: b }]);
  });

  it('a hunk that fits in two places is a conflict, not a guess', () => {
    const block = 'a\nb\nc\nX\nd\ne\nf\n';
    const record = recordOf([{ path: 'f.txt', before: block.replace('X', 'Y'), after: block }]);
    const plan = planChange(record, 'revert', () => `${block}${block}`);
    expect(plan).toMatchObject({ ok: false, conflict: { path: 'f.txt', message: expect.stringMatching(/occur more than once/) } });
  });
});
