import { createTwoFilesPatch } from 'diff';
import type { FileSnapshot, StagedChange } from '../workspace/overlay.js';
import type { CommandEvidence } from './evidence.js';
import { rebase } from './rebase.js';
import { applyEdits, computeEdits, type OffsetEdit } from './text-edits.js';

export type ProposalStatus = 'proposed' | 'applied' | 'unconfirmed' | 'discarded' | 'conflict';

export interface ProposalFile {
  absolutePath: string;
  relativePath: string;
  /** What the agent started from; null for a file the agent created. */
  base: FileSnapshot | null;
  proposedText: string;
  /** The root the path belongs to and what it named when staged (see `StagedChange`). */
  root?: string;
  realPath?: string;
}

export interface Proposal {
  id: string;
  runId: string;
  sessionId: string;
  summary: string;
  diff: string;
  files: ProposalFile[];
  status: ProposalStatus;
  /** The file the user asked from; the proposal is offered there even if it changes other files. */
  originPath?: string;
  /** Hunks the user accepted or rejected one by one, for the record of its fate. */
  hunksAccepted?: number;
  hunksRejected?: number;
  /** The commands run after the run's last edit (see `evidenceOf`); absent when it ran none. */
  evidence?: CommandEvidence[];
}

/** What a file holds right now: an open buffer (with its version) or the disk (version null). */
export interface CurrentText {
  text: string;
  version: number | null;
}

export interface PreparedFile {
  absolutePath: string;
  relativePath: string;
  create: boolean;
  version: number | null;
  /** The text the edits' offsets refer to. */
  currentText: string;
  edits: OffsetEdit[];
  /** The text the file must hold once the edits are applied; used to confirm the editor did it. */
  resultText: string;
}

export type PreparedApplication = { ok: true; files: PreparedFile[] } | { ok: false; conflict: string };

export function unifiedDiff(files: ProposalFile[]): string {
  return files
    .map((file) =>
      createTwoFilesPatch(
        file.base ? `a/${file.relativePath}` : '/dev/null',
        `b/${file.relativePath}`,
        file.base?.text ?? '',
        file.proposedText,
        undefined,
        undefined,
        { context: 3 },
      ).replace(/^=+\n/, ''),
    )
    .join('');
}

/** "+3 −1" style counts from a unified diff, ignoring its headers. */
export function diffStat(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++') || line.startsWith('---')) continue;
    if (line.startsWith('+')) added++;
    else if (line.startsWith('-')) removed++;
  }
  return { added, removed };
}

export function describeProposal(files: ProposalFile[], diff: string): string {
  const { added, removed } = diffStat(diff);
  const where = files.length === 1 ? files[0]!.relativePath : `${files.length} files`;
  return `${where} (+${added} −${removed})`;
}

export function proposalFilesFromChanges(changes: StagedChange[]): ProposalFile[] {
  return changes.map((change) => ({
    absolutePath: change.absolutePath,
    relativePath: change.relativePath,
    base: change.base,
    proposedText: change.text,
    ...(change.root !== undefined ? { root: change.root } : {}),
    ...(change.realPath !== undefined ? { realPath: change.realPath } : {}),
  }));
}

/**
 * Turns a proposal into edits against what each file holds *now*. When the user typed since the
 * agent read a file, the agent's change is rebased onto the new text; a real conflict refuses the
 * whole proposal, so a run never lands half-applied.
 */
export function prepareApplication(
  proposal: Proposal,
  currentTextOf: (absolutePath: string) => CurrentText | undefined,
): PreparedApplication {
  const files: PreparedFile[] = [];
  for (const file of proposal.files) {
    const current = currentTextOf(file.absolutePath);
    if (file.base === null) {
      if (current && current.text !== file.proposedText) {
        return { ok: false, conflict: `${file.relativePath} was created in the meantime with other content` };
      }
      if (current) continue;
      files.push({
        absolutePath: file.absolutePath,
        relativePath: file.relativePath,
        create: true,
        version: null,
        currentText: '',
        edits: file.proposedText === '' ? [] : [{ start: 0, end: 0, newText: file.proposedText }],
        resultText: file.proposedText,
      });
      continue;
    }
    if (!current) return { ok: false, conflict: `${file.relativePath} no longer exists` };
    const merged = rebase(file.base.text, current.text, file.proposedText, file.relativePath);
    if (!merged.ok) return { ok: false, conflict: merged.conflict };
    const edits = computeEdits(current.text, merged.text);
    if (edits.length === 0) continue;
    files.push({
      absolutePath: file.absolutePath,
      relativePath: file.relativePath,
      create: false,
      version: current.version,
      currentText: current.text,
      edits,
      resultText: merged.text,
    });
  }
  return { ok: true, files };
}

/** Hunks are numbered across files in order; a client picks them by these numbers. */
export function countHunks(files: PreparedFile[]): number {
  return files.reduce((total, file) => total + file.edits.length, 0);
}

/** Only the chosen hunks of a prepared application (files left with none are dropped). */
export function selectHunks(files: PreparedFile[], chosen: ReadonlySet<number>): PreparedFile[] {
  let index = 0;
  const selected: PreparedFile[] = [];
  for (const file of files) {
    const edits = file.edits.filter(() => chosen.has(index++));
    if (edits.length === 0) continue;
    selected.push({ ...file, edits, resultText: applyEdits(file.currentText, edits) });
  }
  return selected;
}

/**
 * The proposal without the rejected hunks, re-based on the current text: what remains to decide.
 * Files whose hunks were all rejected drop out.
 */
export function withoutHunks(proposal: Proposal, files: PreparedFile[], rejected: ReadonlySet<number>): ProposalFile[] {
  const remaining = new Map<string, ProposalFile>();
  for (const file of proposal.files) remaining.set(file.absolutePath, file);
  let index = 0;
  for (const file of files) {
    const kept = file.edits.filter(() => !rejected.has(index++));
    if (kept.length === 0) {
      remaining.delete(file.absolutePath);
      continue;
    }
    const original = remaining.get(file.absolutePath);
    remaining.set(file.absolutePath, {
      ...(original?.root !== undefined ? { root: original.root } : {}),
      ...(original?.realPath !== undefined ? { realPath: original.realPath } : {}),
      absolutePath: file.absolutePath,
      relativePath: file.relativePath,
      base: file.create ? null : { text: file.currentText, version: file.version },
      proposedText: applyEdits(file.currentText, kept),
    });
  }
  return [...remaining.values()];
}
