import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../test/e2e/harness.js';
import { commandBenchmarks } from './commands.js';
import { cancelBenchmark, codeActionBenchmark, undoCodeActionBenchmark, workspaceEditBenchmark } from './core.js';
import { editorBenchmarks, startupBenchmarks } from './lsp.js';
import { memoryBenchmarks } from './memory.js';
import { llamaBenchmarks } from './llama.js';
import { promptBenchmarks } from './prompt.js';
import { provenanceBenchmarks } from './provenance.js';
import type { Result } from './stats.js';
import { storeBenchmarks } from './store.js';
import { syncBenchmarks } from './sync.js';

/**
 * `npm run bench`: every target of BENCHMARKS.md, measured on this machine, printed as a table and
 * written to bench-results.json. BENCH_MESSAGES (default 1,000,000) sizes the store benchmark;
 * BENCH_STARTUP_RUNS (default 15) the spawn benchmark; BENCH_SYNC_MESSAGES (default 100,000) the team-sync one; BENCH_ASKS (default 1,000) the memory benchmark;
 * BENCH_ONLY="editor flow,store" runs a subset.
 */
async function main(): Promise<void> {
  const messages = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
  const startupRuns = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
  const sections: Array<[string, () => Promise<Result[]> | Result[]]> = [
    ['start-up', () => startupBenchmarks(startupRuns)],
    ['code actions', () => [...codeActionBenchmark(), ...undoCodeActionBenchmark()]],
    ['editor flow', () => editorBenchmarks()],
    ['edits', () => workspaceEditBenchmark()],
    ['cancel', () => cancelBenchmark()],
    ['store', () => storeBenchmarks(messages)],
    ['memory', () => memoryBenchmarks()],
    ['prompt', () => promptBenchmarks()],
    ['commands', () => commandBenchmarks()],
    ['provenance', () => provenanceBenchmarks()],
    ['sync', () => syncBenchmarks(Number(process.env.BENCH_SYNC_MESSAGES ?? 100_000))],
    ['llama', () => llamaBenchmarks()],
  ];
  const results: Result[] = [];
  // BENCH_ONLY=editor,store runs a subset (section names as above).
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
  for (const [name, run] of sections) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    results.push(...(await run()));
  }
  const rows = results.map((entry) => [
    entry.ok === undefined ? ' ' : entry.ok ? '✓' : '✗',
    entry.name,
    `${entry.value} ${entry.unit}`,
    entry.target ?? '',
    entry.floor !== undefined ? `${entry.floor.toFixed(1)} ${entry.unit} (×${(entry.value / entry.floor).toFixed(2)})` : '',
    entry.note ?? '',
  ]);
  const header = ['', 'what', 'codebench', 'target', 'floor: bare vscode-languageserver', 'note'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' │ ');
  process.stdout.write(`${line(header)}\n${widths.map((width) => '─'.repeat(width)).join('─┼─')}\n${rows.map(line).join('\n')}\n`);
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, date: new Date().toISOString() };
  const output = join(REPO, 'bench-results.json');
  writeFileSync(output, `${JSON.stringify({ machine, results }, null, 2)}\n`);
  process.stdout.write(`\n${results.filter((entry) => entry.ok === false).length} target(s) missed; results in ${output}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
