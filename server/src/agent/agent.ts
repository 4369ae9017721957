import type { Config } from '../config/schema.js';
import type { ProviderConfig } from '../config/schema.js';
import type { ExternalAgent, LanguageModel } from '../providers/types.js';
import type { Store } from '../store/store.js';
import type { Approver } from './commands/approvals.js';
import { loadEarlierTurns, type EarlierTurn } from './history/follow-up.js';
import { runBuiltIn } from './run/built-in-driver.js';
import { commandEnvironment } from './commands/exec.js';
import { CommandGate, commandLimits } from './commands/gate.js';
import type { RunEvent } from './events.js';
import { runExternal } from './run/cli-agent-driver.js';
import { RunDeadline } from './run/run-deadline.js';
import type { ToolCallRecord } from './run/loop.js';
import { modelCallRecorder } from './usage-recorder.js';
import type { AskContext } from './run/prompt.js';
import { PendingProposals } from './proposals/pending-proposals.js';
import { EvidenceRecorder, withEvidence, type CommandEvidence } from './proposals/evidence.js';
import { describeProposal, proposalFilesFromChanges, unifiedDiff, type Proposal } from './proposals/proposal.js';
import type { AskRequest, DriverResult, RunContext } from './run/driver.js';

export type { AskRequest };
import { SensitiveFiles } from './workspace/secrets.js';
import { builtInTools } from './tools/index.js';
import { projectMemory } from './tools/remember.js';
import type { Tool } from './tools/types.js';
import type { OpenDocuments } from './workspace/workspace-files.js';

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

export interface RunOutcome {
  runId: string;
  sessionId: string;
  status: 'completed' | 'failed' | 'cancelled';
  summary: string;
  text: string;
  proposal?: Proposal;
  error?: string;
  /**
   * The run failed before anything was answered, and the session it had started was deleted so
   * history keeps no empty sessions: `sessionId` names no stored session now (a follow-up ask
   * with it in this process starts it afresh under the same id).
   */
  discardedSession?: boolean;
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
  /** For `claude-cli` / `codex-cli` providers, which run their own tools. */
  createExternalAgent: (name: string, config: ProviderConfig) => ExternalAgent;
  /** Where CLI agents get their private copies of the workspace. */
  shadowsDirectory: string;
  log: (message: string) => void;
  tools?: Tool[];
  /** The user's environment, for commands the agent runs (credentials are removed); process.env when absent. */
  env?: NodeJS.ProcessEnv;
}

/** Discarded session ids remembered for follow-ups; a chat rarely fails this often in a row. */
const MAX_DISCARDED_SESSIONS = 256;

type Driver = { kind: 'built-in'; model: LanguageModel } | { kind: 'external'; agent: ExternalAgent };

function isExternal(config: ProviderConfig): boolean {
  return config.kind === 'claude-cli' || config.kind === 'codex-cli';
}

/**
 * The agent core: starts runs, keeps their history, turns changes into proposals. A run is driven
 * either by the built-in tool loop or by a CLI agent in a shadow workspace; everything after that
 * is shared. It knows nothing of LSP; the language server, ACP and the terminal client are
 * front-ends of this.
 */
export class Agent {
  readonly proposals: PendingProposals;
  private readonly running = new Map<string, RunHandle>();
  private readonly tools: Tool[];
  /**
   * Sessions deleted because their first ask failed unanswered. Front-ends already hold the id
   * (the LSP answered it at once; a chat keeps it for the next turn), so a follow-up naming one
   * re-creates it instead of failing with "no session".
   */
  private readonly discardedSessions = new Set<string>();

  constructor(private readonly dependencies: AgentDependencies) {
    this.tools = dependencies.tools ?? builtInTools();
    this.proposals = new PendingProposals(dependencies.store);
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

  /** The sensitive-file policy as configured now (built-ins + `sensitiveFiles`), for runs and for apply. */
  sensitiveFiles(): SensitiveFiles {
    return new SensitiveFiles(this.dependencies.config().sensitiveFiles);
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
    let history: EarlierTurn[] = [];
    let olderTurns = 0;
    // The first line: the user's words (a directive's note to the model follows on the next line).
    const title = (request.instruction.split('\n').find((line) => line.trim() !== '') ?? '').replace(/\s+/g, ' ').trim().slice(0, 80);
    const existing = sessionId ? await store.getSession(sessionId) : undefined;
    const newSession = !sessionId || (!existing && this.discardedSessions.has(sessionId));
    if (sessionId && !newSession) {
      if (!existing) throw new AskError('sessionId', `no session with id "${sessionId}"`);
      ({ turns: history, olderTurns } = await loadEarlierTurns(store, sessionId));
    } else {
      if (sessionId) this.discardedSessions.delete(sessionId);
      sessionId = (await store.createSession({ workspaceUri: request.workspaceUri, title, provider: providerName, id: sessionId, continuesSessionId: request.continuesSessionId })).id;
      // Continuing a teammate's session: their turns are this new session's history.
      if (request.continuesSessionId) ({ turns: history, olderTurns } = await loadEarlierTurns(store, sessionId));
    }
    const driver: Driver = isExternal(providerConfig)
      ? { kind: 'external', agent: this.dependencies.createExternalAgent(providerName, providerConfig) }
      : { kind: 'built-in', model: this.dependencies.createModel(providerName, providerConfig) };
    const run = await store.createRun({
      sessionId,
      provider: providerName,
      model: driver.kind === 'external' ? driver.agent.model : driver.model.model,
      instruction: request.instruction,
    });
    await store.addMessage({ sessionId, runId: run.id, role: 'user', content: request.instruction });

    // Read at each ask, not cached: a fact added or removed from the terminal counts in an editor's
    // running server. Before the run is registered, so a failed read leaves no run behind.
    const memoryFacts = (await store.listMemoryFacts(request.workspaceUri)).map(({ id, text }) => ({ id, text }));
    const controller = new AbortController();
    const deadline = new RunDeadline(config.maxRunSeconds);
    const handle: RunHandle = {
      runId: run.id,
      sessionId,
      instruction: request.instruction,
      cancel: () => controller.abort(),
      done: Promise.resolve(undefined as never),
    };
    this.running.set(run.id, handle);
    const context: RunContext = { runId: run.id, sessionId, request, history, olderTurns, documents: this.dependencies.documents, signal: AbortSignal.any([controller.signal, deadline.signal]) };
    context.sensitive = this.sensitiveFiles();
    context.memoryFacts = memoryFacts;
    context.memory = projectMemory(store, request.workspaceUri, run.id);
    context.onModelCall = modelCallRecorder(store, { runId: run.id, sessionId, workspaceUri: request.workspaceUri }, this.dependencies.log);
    context.commandCopy = { shadowsDirectory: this.dependencies.shadowsDirectory, sharedDirectories: config.commands?.sharedDirectories };
    context.commands = new CommandGate({
      store,
      approver: request.approver,
      runId: run.id,
      sessionId,
      workspaceUri: request.workspaceUri,
      limits: commandLimits(config.commands),
      env: commandEnvironment(
        this.dependencies.env ?? process.env,
        Object.values(config.providers).flatMap((provider) => (provider.apiKeyEnv ? [provider.apiKeyEnv] : [])),
      ),
    });
    handle.done = this.execute(context, driver, providerName, store, onEvent, newSession, deadline, controller.signal)
      .catch((error: unknown): RunOutcome => {
        this.dependencies.log(`run ${run.id} crashed: ${(error as Error).stack ?? String(error)}`);
        const message = `codebench failed internally: ${(error as Error).message}`;
        onEvent({ type: 'finished', status: 'failed', summary: message, error: message });
        void store.finishRun(run.id, { status: 'failed', error: message }).catch(() => undefined);
        return { runId: run.id, sessionId: context.sessionId, status: 'failed', summary: message, text: '', error: message };
      })
      .finally(() => {
        deadline.clear();
        this.running.delete(run.id);
      });
    return handle;
  }

  private async execute(
    context: RunContext,
    driver: Driver,
    providerName: string,
    store: Store,
    onEvent: (event: RunEvent) => void,
    newSession: boolean,
    deadline: RunDeadline,
    cancelled: AbortSignal,
  ): Promise<RunOutcome> {
    let toolCalls = 0;
    const evidence = new EvidenceRecorder();
    const onToolCall = (record: ToolCallRecord) => {
      toolCalls++;
      evidence.record(record);
      store.recordToolCall({ runId: context.runId, ...record }).catch((error: unknown) => {
        this.dependencies.log(`could not record tool call: ${(error as Error).message}`);
      });
    };
    const driven =
      driver.kind === 'built-in'
        ? await runBuiltIn(context, driver.model, this.tools, this.dependencies.config().maxSteps, onEvent, onToolCall, {
            mode: this.dependencies.config().providers[providerName]?.tools ?? 'auto',
            memory: store,
          })
        : await runExternal(
            context,
            driver.agent,
            this.dependencies.shadowsDirectory,
            await store.lastExternalSessionId(context.sessionId, providerName),
            onEvent,
            onToolCall,
            this.dependencies.config().maxSteps,
          );
    const result = deadline.settle(driven, cancelled.aborted);
    // Only a first ask that got nothing back (provider unreachable, a config error) is discarded;
    // the store re-checks that the session holds nothing but the instruction.
    const discardable = newSession && result.status === 'failed' && result.text === '' && toolCalls === 0 && !result.externalSessionId;
    return this.finish(context, result, store, onEvent, discardable, evidence.evidence());
  }

  /** History, run record and proposal: the same for every driver. */
  private async finish(
    context: RunContext,
    result: DriverResult,
    store: Store,
    onEvent: (event: RunEvent) => void,
    discardable = false,
    evidence?: CommandEvidence[],
  ): Promise<RunOutcome> {
    if (result.redactionNote) {
      // Says what the model did not see; the values themselves are never stored.
      await store.addMessage({ sessionId: context.sessionId, runId: context.runId, role: 'system', content: result.redactionNote });
    }
    if (result.answeredBy) {
      await store.addMessage({ sessionId: context.sessionId, runId: context.runId, role: 'system', content: result.answeredBy.note });
    }
    if (result.text !== '') {
      await store.addMessage({ sessionId: context.sessionId, runId: context.runId, role: 'assistant', content: result.text });
    }
    await store.finishRun(context.runId, {
      ...(result.answeredBy ? { provider: result.answeredBy.provider, model: result.answeredBy.model } : {}),
      status: result.status,
      error: result.error,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      firstTokenAt: result.firstTokenAt,
      externalSessionId: result.externalSessionId,
    });

    let proposal: Proposal | undefined;
    let summary: string;
    if (result.status === 'completed') {
      const files = proposalFilesFromChanges(result.changes);
      if (files.length > 0) {
        const diff = unifiedDiff(files);
        proposal = await this.proposals.create({
          runId: context.runId,
          sessionId: context.sessionId,
          summary: describeProposal(files, diff),
          diff,
          files,
          originPath: context.request.filePath,
          evidence,
        });
        onEvent({ type: 'proposal', proposalId: proposal.id, summary: proposal.summary, files: files.map((file) => file.relativePath), ...(evidence ? { evidence } : {}) });
        // The end message every front-end shows says what the change was checked with.
        summary = `proposed changes to ${withEvidence(proposal.summary, evidence)}`;
      } else {
        summary = firstLine(result.text) || 'done, no changes proposed';
      }
      if (result.note) summary += ` (${result.note})`;
    } else if (result.status === 'cancelled') {
      summary = 'cancelled';
    } else {
      summary = result.error ?? 'failed';
    }
    // Before `finished`, so no front-end that lists history on it sees the empty session.
    const discardedSession = discardable && (await this.discardIfUnanswered(store, context.sessionId));
    onEvent({ type: 'finished', status: result.status, summary, error: result.error });
    return {
      runId: context.runId,
      sessionId: context.sessionId,
      status: result.status,
      summary,
      text: result.text,
      proposal,
      error: result.status === 'failed' ? result.error : undefined,
      ...(discardedSession ? { discardedSession } : {}),
    };
  }

  private async discardIfUnanswered(store: Store, sessionId: string): Promise<boolean> {
    const deleted = await store.deleteSessionIfUnanswered(sessionId).catch((error: unknown) => {
      this.dependencies.log(`could not discard unanswered session ${sessionId}: ${(error as Error).message}`);
      return false;
    });
    if (!deleted) return false;
    this.discardedSessions.add(sessionId);
    if (this.discardedSessions.size > MAX_DISCARDED_SESSIONS) this.discardedSessions.delete(this.discardedSessions.values().next().value!);
    return true;
  }
}

function firstLine(text: string): string {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}
