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

  it('never starts or ends an edit between the CR and the LF of a line break (no LSP position is there)', () => {
    const before = 'one\r\ntwo\r\n';
    for (const after of ['one\ntwo\r\n', 'one\r\r\ntwo\r\n', 'one\r\nTWO\r\n', 'one\rtwo\r\n']) {
      const edits = computeEdits(before, after);
      expect(applyEdits(before, edits)).toBe(after);
      for (const edit of edits) {
        for (const offset of [edit.start, edit.end]) expect(before.slice(offset - 1, offset + 1), after).not.toBe('\r\n');
      }
    }
    expect(computeEdits(before, 'one\ntwo\r\n')).toEqual([{ start: 3, end: 5, newText: '\n' }]);
  });

  it('treats a lone CR as a line end, so an edit in a classic-Mac file stays on its line', () => {
    const before = 'one\rtwo\rthree\r';
    expect(computeEdits(before, 'one\rTWO\rthree\r')).toEqual([{ start: 4, end: 7, newText: 'TWO' }]);
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
  it('refuses edits on adjacent lines, as diff3 does: the user deletes b while the agent edits c', () => {
    expect(rebase(base, 'a\nc\nd\ne\n', 'a\nb\nC\nd\ne\n', 'f.ts')).toEqual({
      ok: false,
      conflict: 'f.ts changed near line 2 both in the editor and by the agent',
    });
    // The agent edits b, the user inserts right after it: touching, so a conflict too.
    expect(rebase(base, 'a\nb\ntyped\nc\nd\ne\n', 'a\nB\nc\nd\ne\n', 'f.ts').ok).toBe(false);
    // One untouched line between them is enough to merge.
    expect(rebase(base, 'a\nc\nd\ne\n', 'a\nb\nc\nD\ne\n', 'f.ts')).toEqual({ ok: true, text: 'a\nc\nD\ne\n' });
  });
  it('merges separate edits of a CRLF file and of a lone-CR file line by line', () => {
    expect(rebase('a\r\nb\r\nc\r\nd\r\n', 'A\r\nb\r\nc\r\nd\r\n', 'a\r\nb\r\nc\r\nD\r\n', 'f.ts')).toEqual({ ok: true, text: 'A\r\nb\r\nc\r\nD\r\n' });
    expect(rebase('a\rb\rc\rd\r', 'A\rb\rc\rd\r', 'a\rb\rc\rD\r', 'f.ts')).toEqual({ ok: true, text: 'A\rb\rc\rD\r' });
  });
  it('accepts identical changes on both sides', () => {
    expect(rebase(base, 'a\nb\nZ\nd\ne\n', 'a\nb\nZ\nd\ne\n', 'f.ts')).toEqual({ ok: true, text: 'a\nb\nZ\nd\ne\n' });
  });
});
