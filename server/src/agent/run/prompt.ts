import { estimateTokens } from '../../providers/token-estimate.js';
import type { RuleFile } from './project-rules.js';
import type { WorkspaceMap } from './workspace-map.js';

/** What the user pointed at when asking; lines are 0-based. */
export interface AskContext {
  instruction: string;
  file?: { relativePath: string; text: string; languageHint?: string };
  selection?: { startLine: number; endLine: number; text: string };
  diagnostics?: Array<{ line?: number; message: string; severity?: string; source?: string }>;
  /** The project's rules files (run/project-rules.ts), root first, already scrubbed and cut to size. */
  rules?: RuleFile[];
  /** The workspace's project memory, oldest first. */
  memoryFacts?: Array<{ id: string; text: string }>;
  /** Given in the first request of a session only (run/workspace-map.ts). */
  workspaceMap?: WorkspaceMap;
  /**
   * The command the user asked to run before the first turn (a preset's `run`): its run_command
   * result (status line, then head and tail of the output), or why it did not run.
   */
  firstCommand?: { command: string; ran: true; exitCode: number | null; output: string } | { command: string; ran: false; output: string };
}

const MAX_INLINE_FILE_LINES = 400;
/** Memory is meant for short facts; a workspace that gathered many more shows the oldest that fit. */
export const MEMORY_BUDGET_TOKENS = 1_000;

export function systemPrompt(roots: readonly string[]): string {
  return [
    'You are codebench, a careful coding agent working inside the user\'s editor.',
    `Workspace root: ${roots[0] ?? '(none)'}${roots.length > 1 ? ` (other roots: ${roots.slice(1).join(', ')})` : ''}.`,
    'Use the tools to read, search and change files. Paths are relative to the workspace root.',
    'Change existing files with edit_file (exact, unique old_string); create new files with write_file.',
    'Your edits are staged and shown to the user for review as one change; nothing is written until they accept.',
    'Keep changes minimal and focused on the request. Do not reformat unrelated code.',
    'When you are done, reply with a short summary of what you changed (or the answer, if the request was a question).',
  ].join('\n');
}

/**
 * Text mode, for models without tool support: no tools, so the contract of SEARCH/REPLACE edit
 * blocks (run/edit-blocks.ts) is explained instead, with the example the models were trained on.
 */
export function textModeSystemPrompt(roots: readonly string[]): string {
  const fence = '```';
  return [
    'You are codebench, a careful coding agent working inside the user\'s editor.',
    `Workspace root: ${roots[0] ?? '(none)'}${roots.length > 1 ? ` (other roots: ${roots.slice(1).join(', ')})` : ''}.`,
    'You have no tools. You get the request, the current file and the selection. To change files, answer with SEARCH/REPLACE edit blocks:',
    '',
    'src/greet.ts',
    `${fence}ts`,
    '<<<<<<< SEARCH',
    '  return "hello";',
    '=======',
    '  return `hello, ${name}`;',
    '>>>>>>> REPLACE',
    fence,
    '',
    'Write the file\'s path, relative to the workspace root, on the line right before each block.',
    'SEARCH must be copied exactly from the current file (same indentation, no line numbers) and occur once in it: include a few surrounding lines when needed. Use one block per change.',
    'To create a new file, leave SEARCH empty and put the whole file in REPLACE.',
    'Your edits are staged and shown to the user for review as one change; nothing is written until they accept. A block that cannot be applied is reported back to you: then reply with corrected blocks for it only.',
    'Keep changes minimal and focused on the request. If the request is a question, answer it without blocks. End with a short summary of what you changed.',
  ].join('\n');
}

function numbered(text: string, firstLine: number): string {
  return text
    .split('\n')
    .map((line, index) => `${String(firstLine + index).padStart(5)}\t${line}`)
    .join('\n');
}

/** The first user message of a turn: the instruction plus the editor context it was asked in. */
export function contextMessage(context: AskContext, mode: 'tools' | 'text' = 'tools'): string {
  // What holds for the whole project comes first: it is the same from ask to ask, so a server's
  // prompt cache can keep it, and the request then reads as the last word.
  const parts = [...projectSections(context, mode), `Request: ${context.instruction}`];
  if (context.firstCommand) parts.push(firstCommandSection(context.firstCommand));
  if (context.file) {
    parts.push(`Current file: ${context.file.relativePath}`);
  }
  if (context.selection) {
    const { startLine, endLine, text } = context.selection;
    parts.push(`Selected lines ${startLine + 1}-${endLine + 1}:\n\`\`\`\n${text}\n\`\`\``);
  }
  if (context.diagnostics && context.diagnostics.length > 0) {
    const lines = context.diagnostics.map((diagnostic) => {
      const where = diagnostic.line !== undefined ? `line ${diagnostic.line + 1}: ` : '';
      const source = diagnostic.source ? ` (${diagnostic.source})` : '';
      return `- ${where}${diagnostic.severity ?? 'error'}: ${diagnostic.message}${source}`;
    });
    parts.push(`Diagnostics:\n${lines.join('\n')}`);
  }
  if (context.file) {
    const lines = context.file.text.split('\n');
    if (lines.length <= MAX_INLINE_FILE_LINES && mode === 'text') {
      // Without numbers: a text-mode model copies SEARCH text from here, prefixes and all.
      parts.push(`Contents of ${context.file.relativePath}:\n${fenced(context.file.text)}`);
    } else if (lines.length <= MAX_INLINE_FILE_LINES) {
      parts.push(`Contents of ${context.file.relativePath} (line numbers are not part of the file):\n${numbered(context.file.text, 1)}`);
    } else if (mode === 'text') {
      parts.push(`${context.file.relativePath} has ${lines.length} lines, too many to show; edit only what the selection shows.`);
    } else {
      parts.push(`${context.file.relativePath} has ${lines.length} lines; use read_file with offset/limit to see more of it.`);
    }
  }
  return parts.join('\n\n');
}

function projectSections(context: AskContext, mode: 'tools' | 'text'): string[] {
  const sections: string[] = [];
  if (context.rules && context.rules.length > 0) {
    const files = context.rules.map((rule) => [rule.text === '' ? undefined : `${rule.path}:\n${fenced(rule.text)}`, rule.note && `Note: ${rule.note}`].filter(Boolean).join('\n'));
    sections.push(`Project rules (the project's instructions for coding agents, root first; follow them):\n\n${files.join('\n\n')}`);
  }
  if (context.memoryFacts && context.memoryFacts.length > 0) {
    const lines: string[] = [];
    let tokens = 0;
    for (const fact of context.memoryFacts) {
      const line = `- [${fact.id}] ${fact.text.replace(/\s+/g, ' ').trim()}`;
      tokens += estimateTokens(line);
      if (tokens > MEMORY_BUDGET_TOKENS) break;
      lines.push(line);
    }
    const left = context.memoryFacts.length - lines.length;
    if (left > 0) lines.push(`(${left} newer ${left === 1 ? 'fact' : 'facts'} not shown: the memory section is limited to ${MEMORY_BUDGET_TOKENS.toLocaleString('en-US')} tokens)`);
    sections.push(`Project memory (facts kept for this workspace, each with its id):\n${lines.join('\n')}`);
  }
  const map = context.workspaceMap;
  if (map) {
    const count = `${map.fileCount.toLocaleString('en-US')}${map.partial ? '+' : ''} files`;
    const look = mode === 'tools' ? '; list_files shows what is inside them' : '';
    sections.push(`Workspace map (${count}; a directory shown as "name/ (N files: …)" is summarised${look}):\n${fenced(map.text)}`);
  }
  return sections;
}

function firstCommandSection(first: NonNullable<AskContext['firstCommand']>): string {
  const command = `\`${first.command.replace(/`/g, "'")}\``;
  if (!first.ran) return `The user asked to run ${command} before this request, but it did not run: ${first.output}`;
  const status = first.exitCode === null ? 'did not finish' : `exit ${first.exitCode}`;
  return `Output of ${command} (${status}), run before this request as the user asked:\n${fenced(first.output)}`;
}

/** A fence longer than any run of backticks in the text, so the text cannot close it early. */
function fenced(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text.replace(/\n$/, '')}\n${fence}`;
}
