import { z } from 'zod';
import { defineTool, failure } from './define.js';
import { notFoundMessage } from './suggest.js';
import { cutLine, splitLines } from './text.js';

const DEFAULT_LIMIT = 2000;
const MAX_LINE_LENGTH = 2000;
/** Keeps one call from flooding the context even when every line is long. */
const MAX_OUTPUT_CHARS = 100_000;

const schema = z.strictObject({
  path: z.string().min(1).describe('Path of the file, relative to the workspace root (an absolute path inside the workspace also works).'),
  offset: z.number().int().min(1).optional().describe('1-based line number to start reading at. Default 1.'),
  limit: z.number().int().min(1).optional().describe(`Maximum number of lines to return. Default ${DEFAULT_LIMIT}.`),
});

export const readFileTool = defineTool({
  name: 'read_file',
  description: [
    'Read a text file from the workspace.',
    'Each line comes back as its 1-based line number, a tab, then the text (e.g. "  12\\tconst x = 1;"). The number and tab are not part of the file: never copy them into edit_file.',
    "You see the user's unsaved editor text and the edits you staged earlier in this run, not just what is on disk.",
    `Returns up to ${DEFAULT_LIMIT} lines; for longer files the output says how to continue with offset. Lines over ${MAX_LINE_LENGTH} characters are cut.`,
    'Read a file before editing it. To find where something is defined, use grep instead of reading many files.',
  ].join(' '),
  schema,
  activity: (args) => `reading ${args.path}`,
  async run(args, { workspace, signal }) {
    const target = workspace.resolve(args.path);
    if (!target.ok) return failure(target.error);
    const name = target.relativePath;
    const content = await workspace.read(target.absolutePath);
    if (content.kind === 'unreadable' && content.protected) return failure(content.reason);
    switch (content.kind) {
      case 'missing':
        return failure(await notFoundMessage(workspace, target, signal));
      case 'directory':
        return failure(`${name} is a directory, not a file. Use list_files with path "${name}" to see its files.`);
      case 'unreadable':
        return failure(`Cannot read ${name}: ${content.reason}. read_file only reads text files.`);
    }

    const lines = splitLines(content.text);
    if (lines.length === 0) return { output: `${name} is empty (0 lines).` };
    const offset = args.offset ?? 1;
    if (offset > lines.length) {
      return failure(`offset ${offset} is past the end of ${name}, which has ${lines.length} lines.`);
    }
    const last = Math.min(lines.length, offset + (args.limit ?? DEFAULT_LIMIT) - 1);
    const width = Math.max(4, String(last).length);

    const out: string[] = [];
    let size = 0;
    let anyCut = false;
    let shownUntil = offset - 1;
    for (let number = offset; number <= last; number++) {
      const { text, cut } = cutLine(lines[number - 1]!, MAX_LINE_LENGTH);
      const line = `${String(number).padStart(width)}\t${text}`;
      if (out.length > 0 && size + line.length > MAX_OUTPUT_CHARS) break;
      out.push(line);
      size += line.length + 1;
      anyCut ||= cut;
      shownUntil = number;
    }

    const notes: string[] = [];
    if (shownUntil < lines.length) {
      notes.push(
        `Showing lines ${offset}-${shownUntil} of ${lines.length}. To read more, call read_file with offset ${shownUntil + 1}.`,
      );
    }
    if (anyCut) notes.push(`Some lines were longer than ${MAX_LINE_LENGTH} characters and were cut.`);
    const footer = notes.length > 0 ? `\n\n(${notes.join(' ')})` : '';
    return { output: out.join('\n') + footer };
  },
});
