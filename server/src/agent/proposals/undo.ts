import { lstatSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProposalRecord } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import type { SensitiveFiles } from '../workspace/secrets.js';
import { checkApplyPaths, sameTargets, type ApplyTarget } from './apply-guard.js';
import { diskAccess, type FileAccess } from './apply-without-editor.js';
import type { ProposalFile as StagedFile } from './proposal.js';
import { planChange, type Direction, type Plan, type PlannedFile } from './revert.js';

export type { Direction } from './revert.js';

/*
 * Undo and re-apply as every front-end says and records them: which stored proposals qualify,
 * the one-line messages, the store's record, and the change written without an editor (terminal,
 * ACP) through the same path checks and safe writes as accepting a proposal there.
 */

/** Undo's default: the workspace's most recently applied proposal (by when it was applied). */
export async function latestApplied(store: Store, workspaceUri: string): Promise<ProposalRecord | undefined> {
  return (await store.recentlyAppliedProposals({ workspaceUri, limit: 1 }))[0];
}

/** The line for a workspace with nothing to undo. */
export const NOTHING_TO_UNDO = 'no applied agent change to undo in this workspace';

export type UndoOutcome =
  | { status: 'reverted' | 'applied'; files: string[]; message: string }
  | { status: 'conflict'; files: string[]; message: string }
  | { status: 'nothing'; files: string[]; message: string };

export function isApplied(record: ProposalRecord): boolean {
  return record.status === 'applied' || record.status === 'unconfirmed';
}

/** Why this record cannot go in `direction`, as the one line the user sees; undefined when it can. */
export function notChangeable(record: ProposalRecord, direction: Direction): string | undefined {
  if (direction === 'revert') {
    if (isApplied(record)) return undefined;
    if (record.status === 'reverted') return `"${record.summary}" is already reverted`;
    return `"${record.summary}" was never applied (it is ${record.status})`;
  }
  return record.status === 'reverted' ? undefined : `"${record.summary}" is not reverted (it is ${record.status})`;
}

/** The files a plan changes, workspace-relative. */
export function changedPaths(files: readonly PlannedFile[]): string[] {
  return files.filter((file) => file.outcome.kind !== 'unchanged').map((file) => file.file.path);
}

/** The result line of a plan that worked, once written. */
export function doneMessage(record: ProposalRecord, direction: Direction, paths: readonly string[]): string {
  if (paths.length === 0) return direction === 'revert' ? `"${record.summary}" was already undone; recorded as reverted` : `"${record.summary}" is already there; recorded as applied`;
  return direction === 'revert' ? `reverted "${record.summary}" in ${paths.join(', ')}` : `applied "${record.summary}" again in ${paths.join(', ')}`;
}

export function conflictMessage(direction: Direction, conflict: string): string {
  return `${direction === 'revert' ? 'not reverted' : 'not applied'}: ${conflict}; nothing was changed`;
}

export function conflictOutcome(direction: Direction, plan: Extract<Plan, { ok: false }>): UndoOutcome {
  return { status: 'conflict', files: [plan.conflict.path], message: conflictMessage(direction, plan.conflict.message) };
}

/**
 * Records the change once it is written: `reverted`, or `applied` again (with an audit entry, as
 * every applied proposal has one).
 */
export async function recordChange(store: Store, record: ProposalRecord, direction: Direction, paths: readonly string[]): Promise<void> {
  if (direction === 'revert') {
    await store.setProposalStatus(record.id, 'reverted', paths.length === 0 ? 'already undone by hand' : undefined);
    return;
  }
  await store.setProposalStatus(record.id, 'applied', 're-applied after a revert');
  await store.appendAudit({
    workspaceUri: (await store.sessionWorkspaceUri(record.sessionId)) ?? '',
    kind: 'proposal-applied',
    sessionId: record.sessionId,
    runId: record.runId,
    subject: record.summary,
    detail: { proposalId: record.id, files: [...paths], note: 're-applied after a revert' },
  });
}

/** A stored file as the apply guard takes it (only its paths matter there). */
function stagedFileOf(file: ProposalRecord['files'][number]): StagedFile {
  return { absolutePath: fileURLToPath(file.uri), relativePath: file.path, base: null, proposedText: '' };
}

/** A plan read from the files as they are (no editor), with where each file really is. */
export type ReadPlan = { ok: true; files: PlannedFile[]; targets: Map<string, ApplyTarget> } | { ok: false; outcome: UndoOutcome };

/**
 * What reverting (or re-applying) a stored proposal would do to the files as they are now: every
 * path checked again and read through `access` (the disk by default), the whole plan computed
 * before anything is written. Nothing is written here.
 */
export async function planWithoutEditor(record: ProposalRecord, direction: Direction, options: { access?: FileAccess; sensitive?: SensitiveFiles } = {}): Promise<ReadPlan> {
  const refused = notChangeable(record, direction);
  if (refused !== undefined) return { ok: false, outcome: { status: 'nothing', files: [], message: refused } };
  const access = options.access ?? diskAccess;
  const staged = record.files.map(stagedFileOf);
  const checked = checkApplyPaths(staged, options.sensitive);
  if (!checked.ok) return { ok: false, outcome: refusal(direction, checked.reason) };
  const texts = new Map<string, string | undefined>();
  for (const file of staged) {
    try {
      texts.set(file.relativePath, (await access.read(checked.targets.get(file.absolutePath)!.realPath))?.text);
    } catch (error) {
      return { ok: false, outcome: refusal(direction, `could not read ${file.relativePath}: ${(error as Error).message}`) };
    }
  }
  const plan = planChange(record, direction, (file) => texts.get(file.path));
  if (!plan.ok) return { ok: false, outcome: conflictOutcome(direction, plan) };
  return { ok: true, files: plan.files, targets: checked.targets };
}

function refusal(direction: Direction, reason: string): UndoOutcome {
  return { status: 'conflict', files: [], message: conflictMessage(direction, reason) };
}

/**
 * Reverts (or re-applies) a stored proposal without an editor (terminal, ACP): planned as above,
 * the paths checked once more, written through `access` (on disk: temporary files renamed into
 * place), a created file deleted from the disk (ACP has no delete), and recorded. A refusal or
 * conflict writes nothing and records nothing.
 */
export async function changeWithoutEditor(
  store: Store,
  record: ProposalRecord,
  direction: Direction,
  options: { access?: FileAccess; sensitive?: SensitiveFiles } = {},
): Promise<UndoOutcome> {
  const planned = await planWithoutEditor(record, direction, options);
  if (!planned.ok) return planned.outcome;
  const access = options.access ?? diskAccess;
  // Once more right before writing: reading may have taken a while (ACP asks the editor).
  const staged = record.files.map(stagedFileOf);
  const again = checkApplyPaths(staged, options.sensitive);
  if (!again.ok) return refusal(direction, again.reason);
  const moved = sameTargets(planned.targets, again.targets);
  if (moved !== undefined) return refusal(direction, `refused ${staged.find((file) => file.absolutePath === moved)?.relativePath ?? moved}: it changed while being written`);
  const target = (file: PlannedFile): ApplyTarget => again.targets.get(fileURLToPath(file.file.uri))!;
  try {
    const writes = planned.files.flatMap((file) =>
      file.outcome.kind === 'write' || file.outcome.kind === 'create'
        ? [{ absolutePath: target(file).realPath, root: target(file).root, text: file.outcome.text, create: file.outcome.kind === 'create' }]
        : [],
    );
    if (writes.length > 0) await access.write(writes);
    for (const file of planned.files) if (file.outcome.kind === 'delete') removeFile(target(file).realPath);
  } catch (error) {
    return refusal(direction, `could not write: ${(error as Error).message}`);
  }
  const paths = changedPaths(planned.files);
  await recordChange(store, record, direction, paths);
  return { status: direction === 'revert' ? 'reverted' : 'applied', files: paths, message: doneMessage(record, direction, paths) };
}

/** The workspace's most recently applied proposal reverted without an editor (ACP's `/undo`). */
export async function undoLatest(store: Store, workspaceUri: string, options: { access?: FileAccess; sensitive?: SensitiveFiles } = {}): Promise<UndoOutcome> {
  const record = await latestApplied(store, workspaceUri);
  if (!record) return { status: 'nothing', files: [], message: NOTHING_TO_UNDO };
  return changeWithoutEditor(store, record, 'revert', options);
}

/** Deletes a file the agent created, never through a link and never a directory. */
function removeFile(realPath: string): void {
  const info = lstatSync(realPath, { throwIfNoEntry: false });
  if (info === undefined) return;
  if (!info.isFile()) throw new Error(`${realPath} is no longer a regular file`);
  unlinkSync(realPath);
}
