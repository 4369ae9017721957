import type { CodeAction, CodeActionParams } from 'vscode-languageserver';
import type { AgentHost } from '../agent-host.js';
import { agentCodeActions, cancelRunActions } from '../agent-actions.js';

/** `textDocument/codeAction`: computed from memory only (no model, disk or database). */
export function codeActions(host: AgentHost, params: CodeActionParams): CodeAction[] {
  const { agent, approvals, chat, review } = host;
  const uri = params.textDocument.uri;
  const runs = () => agent.activeRuns().map((run) => ({ runId: run.runId, instruction: run.instruction }));
  // A chat transcript is not code: only sending, cancelling and opening chats make sense there.
  // Pending command approvals come first: in Helix they are the only way to answer one; then
  // cancelling a run that is going.
  const pendingApprovals = approvals.codeActions(uri);
  if (chat.isChatFile(uri)) return [...pendingApprovals, ...cancelRunActions(runs()), ...chat.codeActions(uri)];
  host.noteActive(uri);
  const document = host.options.documents.byUri(uri);
  const actions = document
    ? agentCodeActions({
        params,
        lineAt: (line) =>
          line < document.lineCount ? document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } }) : undefined,
        userPresets: host.runtime.config().presets,
        canPrompt: host.options.client.features.showMessageRequest,
        // Cancel actions are placed above the review ones below, not among the presets.
        runningRuns: [],
        askedInstructions: new Set([
          ...agent.activeRuns().map((run) => run.instruction),
          ...agent.proposals.pending().flatMap((proposal) => host.askFlow.instructionOf(proposal.runId) ?? []),
        ]),
      })
    : [];
  return [...pendingApprovals, ...cancelRunActions(runs()), ...review.codeActions(uri), ...host.applied.codeActions(uri, params.range), ...actions, ...chat.codeActions(uri)];
}
