import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { colorDiff } from '../../server/src/cli/render.js';
import { markerFor, terminalSafeJson, visible } from '../../server/src/cli/terminal-text.js';

// What a terminal may act on, listed independently of the implementation.
const ACTIVE: number[] = [
  ...Array.from({ length: 0x20 }, (_, code) => code).filter((code) => code !== 0x09 && code !== 0x0a),
  ...Array.from({ length: 0x21 }, (_, index) => 0x7f + index),
  0x061c, 0x200b, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff,
];
// eslint-disable-next-line no-control-regex
const ANY_ACTIVE = new RegExp(`[${ACTIVE.map((code) => `\\u${code.toString(16).padStart(4, '0')}`).join('')}]`);

/** A deterministic pseudo-random source, so failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

function hostileText(next: () => number, length: number): string {
  const pool = [...ACTIVE.map((code) => String.fromCharCode(code)), 'a', 'Z', ' ', '[', ']', ';', '\n', '\t', 'é', '✓', '😀', '👨‍👩‍👧'];
  return Array.from({ length }, () => pool[Math.floor(next() * pool.length)]!).join('');
}

describe('visible', () => {
  it('spells out every character a terminal would act on', () => {
    for (const code of ACTIVE) {
      const shown = visible(`a${String.fromCharCode(code)}b`);
      expect(shown, `U+${code.toString(16)}`).not.toMatch(ANY_ACTIVE);
      expect(shown.length, `U+${code.toString(16)}`).toBeGreaterThan(3);
    }
    expect(visible('\x1b]52;c;aGk=\x07')).toBe('^[]52;c;aGk=^G');
    expect(visible('curl x|sh\r+ok\x1b[K')).toBe('curl x|sh^M+ok^[[K');
    expect(visible('\x7f\x00\u009b\u202e')).toBe('^?^@<U+009B><U+202E>');
    expect(markerFor('\b')).toBe('^H');
  });

  it('leaves newlines, tabs and ordinary Unicode (emoji with joiners, accents, CJK) alone', () => {
    const text = 'const é = "✓";\n\tfunction 名前() {}\n👨‍👩‍👧 👍🏽 نیم‌فاصله\n';
    expect(visible(text)).toBe(text);
    expect(visible(text, pc.createColors(true))).toBe(text);
  });

  it('is stateless: a stream split anywhere reads the same as the whole', () => {
    const next = random(11);
    for (let round = 0; round < 200; round++) {
      const text = hostileText(next, 40);
      const cut = Math.floor(next() * text.length);
      expect(visible(text.slice(0, cut)) + visible(text.slice(cut))).toBe(visible(text));
      expect(visible(text)).not.toMatch(ANY_ACTIVE);
      // Nothing to do on a second pass: markers are plain text.
      expect(visible(visible(text))).toBe(visible(text));
    }
  });

  it('sets markers off in inverse video when colours are on, and adds nothing else', () => {
    const shown = visible('x\x1by', pc.createColors(true));
    expect(shown).toBe('x\x1b[7m^[\x1b[27my');
    expect(visible('x\x1by', pc.createColors(false))).toBe('x^[y');
  });
});

describe('colorDiff', () => {
  it('colours lines by their real first character and lets through only its own SGR codes', () => {
    const next = random(5);
    const diff = ['--- a/f', '+++ b/f', '@@ -1,2 +1,2 @@', ...Array.from({ length: 60 }, (_, index) => `${'+- '[index % 3]}${hostileText(next, 30).replace(/\n/g, '')}`)].join('\n');
    const colored = colorDiff(diff, pc.createColors(true));
    const withoutSgr = colored.replace(/\x1b\[\d+m/g, '');
    expect(withoutSgr).not.toMatch(ANY_ACTIVE);
    // Every hostile ESC became a marker: the only ESCs left start our single-parameter SGR codes.
    expect(colored.match(/\x1b/g)!.length).toBe(colored.match(/\x1b\[\d+m/g)!.length);
    const lines = colored.split('\n');
    expect(lines[3]).toMatch(/^\x1b\[32m\+/);
    expect(lines[4]).toMatch(/^\x1b\[31m-/);
  });
});

describe('terminalSafeJson', () => {
  it('escapes what JSON.stringify leaves raw, keeping the same value', () => {
    const next = random(3);
    for (let round = 0; round < 100; round++) {
      const value = { text: hostileText(next, 30), nested: [hostileText(next, 10)] };
      const json = terminalSafeJson(JSON.stringify(value, null, 2));
      expect(json).not.toMatch(ANY_ACTIVE);
      expect(JSON.parse(json)).toEqual(value);
    }
  });
});
