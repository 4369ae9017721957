import type { ProviderError } from '../../providers/errors.js';
import type { NewToolCall } from '../../store/records.js';
import type { ChatMessage, LanguageModel, ToolCall, Usage } from '../../providers/types.js';
import type { CommandGate } from '../commands/gate.js';
import type { RunEvent } from '../events.js';
import type { ModelCall } from './driver.js';
import { PLACEHOLDER_REFUSAL, placeholderIn } from '../workspace/secrets.js';
import { runTool } from '../tools/index.js';
import type { CommandCopy, ProjectMemory, Tool, ToolResult } from '../tools/types.js';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';
import { stageEditBlocks } from './edit-block-staging.js';
import { extractTextToolCalls } from './text-tool-calls.js';
import { promptBudgetOf, shortenOldToolResults } from './prompt-budget.js';
import { RepeatedFailureGuard } from './repeat-guard.js';

/** What the store keeps of a call, plus the tool's `details` (not stored; the run's evidence reads them). */
export type ToolCallRecord = Omit<NewToolCall, 'runId'> & { details?: Record<string, unknown> };

export interface LoopOptions {
  model: LanguageModel;
  tools: Tool[];
  workspace: WorkspaceFiles;
  system: string;
  messages: ChatMessage[];
  maxSteps: number;
  signal: AbortSignal;
  onEvent: (event: RunEvent) => void;
  onToolCall: (record: ToolCallRecord) => void;
  /** Handed to run_command; without it the tool refuses. */
  commands?: CommandGate;
  /** Handed to remember; without it the tool refuses. */
  memory?: ProjectMemory;
  /** Handed to run_command: the run's private copy, where commands see the staged edits. */
  commandWorkspace?: CommandCopy;
  /** Redacts secret-looking strings from every tool result before the model (and history) sees it. */
  scrub?: (text: string) => string;
  now?: () => Date;
  /**
   * How tools reach the model. "native" (default): the API's tool field only. "auto": also runs
   * calls the model wrote into its text (`<tool_call>…`, or a reply that is one JSON call).
   * "text": no tools in the request; the reply's SEARCH/REPLACE blocks are staged through
   * edit_file and write_file, and failing blocks are reported back for a corrected reply.
   */
  toolMode?: 'native' | 'auto' | 'text';
  /** Told after each model request that reported usage, naming who answered it (a fallback may have). */
  onModelCall?: (call: ModelCall) => void;
}

export interface LoopOutcome {
  status: 'completed' | 'failed' | 'cancelled';
  /** All assistant text of the run, partial when it failed or was cancelled. */
  text: string;
  error?: ProviderError;
  usage: Usage;
  firstTokenAt?: string;
  steps: number;
  stoppedAtStepLimit: boolean;
  /** Why the loop ended a run that no provider error ended, e.g. a repeated failing call. */
  stopReason?: string;
}

/**
 * The tool-use loop: ask the model, run the tools it calls, feed results back, until it answers
 * without tools or the step limit is hit. Tool failures go back to the model as readable results;
 * only provider errors and cancellation end a run early.
 */
export async function runAgentLoop(options: LoopOptions): Promise<LoopOutcome> {
  const now = options.now ?? (() => new Date());
  const messages = [...options.messages];
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const specs = options.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
  }));
  const textParts: string[] = [];
  let firstTokenAt: string | undefined;
  const toolMode = options.toolMode ?? 'native';
  const offered = new Set(specs.map((spec) => spec.name));
  const repeats = new RepeatedFailureGuard();
  const budget = await promptBudgetOf(options.model);

  const finish = (status: LoopOutcome['status'], steps: number, extra: Partial<LoopOutcome> = {}): LoopOutcome => ({
    status,
    text: textParts.join('\n\n').trim(),
    usage,
    firstTokenAt,
    steps,
    stoppedAtStepLimit: false,
    ...extra,
  });

  for (let step = 1; step <= options.maxSteps; step++) {
    if (options.signal.aborted) return finish('cancelled', step - 1);
    let stepText = '';
    const calls: ToolCall[] = [];
    let error: ProviderError | undefined;
    let requestUsage: Usage | undefined;
    // Oldest tool results first, in place: the requests after this one keep the same prefix.
    if (budget !== undefined) shortenOldToolResults({ system: options.system, tools: toolMode === 'text' ? [] : specs, messages }, budget);
    for await (const part of options.model.stream(
      { system: options.system, messages, tools: toolMode === 'text' ? [] : specs },
      options.signal,
    )) {
      switch (part.type) {
        case 'text-delta':
          firstTokenAt ??= now().toISOString();
          stepText += part.text;
          options.onEvent({ type: 'text', text: part.text });
          break;
        case 'tool-call':
          firstTokenAt ??= now().toISOString();
          calls.push(part.call);
          break;
        case 'usage':
          usage.inputTokens += part.usage.inputTokens;
          usage.outputTokens += part.usage.outputTokens;
          requestUsage = addUsage(requestUsage, part.usage);
          break;
        case 'notice':
          options.onEvent({ type: 'notice', message: part.message });
          break;
        case 'tool-activity':
          options.onEvent({ type: 'notice', message: `${part.name}: ${part.detail}` });
          break;
        case 'error':
          error = part.error;
          break;
        case 'finish':
          break;
      }
    }
    if (requestUsage) reportModelCall(options, requestUsage);
    if (!error && calls.length === 0 && toolMode === 'auto') {
      // Calls written as text run like native ones; the text around them stays the answer.
      const written = extractTextToolCalls(stepText, offered);
      written.calls.forEach((call, index) => calls.push({ id: `text_call_${step}_${index + 1}`, ...call }));
      stepText = written.text;
    }
    if (stepText.trim() !== '') textParts.push(stepText.trim());
    if (error) {
      return finish(error.kind === 'cancelled' || options.signal.aborted ? 'cancelled' : 'failed', step, { error });
    }
    if (toolMode === 'text') {
      const staged = await stageEditBlocks(stepText, step, (call) => runCall(options, call, now));
      if (options.signal.aborted) return finish('cancelled', step);
      if (staged.report === undefined) return finish('completed', step);
      messages.push({ role: 'assistant', content: stepText }, { role: 'user', content: staged.report });
      continue;
    }
    if (calls.length === 0) return finish('completed', step);

    messages.push({ role: 'assistant', content: stepText, toolCalls: calls });
    for (const call of calls) {
      if (options.signal.aborted) return finish('cancelled', step);
      const result = await runCall(options, call, now);
      messages.push({
        role: 'tool',
        toolCallId: call.id,
        toolName: call.name,
        content: result.output,
        isError: result.isError,
      });
      const repeated = repeats.record(call.name, call.args, result.isError);
      if (repeated !== undefined) return finish('failed', step, { stopReason: repeated });
    }
  }
  return finish('completed', options.maxSteps, { stoppedAtStepLimit: true });
}

function addUsage(sum: Usage | undefined, part: Usage): Usage {
  const cached = (sum?.cachedInputTokens ?? 0) + (part.cachedInputTokens ?? 0);
  return {
    inputTokens: (sum?.inputTokens ?? 0) + part.inputTokens,
    outputTokens: (sum?.outputTokens ?? 0) + part.outputTokens,
    ...(cached > 0 ? { cachedInputTokens: cached } : {}),
  };
}

/** After the stream ended, so a fallback chain can say which of its providers answered. */
function reportModelCall(options: LoopOptions, usage: Usage): void {
  const answered = options.model.answeredBy?.();
  options.onModelCall?.({ provider: answered?.providerName ?? options.model.providerName, model: answered?.model ?? options.model.model, usage });
}

/** What running one call needs of the loop's options. */
export type CallOptions = Pick<LoopOptions, 'tools' | 'workspace' | 'signal' | 'commands' | 'commandWorkspace' | 'memory' | 'scrub' | 'onEvent' | 'onToolCall'>;

/**
 * Runs one call with its progress events and record; the result is scrubbed for the model. Also
 * the driver's way to run a command before the first turn (a preset's `run`), so that it is shown,
 * recorded and gated exactly like the model's own calls.
 */
export async function runCall(options: CallOptions, call: ToolCall, now: () => Date): Promise<ToolResult> {
  const startedAt = now().toISOString();
  options.onEvent({ type: 'tool-started', callId: call.id, name: call.name, activity: describeCall(call) });
  const result = placeholderIn(call.args)
    ? { output: PLACEHOLDER_REFUSAL, isError: true, activity: `${call.name}: refused a redaction placeholder` }
    : await runTool(options.tools, call.name, call.args, {
        workspace: options.workspace,
        signal: options.signal,
        commands: options.commands,
        commandWorkspace: options.commandWorkspace,
        memory: options.memory,
      });
  if (options.scrub) result.output = options.scrub(result.output);
  options.onEvent({ type: 'tool-finished', callId: call.id, name: call.name, activity: result.activity, isError: result.isError });
  options.onToolCall({
    callId: call.id,
    name: call.name,
    // What the model wrote may hold a secret (a token pasted into `remember`, a command): the
    // record in history gets the scrubbed form, like the result.
    args: options.scrub ? scrubbedArgs(call.args, options.scrub) : call.args,
    result: result.output,
    isError: result.isError,
    startedAt,
    finishedAt: now().toISOString(),
    ...(result.details ? { details: result.details } : {}),
  });
  return result;
}

function scrubbedArgs(args: Record<string, unknown>, scrub: (text: string) => string): Record<string, unknown> {
  const text = JSON.stringify(args);
  const clean = scrub(text);
  if (clean === text) return args;
  try {
    return JSON.parse(clean) as Record<string, unknown>;
  } catch {
    return { redacted: clean };
  }
}

const VERBS: Record<string, string> = {
  remember: 'remembering',
  read_file: 'reading',
  list_files: 'listing',
  grep: 'searching',
  edit_file: 'editing',
  write_file: 'writing',
  run_command: 'running',
};

/** Progress text before the tool has run, e.g. "reading src/a.ts". */
export function describeCall(call: ToolCall): string {
  const verb = VERBS[call.name] ?? `running ${call.name}`;
  const target = call.args.path ?? call.args.pattern ?? call.args.glob ?? call.args.command;
  return typeof target === 'string' && target !== '' ? `${verb} ${target}` : verb;
}
