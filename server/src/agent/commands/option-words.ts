/**
 * Reading an argv's option words the way getopt-style programs do: which option a word is, its
 * value, and (for sed) which words are scripts. Shared by programs.ts and options.ts.
 */

/**
 * Which option a word is and whether it takes the next word as its value. Short clusters are read
 * letter by letter (`-0n 1`: -0, then -n takes "1"), long options take `=value` or the next word.
 */
export function optionValue(word: string, valued: readonly string[]): { option?: string; value?: string; next: boolean } {
  if (word.startsWith('--')) {
    const [option, inline] = splitOption(word);
    return { option, value: inline, next: inline === undefined && valued.includes(option) };
  }
  for (let index = 1; index < word.length; index++) {
    const option = `-${word[index]}`;
    if (!valued.includes(option)) continue;
    const rest = word.slice(index + 1);
    return rest === '' ? { option, next: true } : { option, value: rest, next: false };
  }
  return { option: word.length === 2 ? word : undefined, next: false };
}

/** `--name=value` → [--name, value]; `-n5` → [-n, 5]; anything else → [word]. */
export function splitOption(word: string): [string, string | undefined] {
  if (word.startsWith('--')) {
    const equals = word.indexOf('=');
    return equals === -1 ? [word, undefined] : [word.slice(0, equals), word.slice(equals + 1)];
  }
  if (/^-[A-Za-z0-9]./.test(word)) return [word.slice(0, 2), word.slice(2)];
  return [word, undefined];
}

export function firstOperand(argv: readonly string[], valued: string[]): string | undefined {
  for (let index = 1; index < argv.length; index++) {
    const word = argv[index]!;
    if (word === '--') return argv[index + 1];
    if (!word.startsWith('-') || word === '-') return word;
    const [option, inline] = splitOption(word);
    if (valued.includes(option) && inline === undefined) index++;
  }
  return undefined;
}

/** A sed command line's scripts: every -e/--expression value, else its first operand. */
export function sedScripts(argv: readonly string[]): string[] {
  const scripts: string[] = [];
  let operand: string | undefined;
  for (let index = 1; index < argv.length; index++) {
    const word = argv[index]!;
    const [option, inline] = splitOption(word);
    if (option === '-e' || option === '--expression') scripts.push(inline ?? argv[++index] ?? '');
    else if ((option === '-f' || option === '--file' || option === '-l' || option === '--line-length') && inline === undefined) index++;
    else if (!word.startsWith('-') || word === '-') operand ??= word;
  }
  return scripts.length > 0 ? scripts : operand !== undefined ? [operand] : [];
}
