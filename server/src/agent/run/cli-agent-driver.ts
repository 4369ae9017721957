import type { ExternalAgent } from '../../providers/types.js';
import type { RunEvent } from '../events.js';
import type { ToolCallRecord } from './loop.js';
import { contextMessage, type AskContext } from './prompt.js';
import type { DriverResult, RunContext } from './driver.js';
import { earlierTurnsText } from '../history/follow-up.js';
import { SecretScrubber } from '../workspace/secrets.js';
import { ShadowWorkspace } from '../workspace/shadow-workspace.js';
import { WorkspaceFiles } from '../workspace/workspace-files.js';

const SYSTEM_NOTE = [
  'You are running inside codebench, on a private copy of the user\'s workspace.',
  'Edit files directly; your changes are shown to the user as one proposal to accept or reject.',
  'Shell commands are denied unless the user allowed them. Finish with a short summary of what you changed.',
].join(' ');

/** The CLI driver: claude or codex works in a shadow copy; its diff becomes the proposal. */
export async function runExternal(
  context: RunContext,
  agent: ExternalAgent,
  shadowsDirectory: string,
  resumeSessionId: string | undefined,
  onEvent: (event: RunEvent) => void,
  onToolCall: (record: ToolCallRecord) => void,
  /** Bounds a CLI that keeps calling tools (claude's --max-turns; config `maxSteps`). */
  maxTurns?: number,
  now: () => Date = () => new Date(),
): Promise<DriverResult> {
  const root = context.request.roots[0]!;
  const ask: AskContext = { instruction: context.request.instruction, selection: context.request.selection, diagnostics: context.request.diagnostics };
  if (context.request.filePath) {
    const resolved = new WorkspaceFiles([root], context.documents).resolve(context.request.filePath);
    // The CLI reads files itself; naming the file is enough.
    if (resolved.ok) ask.file = { relativePath: resolved.relativePath, text: '' };
  }
  let prompt = contextMessage({ ...ask, file: undefined });
  if (ask.file) prompt += `\n\nThe request is about ${ask.file.relativePath}.`;
  if (!resumeSessionId && context.history.length > 0) {
    const earlier = earlierTurnsText({ turns: context.history, olderTurns: context.olderTurns ?? 0 });
    prompt = `Earlier in this conversation:\n\n${earlier}\n\n---\n\n${prompt}`;
  }

  // The selection and earlier turns go to the CLI's model too; the CLI reads files itself, from a
  // shadow that has no protected files in it.
  const scrubber = new SecretScrubber();
  prompt = scrubber.scrub(prompt);
  onEvent({ type: 'notice', message: `${agent.providerName}: preparing a private copy of the workspace` });
  const shadow = await ShadowWorkspace.create({ root, documents: context.documents, shadowsDirectory, signal: context.signal, sensitive: context.sensitive });
  const started = new Map<string, { name: string; args: unknown; startedAt: string }>();
  let firstTokenAt: string | undefined;
  try {
    const outcome = await agent.run({
      cwd: shadow.path,
      prompt,
      system: SYSTEM_NOTE,
      resumeSessionId,
      maxTurns,
      signal: context.signal,
      onEvent: (event) => {
        switch (event.type) {
          case 'text-delta':
            firstTokenAt ??= now().toISOString();
            onEvent({ type: 'text', text: event.text });
            return;
          case 'tool-started':
            firstTokenAt ??= now().toISOString();
            started.set(event.callId, { name: event.name, args: event.args, startedAt: now().toISOString() });
            onEvent({ type: 'tool-started', callId: event.callId, name: event.name, activity: `${agent.providerName}: ${event.activity}` });
            return;
          case 'tool-finished': {
            const start = started.get(event.callId);
            onEvent({ type: 'tool-finished', callId: event.callId, name: event.name, activity: `${agent.providerName}: ${event.activity}`, isError: event.isError });
            onToolCall({
              callId: event.callId,
              name: event.name,
              args: start?.args ?? null,
              result: event.result,
              isError: event.isError,
              startedAt: start?.startedAt ?? now().toISOString(),
              finishedAt: now().toISOString(),
            });
            return;
          }
          case 'notice':
            onEvent({ type: 'notice', message: `${agent.providerName}: ${event.message}` });
            return;
        }
      },
    });
    // The CLI's whole run is one call here: its JSON events report the run's totals (and claude its
    // cost). A CLI that never reached its model (not logged in) reports zeros: nothing to record.
    const tokens = (outcome.usage?.inputTokens ?? 0) + (outcome.usage?.outputTokens ?? 0);
    if (tokens > 0 || (outcome.costUsd ?? 0) > 0) {
      context.onModelCall?.({ provider: agent.providerName, model: agent.model, usage: outcome.usage ?? { inputTokens: 0, outputTokens: 0 }, ...(outcome.costUsd !== undefined ? { costUsd: outcome.costUsd } : {}) });
    }
    let changes: DriverResult['changes'] = [];
    let note: string | undefined;
    if (outcome.status === 'completed') {
      const diff = await shadow.changes();
      changes = diff.changes;
      if (diff.skipped.length > 0) note = diff.skipped.map((skip) => `${skip.relativePath}: ${skip.reason}`).join('; ');
    }
    return {
      status: outcome.status,
      text: outcome.text,
      error: outcome.error?.message,
      usage: outcome.usage ?? { inputTokens: 0, outputTokens: 0 },
      firstTokenAt,
      changes,
      note,
      externalSessionId: outcome.externalSessionId,
      redactionNote: scrubber.summary(),
    };
  } finally {
    await shadow.dispose();
  }
}
