import { z } from 'zod';
import { defineTool, failure, throwIfAborted } from './define.js';
import { suggestPaths } from './suggest.js';
import { cutLine, plural, splitLines } from './text.js';
import { globFilter, walkFiles, type WalkedFile } from './walk.js';

const MAX_MATCHES = 200;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_LINE_LENGTH = 300;

const schema = z.strictObject({
  pattern: z.string().min(1).describe('JavaScript regular expression, matched against each line, e.g. "function\\\\s+parse" or "TODO|FIXME".'),
  path: z.string().optional().describe('File or directory to search, relative to the workspace root. Default: the whole workspace.'),
  glob: z.string().optional().describe('Only search files matching this glob, e.g. "*.ts" (any depth) or "src/**/*.py".'),
});

export const grepTool = defineTool({
  name: 'grep',
  description: [
    'Search file contents with a JavaScript regular expression, line by line. Returns matching lines as "path:line: text".',
    'Searches the unsaved editor text and your staged edits, not just disk. Skips .git, node_modules, .gitignored, binary and >1 MB files.',
    'Case-sensitive; start the pattern with (?i) for a case-insensitive search. Patterns cannot span lines.',
    `At most ${MAX_MATCHES} matches are returned.`,
  ].join(' '),
  schema,
  activity: (args) => `searching for ${args.pattern}${args.path ? ` in ${args.path}` : ''}`,
  async run(args, { workspace, signal }) {
    const regex = compile(args.pattern);
    if (typeof regex === 'string') return failure(regex);
    const target = workspace.resolve(args.path ?? '.');
    if (!target.ok) return failure(target.error);
    const filter = globFilter(args.glob);
    if (typeof filter === 'string') return failure(filter);

    const probe = await workspace.read(target.absolutePath, { record: false });
    let files: AsyncIterable<Pick<WalkedFile, 'absolutePath' | 'relativePath'>>;
    if (probe.kind === 'missing') {
      const suggestions = await suggestPaths(workspace, target, signal);
      const hint = suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : '';
      return failure(`${target.relativePath} not found.${hint}`);
    } else if (probe.kind === 'directory') {
      files = filtered(walkFiles({ workspace, root: target.root, start: target.absolutePath, signal }), filter);
    } else {
      files = single(target);
    }

    const matches: string[] = [];
    let searched = 0;
    let skippedLarge = 0;
    let skippedProtected = 0;
    let capped = false;
    outer: for await (const file of files) {
      throwIfAborted(signal);
      const content = await workspace.read(file.absolutePath, { record: false, maxBytes: MAX_FILE_BYTES });
      if (content.kind !== 'text') {
        if (content.kind === 'unreadable' && content.bytes !== undefined) skippedLarge++;
        if (content.kind === 'unreadable' && content.protected) skippedProtected++;
        continue;
      }
      searched++;
      const lines = splitLines(content.text);
      for (let index = 0; index < lines.length; index++) {
        if (!regex.test(lines[index]!)) continue;
        if (matches.length === MAX_MATCHES) {
          capped = true;
          break outer;
        }
        matches.push(`${file.relativePath}:${index + 1}: ${cutLine(lines[index]!, MAX_LINE_LENGTH).text}`);
      }
    }

    const notes: string[] = [];
    if (capped) {
      notes.push(`Stopped after ${MAX_MATCHES} matches; narrow the search with path, glob or a more specific pattern.`);
    }
    if (skippedLarge > 0) notes.push(`Skipped ${plural(skippedLarge, 'file')} over 1 MB.`);
    if (skippedProtected > 0) notes.push(`Skipped ${plural(skippedProtected, 'protected file')} (credentials such as .env are never searched).`);
    const footer = notes.length > 0 ? `\n\n(${notes.join(' ')})` : '';
    if (matches.length === 0) {
      const where = target.relativePath === '.' ? 'the workspace' : target.relativePath;
      return { output: `No matches for /${args.pattern}/ in ${where} (searched ${plural(searched, 'file')}).${footer}` };
    }
    return { output: matches.join('\n') + footer };
  },
});

/**
 * Models often write PCRE-style "(?i)" and escapes like "\-" that only sloppy (non-unicode) JS
 * regexes accept, so fall back to that mode rather than reject the pattern.
 */
function compile(pattern: string): RegExp | string {
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const reason = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
      return `Invalid regular expression ${JSON.stringify(pattern)}: ${reason}. The pattern is a JavaScript regular expression; escape characters such as ( ) [ ] { } . * + ? | with a backslash to match them literally.`;
    }
  }
}

async function* filtered(files: AsyncIterable<WalkedFile>, keep: (file: WalkedFile) => boolean) {
  for await (const file of files) if (keep(file)) yield file;
}

async function* single(file: { absolutePath: string; relativePath: string }) {
  yield file;
}
