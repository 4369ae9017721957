import { Commands, Requests } from '../../protocol/methods.js';
import { invalidParams, type AgentHost } from '../agent-host.js';
import { route, type Route } from '../route.js';

/** A proposal id must name a proposal this server holds; InvalidParams naming the field otherwise. */
function pending(host: AgentHost, proposalId: string, where: string): string {
  if (!host.agent.proposals.get(proposalId)) throw invalidParams(`Invalid params: ${where}.proposalId: no pending proposal "${proposalId}"`);
  return proposalId;
}

/** Reviewing a pending proposal: apply, preview, discard (whole or by hunk), and the inline view. */
export const proposalRoutes: Route[] = [
  route(Commands.applyProposal, async (host, { proposalId, hunks }, { where }) => ({
    status: await host.review.apply(pending(host, proposalId, where), hunks),
  })),
  route(Commands.previewProposal, async (host, { proposalId }, { where }) => ({
    uri: (await host.review.preview(pending(host, proposalId, where))) ?? null,
  })),
  route(Commands.discardProposal, async (host, { proposalId, hunks }, { where }) => ({
    status: await host.review.discard(pending(host, proposalId, where), hunks),
  })),
  route(Commands.confirmApplied, async (host, { proposalId }, { where }) => ({
    status: await host.review.confirmApplied(pending(host, proposalId, where)),
  })),
  route(Requests.proposal, async (host, { proposalId }) => {
    const view = host.review.hunkView(proposalId);
    if (!view) throw invalidParams(`Invalid params: params.proposalId: no proposal "${proposalId}" in this server (proposals from earlier sessions are in codebench/proposals)`);
    return view;
  }),
];
