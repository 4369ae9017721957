import { describe, expect, it } from 'vitest';
import { convertRange, LineIndex, negotiateEncoding, offsetAt, positionAt } from '../../server/src/lsp/positions.js';

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
