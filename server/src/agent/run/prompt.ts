import type { ChatMessage } from '../../providers/types.js';

/** What the user pointed at when asking; lines are 0-based. */
export interface AskContext {
  instruction: string;
  file?: { relativePath: string; text: string; languageHint?: string };
  selection?: { startLine: number; endLine: number; text: string };
  diagnostics?: Array<{ line?: number; message: string; severity?: string; source?: string }>;
}

const MAX_INLINE_FILE_LINES = 400;

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

function numbered(text: string, firstLine: number): string {
  return text
    .split('\n')
    .map((line, index) => `${String(firstLine + index).padStart(5)}\t${line}`)
    .join('\n');
}

/** The first user message of a turn: the instruction plus the editor context it was asked in. */
export function contextMessage(context: AskContext): string {
  const parts = [`Request: ${context.instruction}`];
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
    if (lines.length <= MAX_INLINE_FILE_LINES) {
      parts.push(`Contents of ${context.file.relativePath} (line numbers are not part of the file):\n${numbered(context.file.text, 1)}`);
    } else {
      parts.push(`${context.file.relativePath} has ${lines.length} lines; use read_file with offset/limit to see more of it.`);
    }
  }
  return parts.join('\n\n');
}

/** Prior turns of a continued session, as plain user/assistant text. */
export function historyMessages(messages: Array<{ role: string; content: string }>): ChatMessage[] {
  const history: ChatMessage[] = [];
  for (const message of messages) {
    if (message.role === 'user') history.push({ role: 'user', content: message.content });
    else if (message.role === 'assistant' && message.content.trim() !== '') {
      history.push({ role: 'assistant', content: message.content });
    }
  }
  return history;
}
