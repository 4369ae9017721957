import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';
import { defineTool, failure, stagingRefusal } from './define.js';
import { plural, splitLines } from './text.js';

const schema = z.strictObject({
  path: z.string().min(1).describe('Path of the new file, relative to the workspace root. Missing parent directories are fine.'),
  content: z.string().describe('The complete content of the new file.'),
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description: [
    'Create a new file with the given content.',
    'Only for files that do not exist yet (or that you created earlier in this run); to change an existing file, use edit_file.',
    'The file is staged for the user to review at the end of the run; read_file, list_files and grep already see it.',
  ].join(' '),
  schema,
  activity: (args) => `creating ${args.path}`,
  async run(args, { workspace }) {
    const target = workspace.resolve(args.path);
    if (!target.ok) return failure(target.error);
    const name = target.relativePath;
    // Creating a protected file would hand the model a channel to credentials files; refuse it.
    const refusal = stagingRefusal(workspace, target);
    if (refusal !== undefined) return failure(refusal);

    const content = await workspace.read(target.absolutePath);
    const overwriting = workspace.overlay.isCreatedByRun(target.absolutePath);
    switch (content.kind) {
      case 'directory':
        return failure(`${name} is a directory. Give the path of the file to create inside it.`);
      case 'unreadable':
        return failure(`${name} already exists (${content.reason}). write_file only creates new files.`);
      case 'text':
        if (!overwriting) {
          return failure(
            `${name} already exists. Use edit_file to change it (read_file shows its current content); write_file only creates new files.`,
          );
        }
        break;
      case 'missing': {
        const blocker = fileInTheWay(workspace, target.absolutePath, target.root);
        if (blocker !== undefined) {
          return failure(`Cannot create ${name}: ${blocker} is a file, not a directory.`);
        }
      }
    }

    workspace.overlay.stage(target.absolutePath, args.content, { root: target.root, realPath: target.realPath });
    const lines = plural(splitLines(args.content).length, 'line');
    return {
      output: overwriting
        ? `Replaced the content of ${name}, which you created earlier in this run (${lines}).`
        : `Created ${name} (${lines}). It is staged for the user's review; other tools already see it.`,
    };
  },
});

/** A parent "directory" that is really a file (on disk or created in this run) makes the path impossible. */
function fileInTheWay(workspace: WorkspaceFiles, absolutePath: string, root: string): string | undefined {
  for (let parent = path.dirname(absolutePath); parent !== root && parent !== path.dirname(parent); parent = path.dirname(parent)) {
    if (workspace.overlay.isCreatedByRun(parent)) return workspace.relativePath(parent);
    try {
      return statSync(parent).isDirectory() ? undefined : workspace.relativePath(parent);
    } catch {
      // missing: keep walking up until something exists
    }
  }
  return undefined;
}
