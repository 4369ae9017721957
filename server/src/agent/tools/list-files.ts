import { z } from 'zod';
import { defineTool, failure } from './define.js';
import { suggestPaths } from './suggest.js';
import { globFilter, walkFiles } from './walk.js';

const MAX_ENTRIES = 1000;

const schema = z.strictObject({
  path: z.string().optional().describe('Directory to list, relative to the workspace root. Default: the workspace root.'),
  glob: z
    .string()
    .optional()
    .describe('Only list files matching this glob, e.g. "*.ts" (any depth), "src/**/*.test.ts" or "*.{js,json}".'),
});

export const listFilesTool = defineTool({
  name: 'list_files',
  description: [
    'List the files under a directory of the workspace, recursively, as workspace-relative paths you can pass to read_file.',
    '.git, node_modules and files excluded by .gitignore are skipped. Files you created in this run are included and marked "(new)".',
    `At most ${MAX_ENTRIES} paths are returned; use path or glob to narrow large listings.`,
  ].join(' '),
  schema,
  activity: (args) => `listing ${args.path ?? 'workspace'}${args.glob ? ` (${args.glob})` : ''}`,
  async run(args, { workspace, signal }) {
    const target = workspace.resolve(args.path ?? '.');
    if (!target.ok) return failure(target.error);
    const filter = globFilter(args.glob);
    if (typeof filter === 'string') return failure(filter);

    const content = await workspace.read(target.absolutePath, { record: false });
    if (content.kind === 'missing') {
      const suggestions = await suggestPaths(workspace, target, signal);
      const hint = suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : '';
      return failure(`Directory ${target.relativePath} not found.${hint}`);
    }
    if (content.kind !== 'directory') {
      return { output: `${target.relativePath} is a file, not a directory:\n${target.relativePath}` };
    }

    const paths: string[] = [];
    let more = false;
    for await (const file of walkFiles({ workspace, root: target.root, start: target.absolutePath, signal })) {
      if (!filter(file)) continue;
      if (paths.length === MAX_ENTRIES) {
        more = true;
        break;
      }
      paths.push(file.staged ? `${file.relativePath} (new)` : file.relativePath);
    }

    const where = target.relativePath === '.' ? 'the workspace' : target.relativePath;
    const matching = args.glob ? ` matching ${JSON.stringify(args.glob)}` : '';
    if (paths.length === 0) {
      return { output: `No files found in ${where}${matching} (.git, node_modules and .gitignored files are skipped).` };
    }
    const note = more
      ? `\n\n(Showing the first ${MAX_ENTRIES} files in ${where}${matching}; there are more. Narrow the listing with path or glob.)`
      : '';
    return { output: paths.join('\n') + note };
  },
});
