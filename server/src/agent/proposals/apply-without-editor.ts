import { checkApplyPaths, readWithoutFollowing, sameTargets, writeFilesInside, type DiskWrite } from './apply-guard.js';
import type { Agent } from '../agent.js';
import { prepareApplication, type CurrentText, type Proposal } from './proposal.js';
import { SensitiveFiles } from '../workspace/secrets.js';

export type ApplyOutcome = { ok: true; files: string[] } | { ok: false; reason: string };

/** Where a front-end without an editor buffer model reads and writes files. */
export interface FileAccess {
  read(absolutePath: string): Promise<CurrentText | undefined>;
  /**
   * Writes every file or, as far as it can, none. Paths are already resolved through symlinks and
   * checked; `root` (when set) is the workspace folder no directory below which may be a link.
   */
  write(files: DiskWrite[]): Promise<void>;
}

/**
 * The disk: never through a final symlink when reading, and through temporary siblings renamed
 * into place, with no link between the root and the file, when writing (agent/apply-guard.ts).
 */
export const diskAccess: FileAccess = {
  async read(absolutePath) {
    const text = readWithoutFollowing(absolutePath);
    return text === undefined ? undefined : { text, version: null };
  },
  async write(files) {
    writeFilesInside(files);
  },
};

/**
 * Accepting a proposal without an LSP editor (terminal, ACP): check every path against the
 * boundary again (the tree may have changed since the agent staged it), rebase onto what the files
 * hold now (an editor may have saved meanwhile), write, and record the fate. Any refusal or
 * conflict applies nothing. `sensitive` is the configured policy (`agent.sensitiveFiles()`); the
 * built-in one when absent.
 */
export async function applyProposal(
  agent: Agent,
  proposal: Proposal,
  access: FileAccess = diskAccess,
  options: { sensitive?: SensitiveFiles } = {},
): Promise<ApplyOutcome> {
  const refuse = async (reason: string): Promise<ApplyOutcome> => {
    await agent.proposals.settle(proposal.id, 'conflict', reason);
    return { ok: false, reason };
  };
  const sensitive = options.sensitive ?? new SensitiveFiles();
  const checked = checkApplyPaths(proposal.files, sensitive);
  if (!checked.ok) return refuse(checked.reason);

  const current = new Map<string, CurrentText | undefined>();
  for (const file of proposal.files) {
    try {
      current.set(file.absolutePath, await access.read(checked.targets.get(file.absolutePath)!.realPath));
    } catch (error) {
      return refuse(`could not read ${file.relativePath}: ${(error as Error).message}`);
    }
  }
  const prepared = prepareApplication(proposal, (path) => current.get(path));
  if (!prepared.ok) return refuse(prepared.conflict);

  // Once more right before writing: reading may have taken a while (ACP asks the editor).
  const again = checkApplyPaths(proposal.files, sensitive);
  if (!again.ok) return refuse(again.reason);
  const moved = sameTargets(checked.targets, again.targets);
  if (moved !== undefined) return refuse(`refused ${proposal.files.find((file) => file.absolutePath === moved)?.relativePath ?? moved}: it changed while being applied`);

  try {
    await access.write(
      prepared.files.map((file) => {
        const target = again.targets.get(file.absolutePath)!;
        return { absolutePath: target.realPath, root: target.root, text: file.resultText, create: file.create };
      }),
    );
  } catch (error) {
    return refuse(`could not write: ${(error as Error).message}`);
  }
  await agent.proposals.settle(proposal.id, 'applied');
  return { ok: true, files: prepared.files.map((file) => file.relativePath) };
}
