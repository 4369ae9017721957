import { NO_TOOL_SUPPORT_REASON } from '../../providers/classify.js';
import type { LanguageModel } from '../../providers/types.js';
import type { RunEvent } from '../events.js';
import { runAgentLoop, type LoopOutcome, type ToolCallRecord } from './loop.js';
import { contextMessage, systemPrompt, textModeSystemPrompt, type AskContext } from './prompt.js';
import type { DriverResult, RunContext } from './driver.js';
import { withEarlierTurns } from '../history/follow-up.js';
import { promptBudgetOf } from './prompt-budget.js';
import { projectRules } from './project-rules.js';
import { runFirstCommand } from './first-command.js';
import { workspaceMap } from './workspace-map.js';
import type { Tool } from '../tools/types.js';
import { SecretScrubber } from '../workspace/secrets.js';
import { WorkspaceFiles } from '../workspace/workspace-files.js';
import { CommandWorkspace } from '../workspace/command-workspace.js';

/** The tool-calling ladder of one provider: its `tools` config and what was learned about its model. */
export interface ToolLadder {
  /** providers.<name>.tools: "auto" (default), "native" or "text". */
  mode: 'auto' | 'native' | 'text';
  /** Remembers per provider and model that its server refused tools (the store). */
  memory?: {
    toolModeOf(provider: string, model: string): Promise<'native' | 'text' | undefined>;
    setToolMode(provider: string, model: string, tools: 'native' | 'text'): Promise<void>;
  };
}

/** The built-in driver: our tool loop over a provider, edits staged in the overlay. */
export async function runBuiltIn(
  context: RunContext,
  model: LanguageModel,
  tools: Tool[],
  maxSteps: number,
  onEvent: (event: RunEvent) => void,
  onToolCall: (record: ToolCallRecord) => void,
  ladder: ToolLadder = { mode: 'native' },
): Promise<DriverResult> {
  const workspace = new WorkspaceFiles(context.request.roots, context.documents, undefined, context.sensitive);
  // The private copy run_command works in: made at the run's first command, removed however the
  // run ends (completed, failed, cancelled, or an exception).
  const commandWorkspace = context.commands && context.commandCopy ? new CommandWorkspace({ workspace, documents: context.documents, ...context.commandCopy }) : undefined;
  try {
    return await drive(context, workspace, commandWorkspace, model, tools, maxSteps, onEvent, onToolCall, ladder);
  } finally {
    // A run that never ran a command ends exactly as before: no extra wait before its result.
    if (commandWorkspace?.started) await commandWorkspace.dispose().catch(() => undefined);
  }
}

async function drive(
  context: RunContext,
  workspace: WorkspaceFiles,
  commandWorkspace: CommandWorkspace | undefined,
  model: LanguageModel,
  tools: Tool[],
  maxSteps: number,
  onEvent: (event: RunEvent) => void,
  onToolCall: (record: ToolCallRecord) => void,
  ladder: ToolLadder,
): Promise<DriverResult> {
  const scrubber = new SecretScrubber();
  const ask: AskContext = { instruction: context.request.instruction, selection: context.request.selection, diagnostics: context.request.diagnostics };
  let askedFile: { absolutePath: string; root: string } | undefined;
  if (context.request.filePath) {
    const resolved = workspace.resolve(context.request.filePath);
    if (resolved.ok) askedFile = resolved;
    const text = resolved.ok ? await workspace.readText(resolved.absolutePath) : undefined;
    if (resolved.ok && text !== undefined) ask.file = { relativePath: resolved.relativePath, text };
    // Asked from inside .env: name the file, never its text (nor a selection of it).
    if (resolved.ok && workspace.protectedReason(resolved.absolutePath) !== undefined) {
      ask.selection = undefined;
      ask.instruction += `\n\n(${workspace.protectedReason(resolved.absolutePath)})`;
    }
  }
  // Rules and memory in every ask; the map in a session's first request only, as a follow-up's
  // model has seen it (or listed files) already. All of it is in the first user message of the
  // run, which never changes, so later requests of the run keep it as a stable prefix.
  ask.rules = await projectRules(workspace, { root: askedFile?.root ?? workspace.roots[0]!, filePath: askedFile?.absolutePath, scrub: (text) => scrubber.scrub(text) });
  ask.memoryFacts = context.memoryFacts;
  if (context.history.length === 0) ask.workspaceMap = await workspaceMap(workspace, workspace.roots[0]!, context.signal).catch(() => undefined);
  if (context.request.run !== undefined) {
    ask.firstCommand = await runFirstCommand(context.request.run, {
      tools, workspace, signal: context.signal, commands: context.commands, commandWorkspace, memory: context.memory, scrub: (text) => scrubber.scrub(text), onEvent, onToolCall,
    });
  }
  // The earlier turns are fitted once per run, beside this run's own first request.
  const historyBudget = await promptBudgetOf(model);
  const run = (toolMode: 'native' | 'auto' | 'text'): Promise<LoopOutcome> =>
    runAgentLoop(withEarlierTurns({ turns: context.history, olderTurns: context.olderTurns ?? 0 }, historyBudget, {
      model,
      tools,
      workspace,
      system: toolMode === 'text' ? textModeSystemPrompt(workspace.roots) : systemPrompt(workspace.roots),
      messages: [
        { role: 'user', content: scrubber.scrub(contextMessage(ask, toolMode === 'text' ? 'text' : 'tools')) },
      ],
      maxSteps,
      signal: context.signal,
      onEvent,
      onToolCall,
      commands: context.commands,
      commandWorkspace,
      memory: context.memory,
      scrub: (text) => scrubber.scrub(text),
      toolMode,
      onModelCall: context.onModelCall,
    }));
  const noToolsNotice = `model ${model.model} has no tool support; using edit blocks`;
  const startMode = await firstToolMode(ladder, model);
  if (ladder.mode === 'auto' && startMode === 'text') onEvent({ type: 'notice', message: noToolsNotice });
  let outcome = await run(startMode);
  if (startMode === 'auto' && outcome.status === 'failed' && outcome.error?.reason === NO_TOOL_SUPPORT_REASON) {
    // The server refused the tools before answering anything: the same turn again, in text mode.
    onEvent({ type: 'notice', message: noToolsNotice });
    await ladder.memory?.setToolMode(model.providerName, model.model, 'text').catch(() => undefined);
    const retried = await run('text');
    outcome = { ...retried, usage: sumUsage(outcome.usage, retried.usage), steps: outcome.steps + retried.steps };
  }
  return {
    status: outcome.status,
    text: outcome.text,
    error: outcome.error?.message ?? outcome.stopReason,
    usage: outcome.usage,
    firstTokenAt: outcome.firstTokenAt,
    changes: outcome.status === 'completed' ? workspace.overlay.changes() : [],
    note: outcome.stoppedAtStepLimit ? `stopped after ${outcome.steps} steps` : undefined,
    redactionNote: scrubber.summary(),
    ...answeredByOf(model),
  };
}

/** The fallback chain's answer, for the run record and history. */
function answeredByOf(model: LanguageModel): Pick<DriverResult, 'answeredBy'> {
  const answer = model.answeredBy?.();
  if (!answer) return {};
  const why = answer.skipped.length > 0 ? `: ${answer.skipped.join('; ')}` : '';
  return { answeredBy: { provider: answer.providerName, model: answer.model, note: `Answered by ${answer.providerName} (${answer.model}) instead of ${model.providerName}${why}.` } };
}

/**
 * "auto" starts in text mode when the model is known to lack tools: remembered from an earlier
 * refusal, or said by the server (Ollama's /api/show capabilities). Unknown means try tools.
 */
async function firstToolMode(ladder: ToolLadder, model: LanguageModel): Promise<'native' | 'auto' | 'text'> {
  if (ladder.mode !== 'auto') return ladder.mode;
  const remembered = await ladder.memory?.toolModeOf(model.providerName, model.model).catch(() => undefined);
  if (remembered === 'text') return 'text';
  // A server that cannot be asked is reported by the request itself, classified as usual.
  const capabilities = await model.capabilities?.().catch(() => undefined);
  return capabilities?.tools === false ? 'text' : 'auto';
}

function sumUsage(a: LoopOutcome['usage'], b: LoopOutcome['usage']): LoopOutcome['usage'] {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
}
