import type { LanguageModel } from '../../providers/types.js';
import type { RunEvent } from '../events.js';
import { runAgentLoop, type ToolCallRecord } from './loop.js';
import { contextMessage, historyMessages, systemPrompt, type AskContext } from './prompt.js';
import type { DriverResult, RunContext } from './driver.js';
import type { Tool } from '../tools/types.js';
import { SecretScrubber } from '../workspace/secrets.js';
import { WorkspaceFiles } from '../workspace/workspace-files.js';

/** The built-in driver: our tool loop over a provider, edits staged in the overlay. */
export async function runBuiltIn(
  context: RunContext,
  model: LanguageModel,
  tools: Tool[],
  maxSteps: number,
  onEvent: (event: RunEvent) => void,
  onToolCall: (record: ToolCallRecord) => void,
): Promise<DriverResult> {
  const workspace = new WorkspaceFiles(context.request.roots, context.documents, undefined, context.sensitive);
  const scrubber = new SecretScrubber();
  const ask: AskContext = { instruction: context.request.instruction, selection: context.request.selection, diagnostics: context.request.diagnostics };
  if (context.request.filePath) {
    const resolved = workspace.resolve(context.request.filePath);
    const text = resolved.ok ? await workspace.readText(resolved.absolutePath) : undefined;
    if (resolved.ok && text !== undefined) ask.file = { relativePath: resolved.relativePath, text };
    // Asked from inside .env: name the file, never its text (nor a selection of it).
    if (resolved.ok && workspace.protectedReason(resolved.absolutePath) !== undefined) {
      ask.selection = undefined;
      ask.instruction += `\n\n(${workspace.protectedReason(resolved.absolutePath)})`;
    }
  }
  const outcome = await runAgentLoop({
    model,
    tools,
    workspace,
    system: systemPrompt(workspace.roots),
    messages: [...historyMessages(context.history), { role: 'user', content: scrubber.scrub(contextMessage(ask)) }],
    maxSteps,
    signal: context.signal,
    onEvent,
    onToolCall,
    commands: context.commands,
    scrub: (text) => scrubber.scrub(text),
  });
  return {
    status: outcome.status,
    text: outcome.text,
    error: outcome.error?.message,
    usage: outcome.usage,
    firstTokenAt: outcome.firstTokenAt,
    changes: outcome.status === 'completed' ? workspace.overlay.changes() : [],
    note: outcome.stoppedAtStepLimit ? `stopped after ${outcome.steps} steps` : undefined,
    redactionNote: scrubber.summary(),
  };
}
