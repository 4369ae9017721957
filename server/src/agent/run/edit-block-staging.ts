import type { ToolCall } from '../../providers/types.js';
import type { ToolResult } from '../tools/types.js';
import { parseEditBlocks, type EditBlock } from './edit-blocks.js';

/**
 * Text mode: a reply's SEARCH/REPLACE blocks become calls of the edit_file and write_file tools,
 * run exactly as the model's own calls would be, so they get the same path and protected-file
 * checks, the same matching of SEARCH text, the same staging in the overlay and the same records.
 */

export interface StagedBlocks {
  /** Blocks in the reply (readable or not); 0 means the reply changes nothing. */
  blocks: number;
  /** Written for the model when a block failed or could not be read: what went wrong, what to resend. */
  report?: string;
}

export async function stageEditBlocks(
  reply: string,
  step: number,
  runCall: (call: ToolCall) => Promise<ToolResult>,
): Promise<StagedBlocks> {
  const parsed = parseEditBlocks(reply);
  const failures = [...parsed.problems];
  let applied = 0;
  for (const [index, block] of parsed.blocks.entries()) {
    const result = await runCall({ id: `edit_block_${step}_${index + 1}`, ...callFor(block) });
    if (result.isError) failures.push(`The block for ${block.path} at line ${block.line} of your reply failed: ${result.output}`);
    else applied++;
  }
  const blocks = parsed.blocks.length + parsed.problems.length;
  if (failures.length === 0) return { blocks };
  return {
    blocks,
    report: [
      `${applied} of ${blocks} edit blocks were applied; ${failures.length} failed (in these messages old_string means your SEARCH text and new_string your REPLACE text):`,
      ...failures.map((failure) => `- ${failure}`),
      'Reply with corrected SEARCH/REPLACE blocks for the failed ones only; the applied blocks are already in the files. Copy SEARCH text exactly from the current file.',
    ].join('\n'),
  };
}

/** An empty SEARCH creates the file; an empty REPLACE deletes the SEARCH lines, line breaks included. */
function callFor(block: EditBlock): Pick<ToolCall, 'name' | 'args'> {
  if (block.search.trim() === '') {
    return { name: 'write_file', args: { path: block.path, content: block.replace === '' ? '' : `${block.replace}\n` } };
  }
  if (block.replace === '') return { name: 'edit_file', args: { path: block.path, old_string: `${block.search}\n`, new_string: '' } };
  return { name: 'edit_file', args: { path: block.path, old_string: block.search, new_string: block.replace } };
}
