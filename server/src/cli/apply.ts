import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Agent } from '../agent/agent.js';
import { prepareApplication, type Proposal } from '../agent/proposal.js';

export type DiskApplyOutcome = { ok: true; files: string[] } | { ok: false; reason: string };

function readDisk(path: string): { text: string; version: null } | undefined {
  try {
    return { text: readFileSync(path, 'utf8'), version: null };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The terminal's way to accept a proposal: rebase onto what is on disk now (an editor may have
 * saved meanwhile), write every file to a temporary sibling, then rename them all into place, so
 * a crash never leaves a half-written file.
 */
export async function applyToDisk(agent: Agent, proposal: Proposal): Promise<DiskApplyOutcome> {
  const prepared = prepareApplication(proposal, readDisk);
  if (!prepared.ok) {
    await agent.proposals.settle(proposal.id, 'conflict', prepared.conflict);
    return { ok: false, reason: prepared.conflict };
  }
  const staged: Array<{ temporary: string; target: string }> = [];
  try {
    for (const file of prepared.files) {
      mkdirSync(dirname(file.absolutePath), { recursive: true });
      const temporary = join(dirname(file.absolutePath), `.${basename(file.absolutePath)}.codebench-${randomBytes(4).toString('hex')}`);
      const mode = file.create ? 0o644 : statSync(file.absolutePath).mode & 0o7777;
      writeFileSync(temporary, file.resultText, { mode });
      staged.push({ temporary, target: file.absolutePath });
    }
    for (const { temporary, target } of staged) renameSync(temporary, target);
  } catch (error) {
    for (const { temporary } of staged) {
      try {
        unlinkSync(temporary);
      } catch {
        // Already renamed or never written.
      }
    }
    const reason = `could not write: ${(error as Error).message}`;
    await agent.proposals.settle(proposal.id, 'conflict', reason);
    return { ok: false, reason };
  }
  await agent.proposals.settle(proposal.id, 'applied');
  return { ok: true, files: prepared.files.map((file) => file.relativePath) };
}
