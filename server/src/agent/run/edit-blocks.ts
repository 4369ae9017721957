/**
 * SEARCH/REPLACE edit blocks, the contract text-mode models answer with (models without tool
 * support know it from aider and others):
 *
 *     src/greet.ts
 *     ```ts
 *     <<<<<<< SEARCH
 *       return "hello";
 *     =======
 *       return `hello, ${name}`;
 *     >>>>>>> REPLACE
 *     ```
 *
 * The path line stands right before the block (the fence is optional, the path may be in
 * backticks or bold); several blocks in a row may share the path given above the first. An
 * empty SEARCH creates the file. Pure: staging the blocks is edit-block-staging.ts.
 */

export interface EditBlock {
  path: string;
  /** Whole lines joined by "\n", without a final line break; empty to create the file. */
  search: string;
  replace: string;
  /** 1-based line of the SEARCH marker in the reply, for messages to the model. */
  line: number;
}

export interface ParsedEditBlocks {
  blocks: EditBlock[];
  /** Blocks that could not be read, written for the model (e.g. no path line, never closed). */
  problems: string[];
}

const SEARCH_MARKER = /^\s*<{5,9}\s*SEARCH\s*$/;
const DIVIDER = /^\s*={5,9}\s*$/;
const REPLACE_MARKER = /^\s*>{5,9}\s*REPLACE\s*$/;
const FENCE = /^\s*(```|~~~)/;

export function parseEditBlocks(reply: string): ParsedEditBlocks {
  const lines = reply.split(/\r?\n/);
  const blocks: EditBlock[] = [];
  const problems: string[] = [];
  let lastPath: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    if (!SEARCH_MARKER.test(lines[index]!)) continue;
    const line = index + 1;
    const path = pathBefore(lines, index) ?? lastPath;
    const divider = findLine(lines, index + 1, DIVIDER, [SEARCH_MARKER, REPLACE_MARKER]);
    if (divider === undefined) {
      problems.push(`The block at line ${line} of your reply has no "=======" line between its SEARCH and REPLACE parts.`);
      continue;
    }
    const end = findLine(lines, divider + 1, REPLACE_MARKER, [SEARCH_MARKER]);
    if (end === undefined) {
      problems.push(`The block at line ${line} of your reply is not closed with ">>>>>>> REPLACE".`);
      index = divider;
      continue;
    }
    index = end;
    if (path === undefined) {
      problems.push(`The block at line ${line} of your reply has no file path: write the path on its own line right before the block.`);
      continue;
    }
    lastPath = path;
    blocks.push({ path, search: lines.slice(line, divider).join('\n'), replace: lines.slice(divider + 1, end).join('\n'), line });
  }
  return { blocks, problems };
}

/** The first line at or after `from` matching `target`, unless a line matching one of `stops` comes first. */
function findLine(lines: string[], from: number, target: RegExp, stops: RegExp[]): number | undefined {
  for (let index = from; index < lines.length; index++) {
    if (target.test(lines[index]!)) return index;
    if (stops.some((stop) => stop.test(lines[index]!))) return undefined;
  }
  return undefined;
}

/** The path on the last non-blank line before the marker, looking past an opening fence. */
function pathBefore(lines: string[], marker: number): string | undefined {
  let index = previousNonBlank(lines, marker - 1);
  if (index !== undefined && FENCE.test(lines[index]!)) index = previousNonBlank(lines, index - 1);
  return index === undefined ? undefined : asPath(lines[index]!);
}

function previousNonBlank(lines: string[], from: number): number | undefined {
  for (let index = from; index >= 0; index--) if (lines[index]!.trim() !== '') return index;
  return undefined;
}

/**
 * "src/a.ts", "`src/a.ts`", "**src/a.ts**", "src/a.ts:", "### src/a.ts", "File: src/a.ts";
 * undefined for prose, fences and markers (a path has no spaces here: models rarely quote one that does).
 */
export function asPath(line: string): string | undefined {
  if (FENCE.test(line)) return undefined;
  let candidate = line.trim().replace(/^#+\s*/, '').replace(/^(file(name)?|path)\s*:\s*/i, '');
  for (let pass = 0; pass < 2; pass++) candidate = candidate.replace(/^[*_`'"]+|[*_`'"]+$/g, '').replace(/:$/, '');
  if (candidate === '' || /\s/.test(candidate) || /^(`|~|<{3}|>{3}|={3})/.test(candidate)) return undefined;
  return candidate;
}
