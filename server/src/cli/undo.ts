import { createTwoFilesPatch } from 'diff';
import { changeWithoutEditor, latestApplied, NOTHING_TO_UNDO, planWithoutEditor } from '../agent/proposals/undo.js';
import type { PlannedFile } from '../agent/proposals/revert.js';
import { MIN_ID_PREFIX } from '../store/id-prefix.js';
import type { ProposalRecord, Store } from '../store/store.js';
import { confirmApply } from './approve-prompt.js';
import { CliError, type CliContext } from './context.js';
import { colorDiff, colorsFor } from './render.js';
import type { Register } from './subcommand.js';
import { visible } from './terminal-text.js';

export const registerUndo: Register = (program, context) => {
  program
    .command('undo')
    .description("revert an applied agent change (default: this workspace's most recent); your later edits elsewhere are kept")
    .argument('[id]', `proposal id, or a unique prefix of at least ${MIN_ID_PREFIX} characters (default: the most recently applied)`)
    .option('-y, --yes', 'revert without asking (required without a terminal)')
    .action(async (id: string | undefined, options: { yes?: boolean }) => {
      process.exitCode = await runUndo(context, id, options);
    });
};

async function runUndo(context: CliContext, id: string | undefined, options: { yes?: boolean }): Promise<number> {
  const store = await context.runtime().store();
  const record = id === undefined ? await latestApplied(store, context.workspaceUri()) : await proposalByReference(store, id);
  const say = (line: string) => context.io.stderr.write(`${visible(line)}\n`);
  if (!record) {
    say(`${NOTHING_TO_UNDO} (${context.workspaceRoot()})`);
    return 0;
  }
  const sensitive = context.runtime().agent.sensitiveFiles();
  const planned = await planWithoutEditor(record, 'revert', { sensitive });
  if (!planned.ok) {
    say(planned.outcome.message);
    return planned.outcome.status === 'conflict' ? 1 : 0;
  }
  const colors = colorsFor(context.io.stdout, context.env);
  // The summary and the diff are the model's text: shown, never obeyed.
  context.io.stdout.write(`\n${colors.bold(`Undo ${visible(record.summary, colors)}`)} ${colors.dim(`(proposal ${record.id.slice(0, 8)}, applied ${record.decidedAt ?? '?'})`)}\n`);
  context.io.stdout.write(`${colorDiff(reverseDiff(planned.files), colors)}\n`);
  if (!options.yes) {
    if (!context.isInteractive) {
      say('not reverted (no terminal to confirm); rerun with --yes to revert');
      return 0;
    }
    if (!(await confirmApply(context, 'Revert these changes? [a]pply / [d]iscard (default: discard): '))) {
      say('not reverted');
      return 0;
    }
  }
  // Read, planned and checked again: the files may have changed while the question was open.
  const outcome = await changeWithoutEditor(store, record, 'revert', { sensitive });
  say(outcome.message);
  return outcome.status === 'conflict' ? 1 : 0;
}

/** A proposal by full id or unique prefix; a one-line CliError (status 2) that says why not. */
async function proposalByReference(store: Store, reference: string): Promise<ProposalRecord> {
  const found = await store.findProposal(reference);
  switch (found.kind) {
    case 'found':
      return found.item;
    case 'too-short':
      throw new CliError(`undo: no proposal "${visible(reference)}": give a full id or a prefix of at least ${MIN_ID_PREFIX} characters`, 2);
    case 'not-found':
      throw new CliError(`undo: no proposal matches "${visible(reference)}" (codebench history show SESSION lists them)`, 2);
    case 'ambiguous':
      throw new CliError(`undo: "${visible(reference)}" matches several proposals (${found.candidates.map((item) => item.id.slice(0, 8)).join(', ')}${found.more ? ', …' : ''}); give more characters`, 2);
  }
}

/** What the revert will do to each file, as it is now. */
function reverseDiff(files: readonly PlannedFile[]): string {
  return files
    .map((file) => {
      const { outcome } = file;
      if (outcome.kind === 'unchanged') return '';
      const next = outcome.kind === 'delete' ? '' : outcome.text;
      const to = outcome.kind === 'delete' ? '/dev/null' : `b/${file.file.path}`;
      return createTwoFilesPatch(`a/${file.file.path}`, to, file.currentText ?? '', next, undefined, undefined, { context: 3 }).replace(/^=+\n/, '');
    })
    .join('');
}

