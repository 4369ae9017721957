import { diffArrays } from 'diff';
import { linesWithEnds } from './text-edits.js';

export type RebaseOutcome = { ok: true; text: string } | { ok: false; conflict: string };

/** A change to the base, in base line numbers: lines [start, end) replaced by `lines`. */
interface Hunk {
  start: number;
  end: number;
  lines: string[];
}

/** The changes turning `base` into `changed`, from the diff library's line diff. */
function hunksBetween(base: string[], changed: string[]): Hunk[] {
  const hunks: Hunk[] = [];
  let line = 0;
  let open: Hunk | undefined;
  for (const part of diffArrays(base, changed)) {
    const count = part.count ?? part.value.length;
    if (!part.added && !part.removed) {
      if (open) hunks.push(open);
      open = undefined;
      line += count;
      continue;
    }
    open ??= { start: line, end: line, lines: [] };
    if (part.removed) {
      open.end += count;
      line += count;
    } else {
      open.lines.push(...part.value);
    }
  }
  if (open) hunks.push(open);
  return hunks;
}

function same(a: Hunk, b: Hunk): boolean {
  return a.start === b.start && a.end === b.end && a.lines.length === b.lines.length && a.lines.every((line, index) => line === b.lines[index]);
}

/** Both sides touched the same base lines (or inserted at the very same place), differently. */
function clash(user: Hunk, agent: Hunk): boolean {
  if (same(user, agent)) return false;
  if (user.start === user.end && agent.start === agent.end) return user.start === agent.start;
  return user.start < agent.end && agent.start < user.end;
}

/**
 * Re-applies the agent's change (`base` → `proposed`) on top of what the user has now
 * (`current`): two line diffs against the base, merged hunk by hunk. Anything both sides touched
 * differently is a conflict: we refuse rather than guess, because clobbering the user's typing is
 * the one unforgivable failure. Linear in the size of the changes, so a 10,000-line file costs
 * milliseconds.
 */
export function rebase(base: string, current: string, proposed: string, label: string): RebaseOutcome {
  if (current === base) return { ok: true, text: proposed };
  if (proposed === base || proposed === current) return { ok: true, text: current };
  const baseLines = linesWithEnds(base);
  const user = hunksBetween(baseLines, linesWithEnds(current));
  const agent = hunksBetween(baseLines, linesWithEnds(proposed));

  const merged: Hunk[] = [...user];
  for (const hunk of agent) {
    const conflicting = user.find((theirs) => clash(theirs, hunk));
    if (conflicting) {
      return { ok: false, conflict: `${label} changed near line ${conflicting.start + 1} both in the editor and by the agent` };
    }
    if (!user.some((theirs) => same(theirs, hunk))) merged.push(hunk);
  }
  // At one base line an insertion goes before a replacement that starts there.
  merged.sort((a, b) => a.start - b.start || (a.end - a.start) - (b.end - b.start));

  const out: string[] = [];
  let line = 0;
  for (const hunk of merged) {
    for (; line < hunk.start; line++) out.push(baseLines[line]!);
    out.push(...hunk.lines);
    line = Math.max(line, hunk.end);
  }
  for (; line < baseLines.length; line++) out.push(baseLines[line]!);
  return { ok: true, text: out.join('') };
}
