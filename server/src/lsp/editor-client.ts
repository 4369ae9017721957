import type { ClientCapabilities, Connection, Diagnostic, Range, WorkspaceEdit } from 'vscode-languageserver';
import {
  ApplyWorkspaceEditRequest,
  CancellationTokenSource,
  MessageType,
  PublishDiagnosticsNotification,
  ShowDocumentRequest,
  ShowMessageNotification,
  ShowMessageRequest,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageserver';
import { Notifications, type RunEventsParams } from '../protocol/methods.js';
import type { ProgressSink } from './progress.js';
import type { PositionEncoding } from './positions.js';

/** What the client told us it can do, reduced to the decisions codebench makes from it. */
export interface ClientFeatures {
  showMessageRequest: boolean;
  workDoneProgress: boolean;
  documentChanges: boolean;
  createFiles: boolean;
  runEvents: boolean;
  /** The client reviews proposals itself (hunks inline): no prompt from the server. */
  inlineReview: boolean;
  /** Hover content as Markdown (the client lists it in `textDocument.hover.contentFormat`, or says nothing). */
  hoverMarkdown: boolean;
  /**
   * The client lists the advertised commands to people (Helix's `:lsp-workspace-command` picker)
   * and runs a code action's command without checking that list: the internal commands can be
   * left out. Neovim's `exec_cmd` (and VS Code's client) refuse a code action whose command is
   * not advertised, so every other client gets the whole list.
   */
  listsCommandsToPeople: boolean;
}

export function clientFeatures(capabilities: ClientCapabilities, clientInfo?: { name?: string }): ClientFeatures {
  const experimental = (capabilities.experimental ?? {}) as { codebench?: { runEvents?: unknown; inlineReview?: unknown } };
  return {
    showMessageRequest: capabilities.window?.showMessage !== undefined,
    workDoneProgress: capabilities.window?.workDoneProgress === true,
    documentChanges: capabilities.workspace?.workspaceEdit?.documentChanges === true,
    createFiles: capabilities.workspace?.workspaceEdit?.resourceOperations?.includes('create') === true,
    runEvents: experimental.codebench?.runEvents === true,
    inlineReview: experimental.codebench?.inlineReview === true,
    hoverMarkdown: capabilities.textDocument?.hover?.contentFormat?.includes('markdown') ?? true,
    listsCommandsToPeople: clientInfo?.name?.toLowerCase() === 'helix',
  };
}

/**
 * The editor as the rest of the LSP layer sees it: typed calls with failures turned into values,
 * so a client that lacks a method never breaks a flow.
 */
export class EditorClient {
  constructor(
    private readonly connection: Connection,
    readonly features: ClientFeatures,
    readonly encoding: PositionEncoding,
  ) {}

  async applyEdit(label: string, edit: WorkspaceEdit): Promise<{ applied: boolean; failureReason?: string }> {
    try {
      const result = await this.connection.sendRequest(ApplyWorkspaceEditRequest.type, { label, edit });
      return { applied: result.applied, failureReason: result.failureReason };
    } catch (error) {
      return { applied: false, failureReason: (error as Error).message };
    }
  }

  /**
   * The chosen title, or undefined when dismissed, unsupported or withdrawn. An aborted signal
   * sends $/cancelRequest so the editor can withdraw its prompt (approval timeouts, a proposal
   * settled another way) and answers undefined at once: an editor may never answer a cancelled
   * prompt, or answer late, and neither may hold the caller or count as a choice.
   */
  async ask(type: 'info' | 'warning', message: string, actions: string[], signal?: AbortSignal): Promise<string | undefined> {
    if (!this.features.showMessageRequest || signal?.aborted) return undefined;
    const source = new CancellationTokenSource();
    let withdrawn!: () => void;
    const aborted = new Promise<undefined>((resolve) => (withdrawn = () => resolve(undefined)));
    const cancel = () => {
      source.cancel();
      withdrawn();
    };
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const request = this.connection.sendRequest(
        ShowMessageRequest.type,
        {
          type: type === 'info' ? MessageType.Info : MessageType.Warning,
          message,
          actions: actions.map((title) => ({ title })),
        },
        source.token,
      );
      // A late answer (or failure) of a withdrawn prompt is ignored.
      request.catch(() => undefined);
      const choice = await Promise.race([request, aborted]);
      return signal?.aborted ? undefined : (choice ?? undefined)?.title;
    } catch {
      return undefined;
    } finally {
      signal?.removeEventListener('abort', cancel);
      source.dispose();
    }
  }

  show(type: 'info' | 'warning' | 'error', message: string): void {
    const kinds: Record<typeof type, MessageType> = { info: MessageType.Info, warning: MessageType.Warning, error: MessageType.Error };
    void this.connection.sendNotification(ShowMessageNotification.type, { type: kinds[type], message });
  }

  /** Helix handles showDocument without advertising it, so we try and fall back on failure. */
  async showDocument(uri: string, selection?: Range): Promise<boolean> {
    try {
      const result = await this.connection.sendRequest(ShowDocumentRequest.type, { uri, takeFocus: true, ...(selection ? { selection } : {}) });
      return result.success;
    } catch {
      return false;
    }
  }

  /**
   * Diagnostics are published per layer ('review' for proposals, 'approvals' for pending commands)
   * and sent as their union, since each publish replaces everything the server said about a URI.
   */
  publishDiagnostics(uri: string, diagnostics: Diagnostic[], version?: number, layer = 'review'): void {
    let layerDiagnostics = this.diagnosticLayers.get(layer);
    if (!layerDiagnostics) this.diagnosticLayers.set(layer, (layerDiagnostics = new Map()));
    if (diagnostics.length === 0) layerDiagnostics.delete(uri);
    else layerDiagnostics.set(uri, diagnostics);
    const all = [...this.diagnosticLayers.values()].flatMap((byUri) => byUri.get(uri) ?? []);
    void this.connection.sendNotification(PublishDiagnosticsNotification.type, { uri, diagnostics: all, version });
  }

  private readonly diagnosticLayers = new Map<string, Map<string, Diagnostic[]>>();

  log(message: string): void {
    this.connection.console.log(message);
  }

  progressSink(): ProgressSink {
    return {
      createToken: async (token) => {
        try {
          await this.connection.sendRequest(WorkDoneProgressCreateRequest.type, { token });
          return true;
        } catch {
          return false;
        }
      },
      progress: (token, value) => {
        void this.connection.sendProgress(WorkDoneProgress.type, token, value as never);
      },
      runEvents: this.features.runEvents
        ? (params: RunEventsParams) => void this.connection.sendNotification(Notifications.runEvents.method, params)
        : undefined,
      setTimer: (callback, ms) => {
        const timer = setTimeout(callback, ms);
        return { cancel: () => clearTimeout(timer) };
      },
      now: () => Date.now(),
    };
  }
}
