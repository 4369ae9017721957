import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_TOOL_OUTPUT_CHARS } from '../../server/src/agent/tools/define.js';
import { builtInTools, runTool } from '../../server/src/agent/tools/index.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

/** Every tool's result is capped before the model sees it (define.ts), on a real file. */
describe('tool output cap', () => {
  it('caps what a tool returns to the model: a long read_file keeps its start and its "read more" footer', async () => {
    const root = mkdtempSync(join(tmpdir(), 'codebench-cap-'));
    try {
      writeFileSync(join(root, 'big.ts'), Array.from({ length: 3000 }, (_, index) => `export const value${index} = ${index};`).join('\n'));
      const workspace = new WorkspaceFiles([root], { get: () => undefined });
      const { output } = await runTool(builtInTools(), 'read_file', { path: 'big.ts' }, { workspace, signal: new AbortController().signal });
      expect(output.length).toBeLessThan(MAX_TOOL_OUTPUT_CHARS + 400);
      expect(output.startsWith('   1\texport const value0 = 0;')).toBe(true);
      expect(output).toMatch(/\[… \d+ lines \(\d+ characters\) cut from the middle of this output/);
      expect(output).toContain('To read more, call read_file with offset 2001.');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

});
