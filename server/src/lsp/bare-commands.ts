import { Commands } from '../protocol/methods.js';
import type { AgentHost } from './agent-host.js';

const REVIEW_COMMANDS: ReadonlySet<string> = new Set([Commands.applyProposal.command, Commands.previewProposal.command, Commands.discardProposal.command]);

/**
 * A command run with no argument although it needs one: what a person gets by picking it in
 * Helix's `:lsp-workspace-command` picker. Helix writes a failed command only to its log, so the
 * answer is something on screen: `codebench.ask` opens a new chat to write the request in, a review
 * command says why it cannot choose, anything else says what it needs. The result
 * is what the command answers instead. (A review command with exactly one proposal pending gets
 * it as its argument: `onlyPendingProposal`.)
 */
export async function runWithoutArguments(host: AgentHost, command: string): Promise<unknown> {
  const { client } = host.options;
  if (command === Commands.ask.command) {
    const opened = await host.chat.open(undefined);
    client.show('info', 'codebench.ask: write your request under "## you" in the chat file, then run the code action "Send to agent" (or use an "@agent …" line in your code).');
    return opened;
  }
  if (REVIEW_COMMANDS.has(command)) {
    const pending = host.agent.proposals.pending();
    const what = pending.length === 0
      ? 'there is no pending agent proposal'
      : `${pending.length} proposals are pending (${pending.map((proposal) => proposal.summary).join('; ')}); use the code actions in the changed file to pick one`;
    client.show('warning', `${command}: ${what}.`);
    return null;
  }
  client.show('warning', `${command} needs an argument; it is run by codebench's code actions, not by hand.`);
  return null;
}

/** The argument a review command gets when run bare with exactly one proposal pending. */
export function onlyPendingProposal(host: AgentHost, command: string): { proposalId: string } | undefined {
  if (!REVIEW_COMMANDS.has(command)) return undefined;
  const pending = host.agent.proposals.pending();
  return pending.length === 1 ? { proposalId: pending[0]!.id } : undefined;
}
