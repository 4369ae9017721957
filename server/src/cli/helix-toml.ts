/**
 * Just enough TOML for `codebench helix-config`: find the tables of a Helix `languages.toml` and
 * the source span of each key's value, so the generator can edit a few values in place and keep
 * every other byte of the user's file (comments, order, formatting) as it was. There is no TOML
 * library among the dependencies, and a parse → re-emit round trip would lose the comments anyway.
 */

export interface TomlKey {
  /** Dotted key with quotes removed, e.g. `language-servers`. */
  key: string;
  lineStart: number;
  valueStart: number;
  /** End of the value itself, before any trailing comment. */
  valueEnd: number;
}

export interface TomlSection {
  /** Dotted header name with quotes removed (`language`, `language-server.codebench`); '' before the first header. */
  name: string;
  arrayOfTables: boolean;
  start: number;
  /** Where the next header starts (or the end of the file). */
  end: number;
  keys: TomlKey[];
}

export class TomlScanError extends Error {}

interface Scanner {
  src: string;
  i: number;
}

function lineOf(src: string, offset: number): number {
  return src.slice(0, offset).split('\n').length;
}

/** Skips one string of any of TOML's four kinds starting at `s.i`; returns false when none starts there. */
function skipString(s: Scanner): boolean {
  const { src } = s;
  for (const quote of ['"""', "'''", '"', "'"]) {
    if (!src.startsWith(quote, s.i)) continue;
    const start = s.i;
    s.i += quote.length;
    for (;;) {
      if (s.i >= src.length || (quote.length === 1 && src[s.i] === '\n')) {
        throw new TomlScanError(`unterminated string on line ${lineOf(src, start)}`);
      }
      if (src[s.i] === '\\' && quote[0] === '"') {
        s.i += 2;
        continue;
      }
      if (src.startsWith(quote, s.i)) {
        s.i += quote.length;
        // """a"""" is legal: up to two extra quotes belong to the content.
        while (quote.length === 3 && src[s.i] === quote[0]) s.i++;
        return true;
      }
      s.i++;
    }
  }
  return false;
}

/** A value runs to the end of its line, or further while brackets or braces are open. */
function scanValue(s: Scanner): number {
  const { src } = s;
  let depth = 0;
  let end = s.i;
  while (s.i < src.length) {
    const c = src[s.i]!;
    if (c === '"' || c === "'") {
      skipString(s);
      end = s.i;
      continue;
    }
    if (c === '#') {
      while (s.i < src.length && src[s.i] !== '\n') s.i++;
      continue;
    }
    if (c === '\n' && depth <= 0) break;
    if (c === '[' || c === '{') depth++;
    if (c === ']' || c === '}') depth--;
    if (!/\s/.test(c)) end = s.i + 1;
    s.i++;
  }
  return end;
}

/** `a."b c".d` → `a.b c.d`. */
function normaliseKey(raw: string): string {
  const parts: string[] = [];
  for (const match of raw.matchAll(/\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)/g)) {
    parts.push(unquote(match[1]!));
  }
  return parts.join('.');
}

/** The value of a TOML basic or literal string (escapes of basic strings are JSON's, close enough). */
export function unquote(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("'")) return trimmed.slice(1, -1);
  if (trimmed.startsWith('"')) {
    try {
      return JSON.parse(trimmed) as string;
    } catch {
      return trimmed.slice(1, -1);
    }
  }
  return trimmed;
}

export function scanToml(src: string): TomlSection[] {
  const s: Scanner = { src, i: 0 };
  const sections: TomlSection[] = [{ name: '', arrayOfTables: false, start: 0, end: src.length, keys: [] }];
  while (s.i < src.length) {
    const c = src[s.i]!;
    if (/\s/.test(c)) {
      s.i++;
      continue;
    }
    if (c === '#') {
      while (s.i < src.length && src[s.i] !== '\n') s.i++;
      continue;
    }
    const lineStart = src.lastIndexOf('\n', s.i - 1) + 1;
    if (c === '[') {
      const arrayOfTables = src.startsWith('[[', s.i);
      const close = src.indexOf(arrayOfTables ? ']]' : ']', s.i);
      const newline = src.indexOf('\n', s.i);
      if (close === -1 || (newline !== -1 && close > newline)) throw new TomlScanError(`unterminated table header on line ${lineOf(src, s.i)}`);
      sections.at(-1)!.end = lineStart;
      sections.push({ name: normaliseKey(src.slice(s.i + (arrayOfTables ? 2 : 1), close)), arrayOfTables, start: lineStart, end: src.length, keys: [] });
      s.i = close + (arrayOfTables ? 2 : 1);
      scanValue(s); // only a comment may follow a header
      continue;
    }
    const keyStart = s.i;
    while (s.i < src.length && src[s.i] !== '=' && src[s.i] !== '\n') {
      if (!skipString(s)) s.i++;
    }
    if (src[s.i] !== '=') throw new TomlScanError(`expected "key = value" on line ${lineOf(src, keyStart)}`);
    const key = normaliseKey(src.slice(keyStart, s.i));
    s.i++;
    while (src[s.i] === ' ' || src[s.i] === '\t') s.i++;
    const valueStart = s.i;
    const valueEnd = scanValue(s);
    if (valueEnd === valueStart) throw new TomlScanError(`missing value for "${key}" on line ${lineOf(src, keyStart)}`);
    sections.at(-1)!.keys.push({ key, lineStart, valueStart, valueEnd });
  }
  return sections;
}

/** Elements of an array value as source spans (offsets relative to `text`), comments skipped. */
export function arrayElements(text: string): Array<{ start: number; end: number }> {
  if (!text.startsWith('[')) throw new TomlScanError(`expected an array, got ${text.slice(0, 40)}`);
  const s: Scanner = { src: text, i: 1 };
  const elements: Array<{ start: number; end: number }> = [];
  let depth = 0;
  let start = -1;
  let end = -1;
  while (s.i < text.length) {
    const c = text[s.i]!;
    if (c === '"' || c === "'") {
      if (start < 0) start = s.i;
      skipString(s);
      end = s.i;
      continue;
    }
    if (c === '#') {
      while (s.i < text.length && text[s.i] !== '\n') s.i++;
      continue;
    }
    if (depth === 0 && (c === ',' || c === ']')) {
      if (start >= 0) elements.push({ start, end });
      start = -1;
      if (c === ']') break;
    } else if (!/\s/.test(c)) {
      if (start < 0) start = s.i;
      if (c === '[' || c === '{') depth++;
      if (c === ']' || c === '}') depth--;
      end = s.i + 1;
    }
    s.i++;
  }
  return elements;
}

/** A TOML basic string; JSON's escaping is valid TOML for every string this generator writes. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

export function tomlStringArray(values: readonly string[]): string {
  return values.length === 0 ? '[]' : `[ ${values.map(tomlString).join(', ')} ]`;
}
