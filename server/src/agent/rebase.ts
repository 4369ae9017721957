import { diff3Merge } from 'node-diff3';

export type RebaseOutcome = { ok: true; text: string } | { ok: false; conflict: string };

function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * Re-applies the agent's change (`base` → `proposed`) on top of what the user has now
 * (`current`), line by line. Anything both sides touched differently is a conflict: we refuse
 * rather than guess, because clobbering the user's typing is the one unforgivable failure.
 */
export function rebase(base: string, current: string, proposed: string, label: string): RebaseOutcome {
  if (current === base) return { ok: true, text: proposed };
  if (proposed === base) return { ok: true, text: current };
  const regions = diff3Merge(splitLines(current), splitLines(base), splitLines(proposed), {
    excludeFalseConflicts: true,
  });
  const merged: string[] = [];
  for (const region of regions) {
    if (region.conflict) {
      const line = region.conflict.aIndex + 1;
      return {
        ok: false,
        conflict: `${label} changed near line ${line} both in the editor and by the agent`,
      };
    }
    if (region.ok) merged.push(...region.ok);
  }
  return { ok: true, text: merged.join('') };
}
