import { Commands } from '../../protocol/methods.js';
import { invalidParams } from '../agent-host.js';
import { route, type Route } from '../route.js';

/**
 * `codebench.undo`: reverts an applied proposal (default: the workspace's most recently applied)
 * as one WorkspaceEdit, or says which file and lines conflict (lsp/undo-flow.ts).
 */
export const undoRoutes: Route[] = [
  route(Commands.undo, async (host, { proposalId }, { where }) => {
    if (proposalId !== undefined && !(await (await host.store()).getProposal(proposalId))) {
      throw invalidParams(`Invalid params: ${where}.proposalId: no proposal "${proposalId}"`);
    }
    return host.undo.undo(proposalId);
  }),
];
