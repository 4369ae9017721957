import { describe, expect, it } from 'vitest';
import { asPath, parseEditBlocks, type EditBlock } from '../../server/src/agent/run/edit-blocks.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

const PATHS = ['src/greet.ts', 'README.md', 'a/b/c-d_e.f.py', 'Makefile', 'src/[id]/page.tsx'];
/** How models write the path line. */
const PATH_STYLES: Array<(path: string) => string> = [
  (path) => path,
  (path) => `\`${path}\``,
  (path) => `**${path}**`,
  (path) => `${path}:`,
  (path) => `### ${path}`,
  (path) => `File: ${path}`,
  (path) => `  ${path}  `,
  (path) => `**\`${path}\`**`,
];
/** Lines that look like markup but are content: fences, short marker runs, conflict-ish text. */
const LINES = ['  return "hello";', '', 'if (a) {', '}', '```', '====', '<<<< not a marker', '>>> quote', '\tindented', 'ünïcödé 🌍', '  // SEARCH'];
const FENCES = [['```ts', '```'], ['```', '```'], ['~~~python', '~~~'], ['', '']] as const;

function someLines(next: () => number, atLeast: number): string[] {
  return Array.from({ length: atLeast + Math.floor(next() * 4) }, () => pick(next, LINES));
}

describe('SEARCH/REPLACE edit blocks', () => {
  it.each(Array.from({ length: 300 }, (_, index) => index))('reads generated reply variant %i', (seed) => {
    const next = random(seed + 1);
    const eol = next() < 0.2 ? '\r\n' : '\n';
    const expected: Array<Omit<EditBlock, 'line'>> = [];
    const reply: string[] = [pick(next, ['', 'Here is the change:', 'I updated the greeting.\n'])];
    const count = 1 + Math.floor(next() * 3);
    let previousPath: string | undefined;
    for (let index = 0; index < count; index++) {
      // A block right after another may leave out the path: it shares the one above.
      const sharesPath = previousPath !== undefined && next() < 0.25;
      const path = sharesPath ? previousPath! : pick(next, PATHS);
      const [open, close] = pick(next, FENCES);
      const search = next() < 0.15 ? [] : someLines(next, 1);
      const replace = someLines(next, 0);
      if (!sharesPath) {
        reply.push(pick(next, PATH_STYLES)(path));
        if (next() < 0.2) reply.push('');
      }
      if (open) reply.push(open);
      reply.push(pick(next, ['<<<<<<< SEARCH', '<<<<<<< SEARCH  ', '<<<<<<<SEARCH']), ...search, pick(next, ['=======', '=======  ']), ...replace);
      reply.push(pick(next, ['>>>>>>> REPLACE', '>>>>>>>REPLACE']));
      if (close) reply.push(close);
      reply.push(pick(next, ['', 'That renames it.']));
      expected.push({ path, search: search.join('\n'), replace: replace.join('\n') });
      // Prose after a block breaks the sharing: the next block then names its own path.
      previousPath = reply.at(-1) === '' && !close ? path : undefined;
    }
    const parsed = parseEditBlocks(reply.join(eol));
    expect(parsed.problems).toEqual([]);
    expect(parsed.blocks.map(({ line: _line, ...block }) => block)).toEqual(expected);
  });

  it('reports the SEARCH line of each block, counted in the reply', () => {
    const parsed = parseEditBlocks(['Intro', 'a.ts', '<<<<<<< SEARCH', 'x', '=======', 'y', '>>>>>>> REPLACE'].join('\n'));
    expect(parsed.blocks).toEqual([{ path: 'a.ts', search: 'x', replace: 'y', line: 3 }]);
  });

  it('reports blocks it cannot read instead of guessing', () => {
    expect(parseEditBlocks('a.ts\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE').problems).toEqual([
      'The block at line 2 of your reply has no "=======" line between its SEARCH and REPLACE parts.',
    ]);
    expect(parseEditBlocks('a.ts\n<<<<<<< SEARCH\nx\n=======\ny\n').problems).toEqual([
      'The block at line 2 of your reply is not closed with ">>>>>>> REPLACE".',
    ]);
    expect(parseEditBlocks('Here is the change to the file\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE').problems).toEqual([
      'The block at line 2 of your reply has no file path: write the path on its own line right before the block.',
    ]);
    // An unclosed block does not swallow the next one.
    const parsed = parseEditBlocks('a.ts\n<<<<<<< SEARCH\nx\n=======\ny\nb.ts\n<<<<<<< SEARCH\np\n=======\nq\n>>>>>>> REPLACE');
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.blocks).toEqual([{ path: 'b.ts', search: 'p', replace: 'q', line: 7 }]);
  });

  it('finds no blocks in an ordinary answer', () => {
    expect(parseEditBlocks('The function greets the user.\n\n```ts\nconst a = 1;\n```\n')).toEqual({ blocks: [], problems: [] });
  });

  it.each([
    ['src/a.ts', 'src/a.ts'],
    ['`src/a.ts`', 'src/a.ts'],
    ['**src/a.ts**:', 'src/a.ts'],
    ['Path: ../outside.txt', '../outside.txt'],
    ['Here is the fix', undefined],
    ['```ts', undefined],
    ['>>>>>>> REPLACE', undefined],
    ['', undefined],
  ])('reads the path line %j as %j', (line, path) => {
    expect(asPath(line)).toBe(path);
  });
});
