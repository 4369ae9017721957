import { describe, expect, it } from 'vitest';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { convertRange, LineIndex, negotiateEncoding, offsetAt, offsetsToRange, positionAt, rangeToOffsets } from '../../server/src/lsp/positions.js';

const TEXT = 'a🌍é\r\nx = "ü" // 👋 end\nlast';

describe('position encodings', () => {
  it('prefers the client\'s order and defaults to UTF-16', () => {
    expect(negotiateEncoding(['utf-8', 'utf-16'])).toBe('utf-8');
    expect(negotiateEncoding(['utf-32', 'utf-8'])).toBe('utf-32');
    expect(negotiateEncoding(['latin-1'])).toBe('utf-16');
    expect(negotiateEncoding(undefined)).toBe('utf-16');
  });

  it('counts UTF-8 bytes, UTF-16 units and code points differently after non-ASCII text', () => {
    const offset = TEXT.indexOf('end');
    // x = "ü" // 👋 end: ü is 2 UTF-8 bytes, 👋 is 4 bytes, 2 UTF-16 units, 1 code point.
    expect(positionAt(TEXT, offset, 'utf-16')).toEqual({ line: 1, character: 14 });
    expect(positionAt(TEXT, offset, 'utf-8')).toEqual({ line: 1, character: 17 });
    expect(positionAt(TEXT, offset, 'utf-32')).toEqual({ line: 1, character: 13 });
    for (const encoding of ['utf-8', 'utf-16', 'utf-32'] as const) {
      expect(offsetAt(TEXT, positionAt(TEXT, offset, encoding), encoding)).toBe(offset);
    }
  });

  it('round-trips every offset that is not inside a surrogate pair', () => {
    for (let offset = 0; offset <= TEXT.length; offset++) {
      const code = TEXT.charCodeAt(offset - 1);
      if (code >= 0xd800 && code <= 0xdbff) continue;
      if (TEXT[offset - 1] === '\r') continue;
      for (const encoding of ['utf-8', 'utf-16', 'utf-32'] as const) {
        expect(offsetAt(TEXT, positionAt(TEXT, offset, encoding), encoding)).toBe(offset);
      }
    }
  });

  it('clamps past the end of a line (before its CR LF) and past the last line', () => {
    expect(offsetAt(TEXT, { line: 0, character: 99 }, 'utf-8')).toBe(TEXT.indexOf('\r'));
    expect(offsetAt(TEXT, { line: 9, character: 0 }, 'utf-16')).toBe(TEXT.length);
  });

  it('rounds a position inside a multi-byte character down to its start', () => {
    expect(offsetAt('🌍x', { line: 0, character: 2 }, 'utf-8')).toBe(0);
    expect(offsetAt('🌍x', { line: 0, character: 4 }, 'utf-8')).toBe(2);
  });

  it('converts ranges between encodings', () => {
    const range = { start: { line: 0, character: 1 }, end: { line: 0, character: 7 } };
    expect(convertRange(TEXT, range, 'utf-8', 'utf-16')).toEqual({ start: { line: 0, character: 1 }, end: { line: 0, character: 4 } });
  });

  it('LineIndex agrees with positionAt for every offset and encoding', () => {
    const index = new LineIndex(TEXT);
    for (let offset = 0; offset <= TEXT.length; offset++) {
      for (const encoding of ['utf-8', 'utf-16', 'utf-32'] as const) {
        expect(index.positionAt(offset, encoding)).toEqual(positionAt(TEXT, offset, encoding));
      }
    }
  });
});

/**
 * Line ends as the LSP text document model has them (CRLF, lone CR, LF), checked against
 * vscode-languageserver-textdocument's TextDocument, which implements that model, for UTF-16, and
 * against the encoded length of the line's prefix for UTF-8 and UTF-32.
 */
describe('line endings: CRLF, lone CR and mixed', () => {
  const TEXTS = {
    crlf: 'é🌍 one\r\ntwo 👋 ü\r\n\r\nlast 🌎',
    'lone cr': 'é🌍 one\rtwo 👋 ü\r\rlast 🌎\r',
    mixed: 'é🌍\r\none\rtwo 👋\n\r\nü\r\r\nlast',
  };
  const encodings = ['utf-8', 'utf-16', 'utf-32'] as const;
  const width = (text: string, encoding: (typeof encodings)[number]) =>
    encoding === 'utf-8' ? Buffer.byteLength(text, 'utf8') : encoding === 'utf-16' ? text.length : [...text].length;
  const insideSurrogatePair = (text: string, offset: number) => {
    const code = text.charCodeAt(offset - 1);
    return code >= 0xd800 && code <= 0xdbff;
  };
  const insideCrLf = (text: string, offset: number) => text[offset - 1] === '\r' && text[offset] === '\n';

  it.each(Object.entries(TEXTS))('%s: every offset maps to the position TextDocument gives, in every encoding, and back', (_name, text) => {
    const document = TextDocument.create('file:///t', 'plaintext', 1, text);
    const index = new LineIndex(text);
    for (let offset = 0; offset <= text.length; offset++) {
      if (insideSurrogatePair(text, offset) || insideCrLf(text, offset)) continue;
      const expected = document.positionAt(offset);
      const lineStart = document.offsetAt({ line: expected.line, character: 0 });
      for (const encoding of encodings) {
        const position = { line: expected.line, character: width(text.slice(lineStart, offset), encoding) };
        expect(positionAt(text, offset, encoding), `${encoding} at ${offset}`).toEqual(position);
        expect(index.positionAt(offset, encoding), `LineIndex ${encoding} at ${offset}`).toEqual(position);
        expect(offsetAt(text, position, encoding), `${encoding} back to ${offset}`).toBe(offset);
      }
    }
    expect(positionAt(text, text.length, 'utf-16').line).toBe(document.lineCount - 1);
  });

  it.each(Object.entries(TEXTS))('%s: a character past the line end clamps before its line break, as TextDocument does', (_name, text) => {
    const document = TextDocument.create('file:///t', 'plaintext', 1, text);
    for (let line = 0; line < document.lineCount; line++) {
      const expected = document.offsetAt({ line, character: 10_000 });
      for (const encoding of encodings) expect(offsetAt(text, { line, character: 10_000 }, encoding), `line ${line} ${encoding}`).toBe(expected);
    }
  });

  it('an offset between a CR and its LF is the end of that line (no position names it)', () => {
    const text = 'ab\r\ncd';
    expect(positionAt(text, 3, 'utf-8')).toEqual({ line: 0, character: 2 });
    expect(new LineIndex(text).positionAt(3, 'utf-32')).toEqual({ line: 0, character: 2 });
  });

  it.each(encodings)('an edit after emoji on a later line of a lone-CR / CRLF file lands exactly (%s)', (encoding) => {
    const text = 'a👋\rb🌍 é\r\nx = 1 // ü\rend';
    const target = text.indexOf('1');
    const range = offsetsToRange(text, target, target + 1, encoding);
    expect(range.start.line).toBe(2);
    const { start, end } = rangeToOffsets(text, range, encoding);
    expect(text.slice(0, start) + '2' + text.slice(end)).toBe('a👋\rb🌍 é\r\nx = 2 // ü\rend');
    // Converting the range between encodings keeps it on the same characters.
    for (const other of encodings) {
      const converted = convertRange(text, range, encoding, other);
      expect(rangeToOffsets(text, converted, other)).toEqual({ start, end });
    }
  });
});
