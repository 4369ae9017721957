import { createTwoFilesPatch } from 'diff';
import { agentWrittenLines, indexLines, storedChanges, type StoredFileChange } from '../server/src/agent/proposals/revert.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { prepareApplication, type Proposal } from '../server/src/agent/proposals/proposal.js';
import { agentCodeActions } from '../server/src/lsp/agent-actions.js';
import { LineIndex } from '../server/src/lsp/positions.js';
import { createLanguageModel } from '../server/src/providers/registry.js';
import { median, percentile, result, timeMs, type Result } from './stats.js';
import { startStreamServer } from './stream-server.js';

/** The code action handler itself, in process: what the server spends per cursor move. */
export function codeActionBenchmark(): Result[] {
  const lines = Array.from({ length: 2000 }, (_, index) => (index === 1000 ? '  // @agent make this faster' : `  const value${index} = compute(${index}); // ünïcode ✓`));
  const document = TextDocument.create('file:///bench/big.ts', 'typescript', 1, `${lines.join('\n')}\n`);
  const samples: number[] = [];
  for (let index = 0; index < 5000; index++) {
    const line = 900 + (index % 200);
    const [, ms] = timeMs(() =>
      agentCodeActions({
        params: { textDocument: { uri: document.uri }, range: { start: { line, character: 0 }, end: { line, character: 4 } }, context: { diagnostics: [] } },
        lineAt: (at) => (at < document.lineCount ? document.getText({ start: { line: at, character: 0 }, end: { line: at + 1, character: 0 } }) : undefined),
        userPresets: [],
        canPrompt: true,
        runningRuns: [],
      }),
    );
    if (index >= 500) samples.push(ms);
  }
  return [result('textDocument/codeAction on a 2,000-line file (p50)', median(samples), 'ms', { max: 0.5 }, { note: `p99 ${percentile(samples, 99).toFixed(3)} ms (target ≤ 2)`, ok: median(samples) <= 0.5 && percentile(samples, 99) <= 2 })];
}

/** One proposal with 20 scattered hunks on a 10,000-line file, rebased over the user's typing. */
export function workspaceEditBenchmark(): Result[] {
  const base = Array.from({ length: 10_000 }, (_, index) => `line ${index}: const ü${index} = "${'x'.repeat(index % 40)}"; // 🌍`).join('\n') + '\n';
  const lines = base.split('\n');
  for (let hunk = 0; hunk < 20; hunk++) lines[hunk * 500 + 250] = `line ${hunk * 500 + 250}: changed by the agent ✓`;
  const proposed = lines.join('\n');
  // The user typed in three places while the model was talking.
  const typedLines = base.split('\n');
  typedLines.splice(0, 0, '// typed at the top');
  typedLines[5001] = `${typedLines[5001]} // typed in the middle`;
  typedLines.push('// typed at the end');
  const current = typedLines.join('\n');
  const proposal: Proposal = {
    id: 'bench',
    runId: 'run',
    sessionId: 'session',
    summary: 'big.ts',
    diff: '',
    status: 'proposed',
    files: [{ absolutePath: '/bench/big.ts', relativePath: 'big.ts', base: { text: base, version: 1 }, proposedText: proposed }],
  };
  const samples: number[] = [];
  let hunks = 0;
  for (let run = 0; run < 30; run++) {
    const [prepared, ms] = timeMs(() => {
      const application = prepareApplication(proposal, () => ({ text: current, version: 7 }));
      if (!application.ok) throw new Error(application.conflict);
      // What the server sends: every hunk converted to client (UTF-8) positions.
      return application.files.map((file) => {
        const lines = new LineIndex(file.currentText);
        return file.edits.map((edit) => lines.range(edit.start, edit.end, 'utf-8'));
      });
    });
    hunks = prepared[0]!.length;
    if (run >= 5) samples.push(ms);
  }
  return [result(`WorkspaceEdit, 10,000 lines, ${hunks} hunks, rebased over typing (p50)`, median(samples), 'ms', { max: 20 })];
}

/** Abort → the provider's HTTP stream is closed at the server. */
export async function cancelBenchmark(): Promise<Result[]> {
  const stream = await startStreamServer();
  const model = createLanguageModel('bench', { kind: 'ollama', model: 'bench', baseURL: stream.url }, {});
  const samples: number[] = [];
  for (let run = 0; run < 12; run++) {
    stream.plan = { tokens: 100_000, tokensPerSecond: 100 };
    const controller = new AbortController();
    let abortedAt = 0;
    for await (const part of model.stream({ system: '', messages: [{ role: 'user', content: 'hi' }], tools: [] }, controller.signal)) {
      if (part.type === 'text-delta' && abortedAt === 0) {
        abortedAt = performance.now();
        controller.abort();
      }
      if (part.type === 'error') break;
    }
    const deadline = performance.now() + 2000;
    while (stream.closedAt === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    if (run >= 2) samples.push(stream.closedAt - abortedAt);
  }
  await stream.close();
  return [result('cancel → model stream closed at the server (p50)', median(samples), 'ms', { max: 100 }, { note: `max ${Math.max(...samples).toFixed(1)} ms` })];
}

/**
 * The "Undo agent edit" code action after each keystroke: which lines 5 applied proposals (3 hunks
 * each) still own in a 2,000-line file, worked out again because the text changed (the cache in
 * lsp/applied-proposals.ts only helps while the text stays the same).
 */
export function undoCodeActionBenchmark(): Result[] {
  const base = Array.from({ length: 2000 }, (_, index) => `  const value${index} = compute(${index}); // ünïcode ✓`);
  let text = base.slice();
  const changes: StoredFileChange[] = [];
  for (let proposal = 0; proposal < 5; proposal++) {
    const before = `${text.join('\n')}\n`;
    for (let hunk = 0; hunk < 3; hunk++) text[proposal * 350 + hunk * 100 + 50] = `  const agent${proposal}_${hunk} = improved(${hunk}); // by the agent`;
    const after = `${text.join('\n')}\n`;
    const file = { uri: 'file:///bench/big.ts', path: 'big.ts', baseVersion: 1, created: false };
    changes.push(...storedChanges({ files: [file], diff: createTwoFilesPatch('a/big.ts', 'b/big.ts', before, after, undefined, undefined, { context: 3 }) }));
  }
  const samples: number[] = [];
  for (let keystroke = 0; keystroke < 600; keystroke++) {
    text = text.slice();
    text[1990] = `  const typed = ${keystroke};`;
    const current = `${text.join('\n')}\n`;
    const [, ms] = timeMs(() => {
      const indexed = indexLines(current);
      return changes.map((change) => agentWrittenLines(change, current, indexed));
    });
    if (keystroke >= 100) samples.push(ms);
  }
  return [result('"Undo agent edit" lines after a keystroke: 2,000-line file, 5 applied proposals (p50)', median(samples), 'ms', { max: 0.5 }, { note: `p99 ${percentile(samples, 99).toFixed(3)} ms; once per text version` })];
}
