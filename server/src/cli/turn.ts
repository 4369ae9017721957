import { AskError, type AskRequest, type RunOutcome } from '../agent/agent.js';
import { describeEvidence } from '../agent/proposals/evidence.js';
import type { Proposal } from '../agent/proposals/proposal.js';
import { applyProposal } from '../agent/proposals/apply-without-editor.js';
import { parseCommand } from '../agent/commands/parse.js';
import { policyAllowCommands } from '../agent/commands/gate.js';
import { rulesFor } from '../agent/commands/policy.js';
import { terminalApprover } from './approve-prompt.js';
import { CliError, type CliContext } from './context.js';
import { colorDiff, RunRenderer } from './render.js';
import { visible } from './terminal-text.js';

/**
 * One agent turn in the terminal, shared by `ask` and `chat`: streams it, and turns the first
 * Ctrl-C into a clean cancel (the run is recorded as cancelled; nothing was written).
 */
export async function runTurn(
  context: CliContext,
  request: Omit<AskRequest, 'workspaceUri' | 'roots'>,
  renderer: RunRenderer,
  interrupts: { onInterrupt(handler: () => void): () => void },
): Promise<RunOutcome> {
  const runtime = context.runtime();
  const root = context.workspaceRoot();
  renderer.waiting();
  let handle;
  // Ctrl-C at an approval prompt cancels the run (approvals come after the run has started).
  let cancelRun = () => undefined as void;
  // Commands the policy does not allow are asked about on a TTY; without one nobody can be asked.
  const approver = 'approver' in request ? request.approver : terminalApprover(context, { beforePrompt: () => renderer.stop(), onInterrupt: () => cancelRun() });
  try {
    handle = await runtime.agent.ask({ ...request, approver, workspaceUri: context.workspaceUri(), roots: [root] }, (event) => renderer.handle(event));
    const started = handle;
    cancelRun = () => started.cancel();
  } catch (error) {
    renderer.stop();
    if (error instanceof AskError) throw new CliError(`--${error.field === 'sessionId' ? 'session' : error.field}: ${visible(error.message)}`, 2);
    throw error;
  }
  const release = interrupts.onInterrupt(() => handle.cancel());
  let outcome: RunOutcome;
  try {
    outcome = await handle.done;
  } finally {
    release();
    renderer.stop();
  }
  if (approver === undefined) await reportUnaskedCommands(context, outcome.runId);
  return outcome;
}

/**
 * Without a terminal a command the policy does not allow is refused before anyone sees it; the
 * user learns which ones, and the rule that would let them run, from the audit log of this run.
 */
async function reportUnaskedCommands(context: CliContext, runId: string): Promise<void> {
  const entries = await (await context.runtime().store()).listAudit({ workspaceUri: context.workspaceUri(), limit: 200 });
  const refused = entries.filter((entry) => entry.runId === runId && entry.kind === 'command-denied' && entry.detail.by === 'no-approver').reverse();
  for (const entry of refused) {
    const rules = rulesFor(await parseCommand(entry.subject));
    const how = rules ? `to let it run, allow it with: ${policyAllowCommands(rules).join(' && ')}` : 'a rule cannot allow it (run it yourself)';
    context.io.stderr.write(`not run: ${visible(entry.subject)} — no one could be asked (no terminal); ${visible(how)}\n`);
  }
}

export function printProposal(context: CliContext, renderer: RunRenderer, proposal: Proposal): void {
  // The summary names files the model chose; the diff is file content: both shown, never obeyed.
  const summary = visible(proposal.summary, renderer.colors);
  context.io.stdout.write(`\n${renderer.colors.bold(`Proposed changes: ${summary}`)}\n${colorDiff(proposal.diff, renderer.colors)}\n`);
  // Last, right above Apply / Discard: what the commands run after the last edit proved.
  const checked = describeEvidence(proposal.evidence);
  if (checked === undefined) return;
  const evidence = proposal.evidence ?? [];
  const colour = evidence.length > 0 && evidence.every((command) => command.exitCode === 0) ? renderer.colors.green : evidence.some((command) => command.exitCode !== 0) ? renderer.colors.red : renderer.colors.yellow;
  context.io.stdout.write(`${colour(`Checked: ${visible(checked, renderer.colors)}`)}\n`);
}

export async function applyAndReport(context: CliContext, proposal: Proposal): Promise<boolean> {
  const agent = context.runtime().agent;
  const outcome = await applyProposal(agent, proposal, undefined, { sensitive: agent.sensitiveFiles() });
  if (outcome.ok) {
    context.io.stderr.write(`applied: ${visible(outcome.files.join(', '))}\n`);
    return true;
  }
  context.io.stderr.write(`not applied: ${visible(outcome.reason)}. Nothing was changed.\n`);
  return false;
}

/**
 * Process-wide SIGINT routing: while a run is active Ctrl-C cancels it; a second Ctrl-C (or one
 * with no run) exits at once with the conventional status 130.
 */
export function sigintRouter(onIdle: () => void): { onInterrupt(handler: () => void): () => void; dispose(): void } {
  let current: (() => void) | undefined;
  let cancelling = false;
  const listener = () => {
    if (current && !cancelling) {
      cancelling = true;
      current();
      return;
    }
    onIdle();
  };
  process.on('SIGINT', listener);
  return {
    onInterrupt(handler) {
      current = handler;
      cancelling = false;
      return () => {
        current = undefined;
        cancelling = false;
      };
    },
    dispose() {
      process.off('SIGINT', listener);
    },
  };
}
