import { describe, expect, it } from 'vitest';
import { applyEdits, computeEdits } from '../../server/src/agent/proposals/text-edits.js';
import { rebase } from '../../server/src/agent/proposals/rebase.js';

describe('minimal edits', () => {
  it('replaces only the characters that differ', () => {
    const before = 'const a = "👋 héllo"; return a + " hi ";\nnext\n';
    const after = before.replace('" hi "', '" there "');
    const edits = computeEdits(before, after);
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText.length).toBeLessThanOrEqual(5);
    expect(applyEdits(before, edits)).toBe(after);
  });

  it('never splits a surrogate pair', () => {
    const before = 'x 🌍 y\n';
    const after = 'x 🌎 y\n';
    const [edit] = computeEdits(before, after);
    expect(edit!.newText).toBe('🌎');
    expect(before.slice(edit!.start, edit!.end)).toBe('🌍');
  });

  it('produces separate hunks for separate changes and handles files without a final newline', () => {
    const before = 'one\ntwo\nthree\nfour\nfive';
    const after = 'ONE\ntwo\nthree\nfour\nfive!';
    const edits = computeEdits(before, after);
    expect(edits).toHaveLength(2);
    expect(applyEdits(before, edits)).toBe(after);
  });

  it('is empty for identical texts and handles insertion into an empty file', () => {
    expect(computeEdits('same', 'same')).toEqual([]);
    expect(applyEdits('', computeEdits('', 'new\n'))).toBe('new\n');
  });
});

describe('rebase (3-way merge)', () => {
  const base = 'a\nb\nc\nd\ne\n';
  it('keeps the user\'s lines and the agent\'s change when they do not overlap', () => {
    const current = 'typed\na\nb\nc\nd\ne\n';
    const proposed = 'a\nb\nC\nd\ne\n';
    expect(rebase(base, current, proposed, 'f.ts')).toEqual({ ok: true, text: 'typed\na\nb\nC\nd\ne\n' });
  });
  it('refuses when both changed the same line differently, naming the file and line', () => {
    const outcome = rebase(base, 'a\nb\nX\nd\ne\n', 'a\nb\nY\nd\ne\n', 'f.ts');
    expect(outcome).toEqual({ ok: false, conflict: 'f.ts changed near line 3 both in the editor and by the agent' });
  });
  it('accepts identical changes on both sides', () => {
    expect(rebase(base, 'a\nb\nZ\nd\ne\n', 'a\nb\nZ\nd\ne\n', 'f.ts')).toEqual({ ok: true, text: 'a\nb\nZ\nd\ne\n' });
  });
});
