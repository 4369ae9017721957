import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { attributeLines, provenanceInfo, splitLines } from '../agent/history/provenance.js';
import { MAX_TEXT_FILE_BYTES } from '../agent/workspace/workspace-files.js';
import type { ProvenanceInfo } from '../protocol/shapes.js';
import type { AppliedProposalOfFile } from '../store/store.js';
import { CliError, type CliContext } from './context.js';
import { localTime } from './history.js';
import { colorsFor } from './render.js';
import type { Register } from './subcommand.js';
import { terminalSafeJson, visible } from './terminal-text.js';

/** One line of FILE as `blame --json` prints it; `line` is 1-based, as the text output numbers it. */
interface BlameLine {
  line: number;
  text: string;
  provenance: ProvenanceInfo | null;
}

export const registerBlame: Register = (program, context) => {
  program
    .command('blame')
    .description("print the lines of FILE the agent wrote (applied proposals whose text is still there), with their run, like git blame")
    .argument('<file>', 'a file of this workspace')
    .option('-a, --all', 'print every line; lines the agent did not write get a blank prefix')
    .option('--json', 'print [{ line (1-based), text, provenance }] as JSON (provenance null for lines the agent did not write)')
    .action((file: string, options: { all?: boolean; json?: boolean }) => blame(context, file, options));
};

async function blame(context: CliContext, file: string, options: { all?: boolean; json?: boolean }): Promise<void> {
  const root = context.workspaceRoot();
  const path = resolve(context.cwd, file);
  const inside = relative(root, path);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new CliError(`blame: ${visible(file)} is outside the workspace ${visible(root)}`, 2);
  }
  const text = await readText(file, path);
  const store = await context.runtime().store();
  const sources = await store.appliedProposalsOfFile(pathToFileURL(path).href);
  const lines = splitLines(text);
  // A final newline ends the last line; it does not start another one (git blame agrees).
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  const owners = attributeLines(text, sources);
  const rows: Array<{ line: number; text: string; owner: AppliedProposalOfFile | undefined }> = lines.map((line, index) => ({ line: index + 1, text: line, owner: owners[index] }));
  const shown = options.all ? rows : rows.filter((row) => row.owner !== undefined);

  if (options.json) {
    const json: BlameLine[] = shown.map((row) => ({ line: row.line, text: row.text, provenance: row.owner ? provenanceInfo(row.owner) : null }));
    context.io.stdout.write(terminalSafeJson(`${JSON.stringify(json, null, 2)}\n`));
    return;
  }
  if (!rows.some((row) => row.owner !== undefined)) {
    context.io.stderr.write(`No line of ${visible(inside)} is the agent's: no applied proposal's text is in it\n`);
    if (!options.all) return;
  }
  const colors = colorsFor(context.io.stdout, context.env);
  const prefixes = shown.map((row) => (row.owner ? prefixOf(row.owner) : undefined));
  const width = Math.max(0, ...prefixes.map((prefix) => (prefix === undefined ? 0 : prefix.length)));
  const numberWidth = String(rows.length).length;
  const output = shown.map((row, index) => {
    const prefix = prefixes[index];
    const who = prefix === undefined ? ' '.repeat(width) : colors.yellow(prefix.padEnd(width));
    return `${who}  ${colors.dim(`${String(row.line).padStart(numberWidth)} │`)} ${visible(row.text, colors)}`;
  });
  context.io.stdout.write(`${output.join('\n')}\n`);
}

/** `7d2e41a0 2025-03-04 17:05 anthropic/claude-sonnet-4`: the proposal (short id), when it was applied, who wrote it. */
function prefixOf(owner: AppliedProposalOfFile): string {
  return `${owner.proposalId.slice(0, 8)} ${localTime(owner.appliedAt)} ${visible(`${owner.provider}/${owner.model}`)}`;
}

async function readText(file: string, path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new CliError(`blame: ${visible(file)} is a directory, not a file`);
    if (info.size > MAX_TEXT_FILE_BYTES) throw new CliError(`blame: ${visible(file)} is larger than ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB`);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `blame: no such file: ${visible(file)}` : `blame: cannot read ${visible(file)}: ${(error as Error).message}`);
  }
}
