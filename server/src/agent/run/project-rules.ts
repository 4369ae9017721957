import path from 'node:path';
import { CHARS_PER_TOKEN, estimateTokens } from '../../providers/token-estimate.js';
import { isInside, type WorkspaceFiles } from '../workspace/workspace-files.js';

/**
 * Project rules: the instruction files a project keeps for coding agents, found in the workspace
 * root and in every directory between it and the file asked about, one file per directory.
 * `AGENTS.md` is the shared convention; where a directory has none, the first of the
 * tool-specific files below stands in for it. `.github/copilot-instructions.md` is a repository-
 * level file by GitHub's own definition, so it is looked for in the root only.
 */
export const RULE_FILE_NAMES = ['AGENTS.md', 'CLAUDE.md', '.cursorrules'] as const;
export const ROOT_ONLY_RULE_FILE = '.github/copilot-instructions.md';

/** Rules ride along in every ask, so they are kept small: each file, and all of them together. */
export const RULES_LIMITS = { perFileTokens: 2_000, totalTokens: 4_000 };

const MIN_SHOWN_TOKENS = 100;

export interface RuleFile {
  /** Workspace-relative path, as the model's tools name it. */
  path: string;
  /** The text the model sees (scrubbed, possibly cut); empty when the file was refused or left out. */
  text: string;
  /** Why the text is shorter than the file, or why it is absent, written for the model. */
  note?: string;
}

export interface RulesOptions {
  /** The workspace root the ask is in. */
  root: string;
  /** The file asked about (absolute); without one, only the root's rules apply. */
  filePath?: string;
  /** The run's scrubber, applied before cutting so a cut never splits a secret into an unrecognised half. */
  scrub: (text: string) => string;
  limits?: { perFileTokens: number; totalTokens: number };
}

/** The rule files that apply to an ask, root first, each read through the workspace's sensitive-file policy. */
export async function projectRules(workspace: WorkspaceFiles, options: RulesOptions): Promise<RuleFile[]> {
  const limits = options.limits ?? RULES_LIMITS;
  const rules: RuleFile[] = [];
  let remainingTokens = limits.totalTokens;
  for (const [index, directory] of directoriesDownTo(options.root, options.filePath).entries()) {
    const names = index === 0 ? [RULE_FILE_NAMES[0], RULE_FILE_NAMES[1], ROOT_ONLY_RULE_FILE, RULE_FILE_NAMES[2]] : RULE_FILE_NAMES;
    for (const name of names) {
      const absolutePath = path.join(directory, name);
      const found = await readRule(workspace, absolutePath);
      if (found === undefined) continue;
      const relativePath = workspace.relativePath(absolutePath);
      if ('refused' in found) {
        rules.push({ path: relativePath, text: '', note: `${relativePath} was not read: ${found.refused}` });
      } else {
        const cut = cutToBudget(options.scrub(found.text), Math.min(limits.perFileTokens, remainingTokens), relativePath, limits);
        remainingTokens -= estimateTokens(cut.text);
        rules.push({ path: relativePath, ...cut });
      }
      break; // one file per directory: the first that exists stands for it
    }
  }
  return rules;
}

/** The root, then each directory below it down to the one holding `filePath`. */
function directoriesDownTo(root: string, filePath: string | undefined): string[] {
  const directories = [root];
  if (filePath === undefined || !isInside(root, filePath)) return directories;
  const relative = path.relative(root, path.dirname(filePath));
  if (relative === '') return directories;
  let current = root;
  for (const segment of relative.split(path.sep)) {
    current = path.join(current, segment);
    directories.push(current);
  }
  return directories;
}

/** The file's text, a refusal (protected, unreadable), or undefined when there is no such file. */
async function readRule(workspace: WorkspaceFiles, absolutePath: string): Promise<{ text: string } | { refused: string } | undefined> {
  let content;
  try {
    // record: false — reading the rules must not pin a base snapshot the run's own edits rebase onto.
    content = await workspace.read(absolutePath, { record: false });
  } catch (error) {
    return { refused: `it could not be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  if (content.kind === 'missing' || content.kind === 'directory') return undefined;
  if (content.kind === 'unreadable') return { refused: content.reason };
  return { text: content.text };
}

function cutToBudget(text: string, budgetTokens: number, relativePath: string, limits: { perFileTokens: number; totalTokens: number }): Omit<RuleFile, 'path'> {
  if (estimateTokens(text) <= budgetTokens) return { text };
  // A few lines of a file are more likely to mislead than to help: below this, leave it out whole.
  if (budgetTokens < MIN_SHOWN_TOKENS) {
    return { text: '', note: `${relativePath} was left out: the rules files above used the whole rules budget (${limits.totalTokens.toLocaleString('en-US')} tokens).` };
  }
  const maxChars = Math.floor(budgetTokens * CHARS_PER_TOKEN);
  const head = text.slice(0, maxChars);
  // End at a line break when one is reasonably close, so no rule is shown half-written.
  const lastBreak = head.lastIndexOf('\n');
  const shown = lastBreak > maxChars / 2 ? head.slice(0, lastBreak) : head;
  const why = budgetTokens < limits.perFileTokens ? `what was left of the ${limits.totalTokens.toLocaleString('en-US')}-token rules budget` : `the ${limits.perFileTokens.toLocaleString('en-US')}-token limit per rules file`;
  return {
    text: shown,
    note: `${relativePath} was cut: ${shown.length.toLocaleString('en-US')} of its ${text.length.toLocaleString('en-US')} characters are shown (${why}).`,
  };
}
