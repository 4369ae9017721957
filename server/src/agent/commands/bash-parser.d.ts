// The parser ships no types; command-parse.ts narrows its output itself.
declare module '@ericcornelissen/bash-parser' {
  const parse: (source: string, options?: { mode?: 'bash' | 'posix'; insertLOC?: boolean }) => unknown;
  export default parse;
}
