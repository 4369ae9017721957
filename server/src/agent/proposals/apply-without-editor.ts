import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Agent } from '../agent.js';
import { prepareApplication, type CurrentText, type Proposal } from './proposal.js';

export type ApplyOutcome = { ok: true; files: string[] } | { ok: false; reason: string };

/** Where a front-end without an editor buffer model reads and writes files. */
export interface FileAccess {
  read(absolutePath: string): Promise<CurrentText | undefined>;
  /** Writes every file or, as far as it can, none. */
  write(files: Array<{ absolutePath: string; text: string; create: boolean }>): Promise<void>;
}

/**
 * The disk: write every file to a temporary sibling, then rename them all into place, so a crash
 * never leaves a half-written file.
 */
export const diskAccess: FileAccess = {
  async read(absolutePath) {
    try {
      return { text: readFileSync(absolutePath, 'utf8'), version: null };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
  async write(files) {
    const staged: Array<{ temporary: string; target: string }> = [];
    try {
      for (const file of files) {
        mkdirSync(dirname(file.absolutePath), { recursive: true });
        const temporary = join(dirname(file.absolutePath), `.${basename(file.absolutePath)}.codebench-${randomBytes(4).toString('hex')}`);
        const mode = file.create ? 0o644 : statSync(file.absolutePath).mode & 0o7777;
        writeFileSync(temporary, file.text, { mode });
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
      throw error;
    }
  },
};

/**
 * Accepting a proposal without an LSP editor (terminal, ACP): rebase onto what the files hold now
 * (an editor may have saved meanwhile), write, and record the fate.
 */
export async function applyProposal(agent: Agent, proposal: Proposal, access: FileAccess = diskAccess): Promise<ApplyOutcome> {
  const current = new Map<string, CurrentText | undefined>();
  for (const file of proposal.files) current.set(file.absolutePath, await access.read(file.absolutePath));
  const prepared = prepareApplication(proposal, (path) => current.get(path));
  if (!prepared.ok) {
    await agent.proposals.settle(proposal.id, 'conflict', prepared.conflict);
    return { ok: false, reason: prepared.conflict };
  }
  try {
    await access.write(prepared.files.map((file) => ({ absolutePath: file.absolutePath, text: file.resultText, create: file.create })));
  } catch (error) {
    const reason = `could not write: ${(error as Error).message}`;
    await agent.proposals.settle(proposal.id, 'conflict', reason);
    return { ok: false, reason };
  }
  await agent.proposals.settle(proposal.id, 'applied');
  return { ok: true, files: prepared.files.map((file) => file.relativePath) };
}
