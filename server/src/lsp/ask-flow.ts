import { readFileSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { DiagnosticSeverity, ErrorCodes, ResponseError } from 'vscode-languageserver';
import { AskError, type Agent, type AskRequest, type RunHandle } from '../agent/agent.js';
import type { AskFinished, AskParams } from '../protocol/methods.js';
import { pathToUri, uriToPath, type DocumentStore } from './documents.js';
import type { LspApprovals } from './approvals.js';
import type { EditorClient } from './editor-client.js';
import { rangeToOffsets } from './positions.js';
import { RunProgress } from './progress.js';
import type { ReviewService } from './review.js';

const SEVERITY_NAMES: Record<number, string> = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

const MAX_ANSWER_IN_MESSAGE = 2000;

export interface StartedAsk {
  handle: RunHandle;
  finished: Promise<AskFinished>;
}

/**
 * From an editor's ask to a running agent and back: resolves the file and selection in the
 * client's position encoding, streams progress, and hands the proposal to review.
 */
/** Instructions remembered per run, for the code actions; a few hundred runs per server at most matter. */
const MAX_REMEMBERED_INSTRUCTIONS = 200;

export class AskFlow {
  private readonly progressTokens = new Map<string, string>();
  private readonly instructions = new Map<string, string>();
  /** Numbers the progress tokens: Helix prints the token in its statusline, so it stays short. */
  private progressCount = 0;

  constructor(
    private readonly agent: Agent,
    private readonly documents: DocumentStore,
    private readonly client: EditorClient,
    private readonly review: ReviewService,
    private readonly workspaceFolders: () => string[],
    private readonly approvals?: LspApprovals,
  ) {}

  /** The instruction a run of this server was started with (a directive's, to stop offering it). */
  instructionOf(runId: string): string | undefined {
    return this.instructions.get(runId);
  }

  cancelByProgressToken(token: string | number): void {
    const runId = this.progressTokens.get(String(token));
    if (runId) this.agent.cancel(runId);
  }

  /**
   * `workspace` is for asks from a file outside every workspace folder (the chat transcript file):
   * the run works in that folder and the asking file is not given to the model as context.
   */
  async start(params: AskParams, field = 'arguments[0]', workspace?: string): Promise<StartedAsk> {
    const filePath = uriToPath(params.uri);
    if (!filePath) throw new ResponseError(ErrorCodes.InvalidParams, `Invalid params: ${field}.uri: only file: URIs are supported, got "${params.uri}"`);
    const folder = workspace ?? this.workspaceFolders().find((root) => filePath === root || filePath.startsWith(root.endsWith(sep) ? root : root + sep));
    const root = folder ?? dirname(filePath);
    const request: AskRequest = {
      workspaceUri: pathToUri(root),
      roots: folder ? [folder, ...this.workspaceFolders().filter((other) => other !== folder)] : [root],
      instruction: params.instruction,
      filePath: workspace ? undefined : filePath,
      provider: params.provider,
      sessionId: params.sessionId,
      run: params.run,
      approver: this.approvals?.forDocument(params.uri),
      selection: workspace ? undefined : this.selection(filePath, params),
      diagnostics: params.diagnostics?.map((diagnostic) => ({
        line: diagnostic.range?.start.line,
        message: diagnostic.message,
        severity: diagnostic.severity ? SEVERITY_NAMES[diagnostic.severity] : undefined,
        source: diagnostic.source,
      })),
    };

    // Helix prints the token in its statusline (`[token] title - message`): keep it short. Tokens
    // belong to this connection, so a count is unique.
    const token = `codebench-${++this.progressCount}`;
    const progress = new RunProgress(this.client.progressSink(), token, {
      title: 'codebench',
      useProgress: this.client.features.workDoneProgress,
    });
    let handle: RunHandle;
    try {
      // Events that arrive before the progress token exists are kept by RunProgress.
      handle = await this.agent.ask(request, (event) => progress.handle(event));
    } catch (error) {
      if (error instanceof AskError) {
        throw new ResponseError(ErrorCodes.InvalidParams, `Invalid params: ${field}.${error.field}: ${error.message}`);
      }
      throw error;
    }
    progress.begin(`starting: ${params.instruction.split('\n')[0]}`);
    progress.attach(handle.runId, handle.sessionId);
    this.progressTokens.set(token, handle.runId);
    this.instructions.set(handle.runId, params.instruction);
    if (this.instructions.size > MAX_REMEMBERED_INSTRUCTIONS) this.instructions.delete(this.instructions.keys().next().value!);

    const finished = handle.done.then(async (outcome): Promise<AskFinished> => {
      this.progressTokens.delete(token);
      await progress.end(outcome.summary);
      if (outcome.status === 'failed') this.client.show('error', `codebench: ${outcome.summary}`);
      else if (outcome.status === 'completed' && !outcome.proposal && outcome.text && !this.client.features.runEvents) {
        const text = outcome.text.length > MAX_ANSWER_IN_MESSAGE ? `${outcome.text.slice(0, MAX_ANSWER_IN_MESSAGE)}…` : outcome.text;
        this.client.show('info', text);
      }
      if (outcome.proposal) {
        const proposal = outcome.proposal;
        // The run is over and nothing waits for this promise: a failure must reach the user, not only the log.
        void this.review.present(proposal).catch((error: unknown) => {
          const message = `codebench could not show the proposal ${proposal.summary}: ${(error as Error).message}`;
          this.client.show('error', message.split('\n')[0]!);
          this.client.log(message);
        });
      }
      return {
        runId: outcome.runId,
        sessionId: outcome.sessionId,
        status: outcome.status,
        summary: outcome.summary,
        text: outcome.text,
        ...(outcome.proposal ? { proposalId: outcome.proposal.id } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
      };
    });
    return { handle, finished };
  }

  private selection(filePath: string, params: AskParams): AskRequest['selection'] {
    if (!params.range) return undefined;
    const text = this.documents.get(filePath)?.text ?? readText(filePath);
    if (text === undefined) return undefined;
    const { start, end } = rangeToOffsets(text, params.range, this.client.encoding);
    if (start === end) return undefined;
    return { startLine: params.range.start.line, endLine: params.range.end.line, text: text.slice(start, end) };
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
