import { AskError, type AskRequest, type RunOutcome } from '../agent/agent.js';
import type { Proposal } from '../agent/proposals/proposal.js';
import { applyProposal } from '../agent/proposals/apply-without-editor.js';
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
  try {
    // Commands the policy does not allow are asked about on a TTY, denied otherwise.
    const approver = request.approver ?? terminalApprover(context, { beforePrompt: () => renderer.stop() });
    handle = await runtime.agent.ask({ ...request, approver, workspaceUri: context.workspaceUri(), roots: [root] }, (event) => renderer.handle(event));
  } catch (error) {
    renderer.stop();
    if (error instanceof AskError) throw new CliError(`--${error.field === 'sessionId' ? 'session' : error.field}: ${visible(error.message)}`, 2);
    throw error;
  }
  const release = interrupts.onInterrupt(() => handle.cancel());
  try {
    return await handle.done;
  } finally {
    release();
    renderer.stop();
  }
}

export function printProposal(context: CliContext, renderer: RunRenderer, proposal: Proposal): void {
  // The summary names files the model chose; the diff is file content: both shown, never obeyed.
  const summary = visible(proposal.summary, renderer.colors);
  context.io.stdout.write(`\n${renderer.colors.bold(`Proposed changes: ${summary}`)}\n${colorDiff(proposal.diff, renderer.colors)}\n`);
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
