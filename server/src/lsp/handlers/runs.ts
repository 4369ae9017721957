import { LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import { Commands, Requests } from '../../protocol/methods.js';
import { invalidParams, type AgentHost } from '../agent-host.js';
import { BUILT_IN_PRESETS } from '../agent-actions.js';
import { route, type Route } from '../route.js';

/** Starting and cancelling runs: the commands every editor uses and the long-lived request. */
export const runRoutes: Route[] = [
  route(
    Commands.ask,
    async (host, params, { where }) => {
      const { handle } = await host.askFlow.start(params, where);
      host.chat.noteSession(handle.sessionId);
      return { runId: handle.runId, sessionId: handle.sessionId };
    },
    // Helix 25.07+ `:lsp-workspace-command codebench.ask "…"` sends the instruction alone.
    (host, raw, where) => {
      if (typeof raw !== 'string') return raw;
      if (!host.lastActiveUri) throw invalidParams(`Invalid params: ${where}: open a file of the project first (a bare instruction applies to the last file used)`);
      return { uri: host.lastActiveUri, instruction: raw };
    },
  ),

  route(Commands.askPrompt, async (host, params, { where }) => {
    const presets = [...BUILT_IN_PRESETS.filter((preset) => !preset.needsDiagnostics), ...host.runtime.config().presets];
    const directiveHint = 'Write my own (@agent line)…';
    const { client } = host.options;
    const choice = await client.ask('info', 'What should the agent do?', [...presets.map((preset) => preset.title), directiveHint]);
    if (choice === directiveHint) {
      client.show('info', 'Write a line "@agent <what to do>" (in a comment) near the code, then open code actions again.');
    }
    const preset = presets.find((candidate) => candidate.title === choice);
    if (!preset) return null;
    const run = 'run' in preset ? preset.run : undefined;
    const { handle } = await host.askFlow.start({ ...params, instruction: preset.instruction, ...(run !== undefined ? { run } : {}) }, where);
    return { runId: handle.runId, sessionId: handle.sessionId };
  }),

  route(Commands.cancel, async (host, { runId }) => {
    const targets = runId ? [runId] : host.agent.activeRuns().map((run) => run.runId);
    return { cancelled: targets.filter((target) => host.agent.cancel(target)) };
  }),

  /** The long-lived form of ask: answers when the run ends, and `$/cancelRequest` cancels it. */
  route(Requests.ask, async (host, params, { token, where }) => {
    const { handle, finished } = await host.askFlow.start(params, where);
    const subscription = token.onCancellationRequested(() => handle.cancel());
    try {
      const result = await finished;
      if (result.status === 'cancelled' && token.isCancellationRequested) {
        throw new ResponseError(LSPErrorCodes.RequestCancelled, `run ${result.runId} cancelled`);
      }
      return result;
    } finally {
      subscription.dispose();
    }
  }),

  route(Requests.cancel, async (host, { runId }) => ({ cancelled: host.agent.cancel(runId) })),
];
