/**
 * Reading shell words the way /bin/sh does, apart from the parser: which characters in a raw word
 * the shell would expand, a word's value after quote removal, and text the parser skipped. The
 * policy trusts a parse only where these agree with it (parse.ts).
 */

interface Magic {
  brace: boolean;
  tilde: boolean;
  dollar: boolean;
  /** An unquoted `*`, `?` or `[`: the shell expands the word into file names. */
  glob: boolean;
}

/** Scans a raw word honouring quotes and backslashes for characters the shell would expand. */
export function unquotedMagic(raw: string): Magic {
  const magic: Magic = { brace: false, tilde: false, dollar: false, glob: false };
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      continue;
    }
    if (char === '\\') {
      index++;
      continue;
    }
    if (char === '$') magic.dollar = true;
    if (quote === '"') {
      if (char === '"') quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (char === '{' || char === '}') magic.brace = true;
    else if (char === '*' || char === '?' || char === '[') magic.glob = true;
    else if (char === '~' && (index === 0 || raw[index - 1] === '=' || raw[index - 1] === ':')) magic.tilde = true;
  }
  return magic;
}

/** Globbing characters in a word (after quote removal: a quoted `*` counts too, which errs toward asking). */
export function hasGlob(word: string): boolean {
  return /[*?[\]]/.test(word);
}

/**
 * A word's value as /bin/sh derives it from the raw text (quote removal, backslashes, line
 * continuations), or undefined when the text is not one plain word (unquoted blanks or operators,
 * an unterminated quote). Expansions are not handled: words with them are hazards anyway.
 */
export function shellWordValue(raw: string): string | undefined {
  let out = '';
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else out += char;
      continue;
    }
    if (char === '\\') {
      const next = raw[index + 1];
      if (next === undefined) return undefined;
      index++;
      if (next === '\n') continue;
      // Inside double quotes a backslash only escapes $ ` " \ and newline.
      out += quote === '"' && !'$`"\\'.includes(next) ? `\\${next}` : next;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else out += char;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (/[\s;&|<>()]/.test(char)) return undefined;
    else out += char;
  }
  return quote === undefined ? out : undefined;
}

/**
 * The first text of `source` outside every range the parser read that the shell would not
 * ignore: blanks, operators, `!`, line continuations and comments (a `#` starting a word) are
 * fine; anything else means the parse and the shell disagree.
 */
export function skippedText(source: string, covered: Array<[number, number]>): string | undefined {
  const read = new Uint8Array(source.length);
  for (const [start, end] of covered) read.fill(1, start, end + 1);
  for (let index = 0; index < source.length; index++) {
    if (read[index]) continue;
    const char = source[index]!;
    if (/[ \t\n;&|()<>!]/.test(char)) continue;
    if (char === '\\' && source[index + 1] === '\n') {
      index++;
      continue;
    }
    if (char === '#' && (index === 0 || (!read[index - 1] && /[ \t\n;&|()<>]/.test(source[index - 1]!)))) {
      while (index < source.length && source[index] !== '\n') index++;
      continue;
    }
    return source.slice(index, index + 20);
  }
  return undefined;
}
