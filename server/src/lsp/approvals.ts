import { randomUUID } from 'node:crypto';
import type { CodeAction, Diagnostic } from 'vscode-languageserver';
import { CodeActionKind, DiagnosticSeverity } from 'vscode-languageserver';
import type { ApprovalDecision, ApprovalRequest, Approver } from '../agent/commands/approvals.js';
import { Commands } from '../protocol/methods.js';
import type { EditorClient } from './editor-client.js';

interface Pending {
  id: string;
  request: ApprovalRequest;
  /** The document the ask came from: where the code actions and the diagnostic appear. */
  uri: string | undefined;
  resolve: (decision: ApprovalDecision) => void;
}

const ALLOW_ONCE = 'Allow once';
const DENY = 'Deny';

/**
 * Command approvals in the editor. Clients with `window/showMessageRequest` (Neovim, Zed) get a
 * prompt; the others (Helix 25.x answers MethodNotFound) get a pending approval offered as code
 * actions in the asking document, marked with a Warning diagnostic on its first line. The agent
 * core applies the timeout; when it fires (or the run is cancelled) the signal withdraws the
 * prompt or the code actions, and the command is denied.
 */
export class LspApprovals {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly client: EditorClient) {}

  /** The approver for one ask, bound to the document it came from. */
  forDocument(uri: string | undefined): Approver {
    return { approve: (request, signal) => this.approve(request, signal, uri) };
  }

  private async approve(request: ApprovalRequest, signal: AbortSignal, uri: string | undefined): Promise<ApprovalDecision> {
    if (this.client.features.showMessageRequest) {
      const always = alwaysTitle(request);
      const choice = await this.client.ask('warning', promptText(request), [ALLOW_ONCE, ...(always ? [always] : []), DENY], signal);
      if (choice === ALLOW_ONCE) return 'allow-once';
      if (always !== undefined && choice === always) return 'allow-always';
      return 'deny';
    }
    return new Promise<ApprovalDecision>((resolve) => {
      const id = randomUUID().slice(0, 8);
      const settle = (decision: ApprovalDecision) => {
        if (!this.pending.delete(id)) return;
        this.publish(uri);
        resolve(decision);
      };
      this.pending.set(id, { id, request, uri, resolve: settle });
      signal.addEventListener('abort', () => settle('deny'), { once: true });
      this.publish(uri);
      this.client.show('warning', `codebench wants to run \`${request.command}\`: approve or deny it from the code actions (it is denied if nobody answers).`);
    });
  }

  /** From `codebench.approveCommand` / `codebench.denyCommand`; false when it is no longer pending. */
  answer(approvalId: string, decision: ApprovalDecision): boolean {
    const pending = this.pending.get(approvalId);
    if (!pending) return false;
    pending.resolve(decision === 'allow-always' && !pending.request.alwaysRules ? 'allow-once' : decision);
    return true;
  }

  /** Cheap, from memory: approvals asked from this document, or from no document at all. */
  codeActions(uri: string): CodeAction[] {
    const actions: CodeAction[] = [];
    for (const pending of this.pending.values()) {
      if (pending.uri !== undefined && pending.uri !== uri) continue;
      const label = shorten(pending.request.command);
      const argument = (decision: ApprovalDecision) => [{ approvalId: pending.id, decision }];
      actions.push({ title: `Approve command: ${label}`, kind: CodeActionKind.QuickFix, command: { title: 'Approve command', command: Commands.approveCommand.command, arguments: argument('allow-once') } });
      if (pending.request.alwaysRules) {
        actions.push({ title: `Always allow command: ${label}`, kind: CodeActionKind.QuickFix, command: { title: 'Always allow command', command: Commands.approveCommand.command, arguments: argument('allow-always') } });
      }
      actions.push({ title: `Deny command: ${label}`, kind: CodeActionKind.QuickFix, command: { title: 'Deny command', command: Commands.denyCommand.command, arguments: [{ approvalId: pending.id }] } });
    }
    return actions;
  }

  private publish(uri: string | undefined): void {
    if (uri === undefined) return;
    const diagnostics: Diagnostic[] = [...this.pending.values()]
      .filter((pending) => pending.uri === uri)
      .map((pending) => ({
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: DiagnosticSeverity.Warning,
        source: 'codebench',
        message: `codebench wants to run \`${pending.request.command}\` (${pending.request.reason}). Code actions: Approve / Deny.`,
      }));
    this.client.publishDiagnostics(uri, diagnostics, undefined, 'approvals');
  }
}

function promptText(request: ApprovalRequest): string {
  return `codebench wants to run:\n\n${request.command}\n\nin ${request.cwd} (${request.reason}).`;
}

function alwaysTitle(request: ApprovalRequest): string | undefined {
  if (!request.alwaysRules) return undefined;
  return `Always allow ${request.alwaysRules.map((argv) => `\`${argv.join(' ')}\``).join(' and ')}`;
}

function shorten(command: string): string {
  const line = command.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
