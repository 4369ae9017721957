import type { CodeAction, CodeActionParams, Command } from 'vscode-languageserver';
import { CodeActionKind } from 'vscode-languageserver';
import type { Preset } from '../config/schema.js';
import { Commands, type AskParams } from '../protocol/methods.js';

export interface BuiltInPreset {
  title: string;
  instruction: string;
  kind: string;
  needsDiagnostics?: boolean;
}

export const BUILT_IN_PRESETS: BuiltInPreset[] = [
  {
    title: 'Agent: fix the diagnostics here',
    instruction: 'Fix the listed diagnostics in the selected code with the smallest correct change.',
    kind: CodeActionKind.QuickFix,
    needsDiagnostics: true,
  },
  { title: 'Agent: explain this code', instruction: 'Explain what the selected code does, briefly. Do not change any file.', kind: CodeActionKind.Empty },
  { title: 'Agent: document this', instruction: 'Add concise documentation comments to the selected code, in the style the file already uses.', kind: CodeActionKind.RefactorRewrite },
  { title: 'Agent: write tests for this', instruction: 'Write tests for the selected code, following the project\'s existing test layout and framework.', kind: CodeActionKind.Refactor },
  { title: 'Agent: refactor this', instruction: 'Refactor the selected code for clarity without changing its behaviour.', kind: CodeActionKind.RefactorRewrite },
];

/** `@agent <instruction>` anywhere on a line, after any comment leader; closers are dropped. */
const DIRECTIVE = /@agent\s+(.+?)\s*(?:\*\/|-->|--\]\]|#\})?\s*$/;
const DIRECTIVE_SEARCH_LINES = 5;

export interface Directive {
  line: number;
  instruction: string;
}

/** Finds the directive nearest the range, looking a few lines around it: no scan of the file. */
export function findDirective(lines: (line: number) => string | undefined, startLine: number, endLine: number): Directive | undefined {
  let best: Directive | undefined;
  let bestDistance = Infinity;
  for (let line = Math.max(0, startLine - DIRECTIVE_SEARCH_LINES); line <= endLine + DIRECTIVE_SEARCH_LINES; line++) {
    const text = lines(line);
    if (text === undefined) break;
    const match = DIRECTIVE.exec(text);
    if (!match?.[1]) continue;
    const distance = line < startLine ? startLine - line : line > endLine ? line - endLine : 0;
    if (distance < bestDistance) {
      best = { line, instruction: match[1] };
      bestDistance = distance;
    }
  }
  return best;
}

function wanted(kind: string, only: string[] | undefined): boolean {
  if (!only || only.length === 0) return true;
  return only.some((prefix) => kind === prefix || kind.startsWith(`${prefix}.`) || prefix === CodeActionKind.Empty);
}

export interface CodeActionInput {
  params: CodeActionParams;
  lineAt: (line: number) => string | undefined;
  userPresets: Preset[];
  canPrompt: boolean;
  runningRuns: Array<{ runId: string; instruction: string }>;
  /** Instructions of runs going or proposals pending: a directive asked already is not offered again. */
  askedInstructions?: ReadonlySet<string>;
}

/** What the model is asked for a directive: the user's words, then codebench's note (never the title). */
export function directiveInstruction(directive: Directive): string {
  return `${directive.instruction}\n(The user wrote this request as an "@agent" directive on line ${directive.line + 1}; remove that directive line as part of your change.)`;
}

/**
 * Everything here is computed from memory: editors ask for code actions on every cursor move and
 * Helix waits for the answer on its UI thread.
 */
export function agentCodeActions(input: CodeActionInput): CodeAction[] {
  const { params } = input;
  const uri = params.textDocument.uri;
  const range = params.range;
  const only = params.context.only;
  const foreignDiagnostics = params.context.diagnostics.filter((diagnostic) => diagnostic.source !== 'codebench');
  const diagnostics = foreignDiagnostics.map((diagnostic) => ({
    range: diagnostic.range,
    message: typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value,
    severity: diagnostic.severity,
    source: diagnostic.source,
  }));
  const ask = (title: string, kind: string, instruction: string, run?: string): CodeAction => {
    const args: AskParams = { uri, range, instruction, ...(diagnostics.length > 0 ? { diagnostics } : {}), ...(run !== undefined ? { run } : {}) };
    return { title, kind, command: { title, command: Commands.ask.command, arguments: [args] } };
  };

  const actions: CodeAction[] = [];
  const directive = findDirective(input.lineAt, range.start.line, range.end.line);
  // Once the directive's run is going or its proposal pending, Cancel / Apply stand for it.
  if (directive && !input.askedInstructions?.has(directiveInstruction(directive))) {
    const instruction = directiveInstruction(directive);
    actions.push({ ...ask(`Agent: ${directive.instruction}`, CodeActionKind.RefactorRewrite, instruction), isPreferred: true });
  }
  if (input.canPrompt) {
    const command: Command = { title: 'Ask agent…', command: Commands.askPrompt.command, arguments: [{ uri, range }] };
    actions.push({ title: 'Ask agent…', kind: CodeActionKind.RefactorRewrite, command });
  }
  for (const preset of BUILT_IN_PRESETS) {
    if (preset.needsDiagnostics && foreignDiagnostics.length === 0) continue;
    actions.push(ask(preset.title, preset.kind, preset.instruction));
  }
  for (const preset of input.userPresets) {
    // A project action: the preset's command runs first, its output goes to the model.
    actions.push(ask(`Agent: ${preset.title}`, CodeActionKind.RefactorRewrite, preset.instruction, preset.run));
  }
  actions.push(...cancelRunActions(input.runningRuns));
  return actions.filter((action) => wanted(action.kind ?? '', only));
}

/**
 * "Cancel agent run: …" per active run: Helix cannot cancel progress, so this is its only way. A
 * preferred quick fix: Helix sorts the menu by kind, then preferred, so it comes first.
 */
export function cancelRunActions(runningRuns: CodeActionInput['runningRuns']): CodeAction[] {
  return runningRuns.map((run) => {
    const title = `Cancel agent run: ${run.instruction.split('\n')[0]!.slice(0, 60)}`;
    return { title, kind: CodeActionKind.QuickFix, isPreferred: true, command: { title, command: Commands.cancel.command, arguments: [{ runId: run.runId }] } };
  });
}
