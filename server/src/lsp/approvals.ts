import { randomUUID } from 'node:crypto';
import type { CodeAction, Diagnostic } from 'vscode-languageserver';
import { CodeActionKind, DiagnosticSeverity } from 'vscode-languageserver';
import type { ApprovalDecision, ApprovalRequest, Approver } from '../agent/commands/approvals.js';
import { parseCommand } from '../agent/commands/parse.js';
import { launches, programName } from '../agent/commands/programs.js';
import { Commands } from '../protocol/methods.js';
import type { EditorClient } from './editor-client.js';

interface Pending {
  id: string;
  request: ApprovalRequest;
  /** The code-action titles, computed once (they name every program the command runs). */
  titles: ApprovalTitles;
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
    const titles = approvalTitles(request.command, await programsOf(request.command), request.alwaysRules);
    return new Promise<ApprovalDecision>((resolve) => {
      const id = randomUUID().slice(0, 8);
      const settle = (decision: ApprovalDecision) => {
        if (!this.pending.delete(id)) return;
        this.publish(uri);
        resolve(decision);
      };
      this.pending.set(id, { id, request, titles, uri, resolve: settle });
      if (signal.aborted) settle('deny');
      signal.addEventListener('abort', () => settle('deny'), { once: true });
      this.publish(uri);
      this.client.show('warning', `codebench wants to run \`${request.command}\`: approve or deny it from the code actions (it is denied if nobody answers).`);
    });
  }

  /** From `codebench.approveCommand` / `codebench.denyCommand`; false when it is no longer pending. */
  answer(approvalId: string, decision: ApprovalDecision): boolean {
    const pending = this.pending.get(approvalId);
    if (!pending) return false;
    // "Always" counts only when it was offered: a title that could not name every rule is not.
    pending.resolve(decision === 'allow-always' && pending.titles.always === undefined ? 'allow-once' : decision);
    return true;
  }

  /** Cheap, from memory: approvals asked from this document, or from no document at all. */
  codeActions(uri: string): CodeAction[] {
    const actions: CodeAction[] = [];
    for (const pending of this.pending.values()) {
      if (pending.uri !== undefined && pending.uri !== uri) continue;
      const { approve, always, deny } = pending.titles;
      const argument = (decision: ApprovalDecision) => [{ approvalId: pending.id, decision }];
      actions.push({ title: approve, kind: CodeActionKind.QuickFix, command: { title: 'Approve command', command: Commands.approveCommand.command, arguments: argument('allow-once') } });
      if (always !== undefined) {
        actions.push({ title: always, kind: CodeActionKind.QuickFix, command: { title: 'Always allow command', command: Commands.approveCommand.command, arguments: argument('allow-always') } });
      }
      actions.push({ title: deny, kind: CodeActionKind.QuickFix, command: { title: 'Deny command', command: Commands.denyCommand.command, arguments: [{ approvalId: pending.id }] } });
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

export interface ApprovalTitles {
  approve: string;
  /** Absent when nothing can be stored, or the rules do not fit a title in full. */
  always?: string;
  deny: string;
}

/** Longest command shown whole in a title; longer ones show their start and every program. */
const LABEL_LIMIT = 60;
/** Longest "Always allow" title: past it the action is not offered, since it could not name every rule. */
const ALWAYS_LIMIT = 120;

/**
 * Code-action titles for a pending approval. Editors show titles on one line and may cut them, and
 * a title is all a Helix user sees before choosing, so a long command is never merely cut: the
 * title keeps its start and then names every program it runs (`… [runs npm, curl, sh]`).
 * "Always allow" names every rule it stores, word for word, or is not offered at all.
 */
export function approvalTitles(command: string, programs: readonly string[] | undefined, alwaysRules: readonly string[][] | undefined): ApprovalTitles {
  const line = visible(command);
  let label = line;
  if (line.length > LABEL_LIMIT) {
    const runs = programs === undefined ? 'could not be parsed: read the diagnostic' : `runs ${[...new Set(programs)].join(', ')}`;
    label = `${line.slice(0, 40).trimEnd()}… [${runs}]`;
  }
  let always: string | undefined;
  if (alwaysRules && alwaysRules.length > 0) {
    const rules = alwaysRules.map((argv) => `\`${visible(argv.join(' '))}\``);
    // The prefix stays `Always allow command:` (protocol.md names it); every rule follows in full.
    const text = `Always allow command: ${rules.join(' and ')}`;
    if (text.length <= ALWAYS_LIMIT) always = text;
  }
  return { approve: `Approve command: ${label}`, ...(always !== undefined ? { always } : {}), deny: `Deny command: ${label}` };
}

/** Every program a command runs (launched ones and those in `sh -c` strings too), or undefined if it does not parse. */
async function programsOf(command: string): Promise<string[] | undefined> {
  const parsed = await parseCommand(command);
  if (!parsed.ok) return undefined;
  const names = parsed.commands.flatMap((simple) => launches(simple.argv).programs.filter((program) => !program.possible).map((program) => programName(program.argv[0] ?? '')));
  return names.filter((name) => name !== '');
}

/** One line, with control characters shown rather than obeyed (a newline separates commands). */
function visible(text: string): string {
  return text
    .replace(/\r?\n/g, ' ⏎ ')
    .replace(/[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, (char) => `\\u{${char.charCodeAt(0).toString(16)}}`)
    .replace(/[ \t]+/g, ' ')
    .trim();
}
