/** Line handling shared by the tools, so every tool numbers and cuts lines the same way. */

/** Lines without their terminators; a trailing newline does not start an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** 1-based line number of a UTF-16 offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line++;
  }
  return line;
}

/** Cuts a line to `max` UTF-16 units without splitting a surrogate pair (emoji stay whole). */
export function cutLine(line: string, max: number): { text: string; cut: boolean } {
  if (line.length <= max) return { text: line, cut: false };
  let end = max;
  const code = line.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return { text: `${line.slice(0, end)}… [${line.length - end} more characters]`, cut: true };
}

/** `  12\ttext` lines, numbers right-aligned to the widest one shown. */
export function numberLines(lines: readonly string[], firstLine: number, maxLineLength: number): string {
  const width = Math.max(4, String(firstLine + lines.length - 1).length);
  return lines
    .map((line, index) => `${String(firstLine + index).padStart(width)}\t${cutLine(line, maxLineLength).text}`)
    .join('\n');
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
