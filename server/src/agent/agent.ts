import type { Config } from '../config/schema.js';
import type { ProviderConfig } from '../config/schema.js';
import type { LanguageModel } from '../providers/types.js';
import type { Store } from '../store/store.js';
import type { RunEvent } from './events.js';
import { runAgentLoop } from './loop.js';
import { contextMessage, historyMessages, systemPrompt, type AskContext } from './prompt.js';
import { ProposalBook } from './proposal-book.js';
import { describeProposal, proposalFilesFromChanges, unifiedDiff, type Proposal } from './proposal.js';
import { builtInTools } from './tools/index.js';
import type { Tool } from './tools/types.js';
import { WorkspaceFiles, type OpenDocuments } from './workspace.js';

/** A request the caller got wrong (unknown provider or session); front-ends map it to InvalidParams. */
export class AskError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'AskError';
  }
}

export interface AskRequest {
  /** Identifies the workspace in history (an LSP folder URI, or a file URI of the directory). */
  workspaceUri: string;
  roots: string[];
  instruction: string;
  filePath?: string;
  selection?: AskContext['selection'];
  diagnostics?: AskContext['diagnostics'];
  provider?: string;
  sessionId?: string;
}

export interface RunOutcome {
  runId: string;
  sessionId: string;
  status: 'completed' | 'failed' | 'cancelled';
  summary: string;
  text: string;
  proposal?: Proposal;
  error?: string;
}

export interface RunHandle {
  runId: string;
  sessionId: string;
  instruction: string;
  done: Promise<RunOutcome>;
  cancel(): void;
}

export interface AgentDependencies {
  store: () => Promise<Store>;
  config: () => Config;
  documents: OpenDocuments;
  createModel: (name: string, config: ProviderConfig) => LanguageModel;
  log: (message: string) => void;
  tools?: Tool[];
}

/**
 * The agent core: starts runs, keeps their history, turns staged edits into proposals. It knows
 * nothing of LSP; the language server, ACP and the terminal client are all front-ends of this.
 */
export class Agent {
  readonly proposals: ProposalBook;
  private readonly running = new Map<string, RunHandle>();
  private readonly tools: Tool[];

  constructor(private readonly dependencies: AgentDependencies) {
    this.tools = dependencies.tools ?? builtInTools();
    this.proposals = new ProposalBook(dependencies.store);
  }

  activeRuns(): RunHandle[] {
    return [...this.running.values()];
  }

  cancel(runId: string): boolean {
    const run = this.running.get(runId);
    if (!run) return false;
    run.cancel();
    return true;
  }

  async ask(request: AskRequest, onEvent: (event: RunEvent) => void): Promise<RunHandle> {
    const config = this.dependencies.config();
    const providerName = request.provider ?? config.defaultProvider;
    const providerConfig = config.providers[providerName];
    if (!providerConfig) {
      const known = Object.keys(config.providers).join(', ');
      throw new AskError('provider', `unknown provider "${providerName}" (configured: ${known})`);
    }
    const store = await this.dependencies.store();
    let sessionId = request.sessionId;
    let history: Array<{ role: string; content: string }> = [];
    if (sessionId) {
      const session = await store.getSession(sessionId);
      if (!session) throw new AskError('sessionId', `no session with id "${sessionId}"`);
      history = await store.listMessages(sessionId);
    } else {
      const title = request.instruction.replace(/\s+/g, ' ').trim().slice(0, 80);
      sessionId = (await store.createSession({ workspaceUri: request.workspaceUri, title, provider: providerName })).id;
    }
    const model = this.dependencies.createModel(providerName, providerConfig);
    const run = await store.createRun({
      sessionId,
      provider: providerName,
      model: model.model,
      instruction: request.instruction,
    });
    await store.addMessage({ sessionId, runId: run.id, role: 'user', content: request.instruction });

    const controller = new AbortController();
    const handle: RunHandle = {
      runId: run.id,
      sessionId,
      instruction: request.instruction,
      cancel: () => controller.abort(),
      done: Promise.resolve(undefined as never),
    };
    this.running.set(run.id, handle);
    handle.done = this.execute(request, { runId: run.id, sessionId, model, history, controller, onEvent, store })
      .catch((error: unknown): RunOutcome => {
        this.dependencies.log(`run ${run.id} crashed: ${(error as Error).stack ?? String(error)}`);
        const message = `codebench failed internally: ${(error as Error).message}`;
        onEvent({ type: 'finished', status: 'failed', summary: message, error: message });
        return { runId: run.id, sessionId: sessionId!, status: 'failed', summary: message, text: '', error: message };
      })
      .finally(() => this.running.delete(run.id));
    return handle;
  }

  private async execute(
    request: AskRequest,
    run: {
      runId: string;
      sessionId: string;
      model: LanguageModel;
      history: Array<{ role: string; content: string }>;
      controller: AbortController;
      onEvent: (event: RunEvent) => void;
      store: Store;
    },
  ): Promise<RunOutcome> {
    const { store, onEvent } = run;
    const workspace = new WorkspaceFiles(request.roots, this.dependencies.documents);
    const context: AskContext = { instruction: request.instruction, selection: request.selection, diagnostics: request.diagnostics };
    if (request.filePath) {
      const resolved = workspace.resolve(request.filePath);
      const text = resolved.ok ? await workspace.readText(resolved.absolutePath) : undefined;
      if (resolved.ok && text !== undefined) context.file = { relativePath: resolved.relativePath, text };
      else if (!resolved.ok) context.file = undefined;
    }
    const outcome = await runAgentLoop({
      model: run.model,
      tools: this.tools,
      workspace,
      system: systemPrompt(workspace.roots),
      messages: [...historyMessages(run.history), { role: 'user', content: contextMessage(context) }],
      maxSteps: this.dependencies.config().maxSteps,
      signal: run.controller.signal,
      onEvent,
      onToolCall: (record) => {
        store.recordToolCall({ runId: run.runId, ...record }).catch((error: unknown) => {
          this.dependencies.log(`could not record tool call: ${(error as Error).message}`);
        });
      },
    });

    if (outcome.text !== '') {
      await store.addMessage({ sessionId: run.sessionId, runId: run.runId, role: 'assistant', content: outcome.text });
    }
    await store.finishRun(run.runId, {
      status: outcome.status,
      error: outcome.error?.message,
      inputTokens: outcome.usage.inputTokens,
      outputTokens: outcome.usage.outputTokens,
      firstTokenAt: outcome.firstTokenAt,
    });

    let proposal: Proposal | undefined;
    let summary: string;
    if (outcome.status === 'completed') {
      const files = proposalFilesFromChanges(workspace.overlay.changes());
      if (files.length > 0) {
        const diff = unifiedDiff(files);
        proposal = await this.proposals.create({
          runId: run.runId,
          sessionId: run.sessionId,
          summary: describeProposal(files, diff),
          diff,
          files,
          originPath: request.filePath,
        });
        onEvent({
          type: 'proposal',
          proposalId: proposal.id,
          summary: proposal.summary,
          files: files.map((file) => file.relativePath),
        });
        summary = `proposed changes to ${proposal.summary}`;
      } else {
        summary = firstLine(outcome.text) || 'done, no changes proposed';
      }
      if (outcome.stoppedAtStepLimit) summary += ` (stopped after ${outcome.steps} steps)`;
    } else if (outcome.status === 'cancelled') {
      summary = 'cancelled';
    } else {
      summary = outcome.error?.message ?? 'failed';
    }
    onEvent({ type: 'finished', status: outcome.status, summary, error: outcome.error?.message });
    return {
      runId: run.runId,
      sessionId: run.sessionId,
      status: outcome.status,
      summary,
      text: outcome.text,
      proposal,
      error: outcome.status === 'failed' ? outcome.error?.message : undefined,
    };
  }
}

function firstLine(text: string): string {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}
