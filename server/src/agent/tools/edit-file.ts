import { z } from 'zod';
import { defineTool, failure, stagingRefusal } from './define.js';
import { describeTolerance, explainAmbiguous, explainNoMatch } from './edit-hints.js';
import { notFoundMessage } from './suggest.js';
import { locateEdit } from './text-match.js';
import { lineAt, numberLines, plural, splitLines } from './text.js';

const MAX_SNIPPET_LINES = 40;

const schema = z.strictObject({
  path: z.string().min(1).describe('Path of the file to edit, relative to the workspace root.'),
  old_string: z
    .string()
    .describe('Text to replace, copied from the file with its indentation and line breaks, without read_file line numbers. Must occur once in the file.'),
  new_string: z.string().describe('Replacement text. An empty string deletes old_string.'),
});

export const editFileTool = defineTool({
  name: 'edit_file',
  description: [
    'Edit an existing file by replacing one occurrence of old_string with new_string. Read the file first.',
    'old_string must be unique in the file: include a few surrounding lines. Copy it as the file has it; slips in trailing whitespace, line endings, indentation or copied line numbers are forgiven only when the match stays unique.',
    'Call once per change. Edits are staged for the user to review at the end of the run; later reads see them. To create a file, use write_file.',
  ].join(' '),
  schema,
  activity: (args) => `editing ${args.path}`,
  async run(args, { workspace, signal }) {
    const target = workspace.resolve(args.path);
    if (!target.ok) return failure(target.error);
    const name = target.relativePath;
    const refusal = stagingRefusal(workspace, target);
    if (refusal !== undefined) return failure(refusal);
    if (args.old_string === '') {
      return failure(
        'old_string is empty. To change an existing file, set old_string to the exact text to replace (read_file shows it); to create a new file, use write_file.',
      );
    }
    if (args.old_string === args.new_string) {
      return failure('old_string and new_string are identical, so there is nothing to change.');
    }

    const content = await workspace.read(target.absolutePath);
    switch (content.kind) {
      case 'missing':
        return failure(`${await notFoundMessage(workspace, target, signal)} To create a new file, use write_file.`);
      case 'directory':
        return failure(`${name} is a directory, not a file.`);
      case 'unreadable':
        return failure(`Cannot edit ${name}: ${content.reason}.`);
    }

    // From here on everything is synchronous, so concurrent edits of the same file cannot
    // interleave between reading the current text and staging the result.
    const text = workspace.overlay.current(target.absolutePath) ?? content.text;
    const match = locateEdit(text, args.old_string, args.new_string);
    if (match.kind === 'ambiguous') return failure(explainAmbiguous(name, match.tolerance, match.lines, match.more));
    if (match.kind === 'none') return failure(explainNoMatch(text, args.old_string, name));
    const next = text.slice(0, match.start) + match.replacement + text.slice(match.end);
    if (next === text) return failure('old_string and new_string are identical once matched to the file, so there is nothing to change.');
    workspace.overlay.stage(target.absolutePath, next, { root: target.root, realPath: target.realPath });
    const note = describeTolerance(match.tolerance);
    const described = describeEdit(name, text, next, match.start, text.slice(match.start, match.end), match.replacement);
    return { output: note ? `${described}\n\n(${note})` : described };
  },
});

function describeEdit(name: string, before: string, after: string, index: number, removed: string, inserted: string): string {
  const start = lineAt(before, index);
  const oldEnd = lineAt(before, index + Math.max(removed.length - 1, 0));
  const oldRange = start === oldEnd ? `line ${start}` : `lines ${start}-${oldEnd}`;
  if (inserted === '') {
    return `Edited ${name}: deleted text from ${oldRange}.\n\n${snippet(after, start, start)}`;
  }
  const newEnd = lineAt(after, index + inserted.length - 1);
  const count = newEnd - start + 1;
  return `Edited ${name}: replaced ${oldRange}; the new text is at ${start === newEnd ? `line ${start}` : `lines ${start}-${newEnd}`} (${plural(count, 'line')}).\n\n${snippet(after, start, newEnd)}`;
}

/** The changed lines with a little context, so the model can check the result without re-reading. */
function snippet(text: string, first: number, last: number): string {
  const lines = splitLines(text);
  if (lines.length === 0) return 'The file is now empty.';
  const from = Math.max(1, first - 2);
  const to = Math.min(lines.length, last + 2, from + MAX_SNIPPET_LINES - 1);
  const more = Math.min(lines.length, last + 2) > to ? '\n…' : '';
  return `Updated lines:\n${numberLines(lines.slice(from - 1, to), from, 200)}${more}`;
}
