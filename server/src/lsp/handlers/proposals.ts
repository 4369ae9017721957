import { Commands, Requests } from '../../protocol/methods.js';
import { invalidParams, type AgentHost } from '../agent-host.js';
import { route, type Route } from '../route.js';

/**
 * A proposal id must name a proposal this server made: pending ones are in memory, settled ones
 * (freed from memory) in the store. InvalidParams naming the field otherwise.
 */
async function known(host: AgentHost, proposalId: string, where: string): Promise<string> {
  if (host.agent.proposals.get(proposalId)) return proposalId;
  const record = await host.agent.proposals.recorded(proposalId);
  if (!record || record.status === 'proposed') throw invalidParams(`Invalid params: ${where}.proposalId: no pending proposal "${proposalId}"`);
  return proposalId;
}

/** Reviewing a pending proposal: apply, preview, discard (whole or by hunk), and the inline view. */
export const proposalRoutes: Route[] = [
  route(Commands.applyProposal, async (host, { proposalId, hunks }, { where }) => {
    // A reverted proposal is applied again whole, from its stored diff (lsp/undo-flow.ts).
    const reapplied = host.agent.proposals.get(proposalId) ? undefined : await host.undo.reapply(proposalId);
    return { status: reapplied ?? (await host.review.apply(await known(host, proposalId, where), hunks)) };
  }),
  route(Commands.previewProposal, async (host, { proposalId }, { where }) => ({
    uri: (await host.review.preview(await known(host, proposalId, where))) ?? null,
  })),
  route(Commands.discardProposal, async (host, { proposalId, hunks }, { where }) => ({
    status: await host.review.discard(await known(host, proposalId, where), hunks),
  })),
  route(Commands.confirmApplied, async (host, { proposalId }, { where }) => ({
    status: await host.review.confirmApplied(await known(host, proposalId, where)),
  })),
  route(Requests.proposal, async (host, { proposalId }) => {
    const view = host.review.hunkView(proposalId) ?? (await host.review.recordedView(proposalId));
    if (!view) throw invalidParams(`Invalid params: params.proposalId: no proposal "${proposalId}" in this server (proposals from earlier sessions are in codebench/proposals)`);
    return view;
  }),
];
