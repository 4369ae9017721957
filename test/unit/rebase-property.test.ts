import { diff3Merge } from 'node-diff3';
import { describe, expect, it } from 'vitest';
import { rebase } from '../../server/src/agent/proposals/rebase.js';
import { prng } from '../fakes/random.js';

/**
 * The rebase against a reference 3-way merge (node-diff3) over generated base / user / agent
 * triples. Texts are lines from a tiny alphabet, so the two sides' changes collide, touch and
 * repeat lines often; lines end in LF, CRLF or a lone CR, and a text may lack its final newline.
 */


const WORDS = ['a', 'b', 'c', 'a', 'b', 'd', ''];
const ENDINGS = ['\n', '\n', '\n', '\r\n', '\r\n', '\r'];

function generator(random: () => number) {
  const integer = (below: number) => Math.floor(random() * below);
  const pick = <T>(items: readonly T[]) => items[integer(items.length)]!;
  const line = () => pick(WORDS) + pick(ENDINGS);
  const lines = (count: number) => Array.from({ length: count }, line);
  /** The text of some lines, the last one sometimes without its newline. */
  const text = (parts: string[]) => {
    const joined = parts.join('');
    return random() < 0.25 ? joined.replace(/(\r\n|\r|\n)$/, '') : joined;
  };
  /** One or two edits: insert, delete or replace a run of lines, anywhere (start and end too). */
  const edit = (base: string[]) => {
    const result = [...base];
    for (let count = 1 + integer(2); count > 0; count--) {
      const at = integer(result.length + 1);
      const kind = integer(3);
      const span = 1 + integer(2);
      if (kind === 0) result.splice(at, 0, ...lines(1 + integer(2)));
      else if (kind === 1) result.splice(at, span);
      else result.splice(at, span, ...lines(1 + integer(2)));
    }
    return result;
  };
  return { integer, lines, text, edit };
}

/** The reference's own line split (a line ends in CRLF, CR or LF), written apart from the product's. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text[index];
    if (code === '\n' || (code === '\r' && text[index + 1] !== '\n')) {
      lines.push(text.slice(start, index + 1));
      start = index + 1;
    }
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

type Reference = { clean: true; text: string } | { clean: false };

function reference(base: string, user: string, agent: string): Reference {
  const regions = diff3Merge(splitLines(user), splitLines(base), splitLines(agent), { excludeFalseConflicts: true });
  const out: string[] = [];
  for (const region of regions) {
    if (region.conflict) return { clean: false };
    out.push(...region.ok!);
  }
  return { clean: true, text: out.join('') };
}

describe('rebase against a reference 3-way merge', () => {
  it('whenever diff3 merges cleanly, the rebase gives the same text or refuses; it refuses where diff3 refuses', () => {
    const seed = 20_261_121;
    const random = prng(seed);
    const { integer, lines, text, edit } = generator(random);
    const tally = { cases: 0, clean: 0, agreedConflict: 0, refusedClean: 0, mergedConflict: 0 };
    const disagreements: string[] = [];
    for (let index = 0; index < 10_000; index++) {
      const baseLines = lines(integer(12));
      const base = text(baseLines);
      const user = text(edit(baseLines));
      const agent = text(edit(baseLines));
      const expected = reference(base, user, agent);
      const outcome = rebase(base, user, agent, 'f.txt');
      tally.cases++;
      const describe = () => JSON.stringify({ case: index, base, user, agent, expected, outcome });
      if (expected.clean) {
        tally.clean++;
        if (outcome.ok && outcome.text !== expected.text) disagreements.push(`merged differently: ${describe()}`);
        if (!outcome.ok) tally.refusedClean++;
      } else if (outcome.ok) {
        tally.mergedConflict++;
        disagreements.push(`merged where diff3 refuses: ${describe()}`);
      } else {
        tally.agreedConflict++;
      }
    }
    console.log(JSON.stringify(tally));
    expect(disagreements.slice(0, 3)).toEqual([]);
    // Enough of both kinds that the comparison means something.
    expect(tally.clean).toBeGreaterThan(3000);
    expect(tally.agreedConflict).toBeGreaterThan(3000);
  });
});
