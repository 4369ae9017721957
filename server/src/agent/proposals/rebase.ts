import { diffArrays } from 'diff';
import { linesWithEnds } from './text-edits.js';

export type RebaseOutcome = { ok: true; text: string } | { ok: false; conflict: string };

type Side = 'user' | 'agent';

/**
 * One side's change to the base: base lines [start, end) became lines [changedStart, changedEnd)
 * of that side's text.
 */
interface Hunk {
  side: Side;
  start: number;
  end: number;
  changedStart: number;
  changedEnd: number;
}

/** The changes turning `base` into `changed`, from the diff library's line diff. */
function hunksBetween(base: string[], changed: string[], side: Side): Hunk[] {
  const hunks: Hunk[] = [];
  let line = 0;
  let changedLine = 0;
  let open: Hunk | undefined;
  for (const part of diffArrays(base, changed)) {
    const count = part.count ?? part.value.length;
    if (!part.added && !part.removed) {
      if (open) hunks.push(open);
      open = undefined;
      line += count;
      changedLine += count;
      continue;
    }
    open ??= { side, start: line, end: line, changedStart: changedLine, changedEnd: changedLine };
    if (part.removed) {
      open.end += count;
      line += count;
    } else {
      open.changedEnd += count;
      changedLine += count;
    }
  }
  if (open) hunks.push(open);
  return hunks;
}

/**
 * What one side made of base lines [start, end), which covers all of that side's hunks in a
 * region: the lines between its hunks are unchanged, so they map one to one.
 */
function sideText(hunks: Hunk[], side: Side, start: number, end: number, base: string[], changed: string[]): string[] {
  const own = hunks.filter((hunk) => hunk.side === side);
  const first = own[0];
  const last = own[own.length - 1];
  if (!first || !last) return base.slice(start, end);
  return changed.slice(first.changedStart - (first.start - start), last.changedEnd + (end - last.end));
}

function sameLines(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((line, index) => line === b[index]);
}

/**
 * Re-applies the agent's change (`base` → `proposed`) on top of what the user has now
 * (`current`), as diff3 does: two line diffs against the base; hunks of either side that overlap
 * **or touch** (one ends on the base line where the other starts, or both insert at one place)
 * form one region. A region only one side changed takes that side's lines; a region both changed
 * merges only if both made it the very same text, and is a conflict otherwise.
 *
 * The policy is deliberate: we refuse wherever diff3 refuses (so the user deleting line b while
 * the agent edits line c is a conflict, as in git), never guess an order for changes that touch,
 * because clobbering or reordering the user's typing is the one unforgivable failure. Lines end in
 * LF, CRLF or a lone CR; a file without a final newline is no different. Linear in the size of the
 * changes, so a 10,000-line file costs milliseconds. test/unit/rebase-property.test.ts holds this
 * to node-diff3 over thousands of generated merges.
 */
export function rebase(base: string, current: string, proposed: string, label: string): RebaseOutcome {
  if (current === base) return { ok: true, text: proposed };
  if (proposed === base || proposed === current) return { ok: true, text: current };
  const baseLines = linesWithEnds(base);
  const userLines = linesWithEnds(current);
  const agentLines = linesWithEnds(proposed);
  const hunks = [...hunksBetween(baseLines, userLines, 'user'), ...hunksBetween(baseLines, agentLines, 'agent')];
  hunks.sort((a, b) => a.start - b.start);

  const out: string[] = [];
  let line = 0;
  for (let index = 0; index < hunks.length; ) {
    const region = [hunks[index]!];
    const start = region[0]!.start;
    let end = region[0]!.end;
    // `<=`, not `<`: a hunk starting where the region ends touches it, and diff3 calls that a conflict.
    for (index++; index < hunks.length && hunks[index]!.start <= end; index++) {
      end = Math.max(end, hunks[index]!.end);
      region.push(hunks[index]!);
    }
    for (; line < start; line++) out.push(baseLines[line]!);
    const user = sideText(region, 'user', start, end, baseLines, userLines);
    const agent = sideText(region, 'agent', start, end, baseLines, agentLines);
    const both = region.some((hunk) => hunk.side === 'user') && region.some((hunk) => hunk.side === 'agent');
    if (both && !sameLines(user, agent)) {
      return { ok: false, conflict: `${label} changed near line ${start + 1} both in the editor and by the agent` };
    }
    out.push(...(region.some((hunk) => hunk.side === 'user') ? user : agent));
    line = end;
  }
  for (; line < baseLines.length; line++) out.push(baseLines[line]!);
  return { ok: true, text: out.join('') };
}
