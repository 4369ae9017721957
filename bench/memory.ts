import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startFakeModelServer } from '../test/fakes/model-server.js';
import { BIN, makeWorkspace, REPO, TestClient, TEST_KEYS, writeConfig } from '../test/e2e/harness.js';
import { median, result, type Result } from './stats.js';
import { Commands, Requests } from '../server/src/protocol/methods.js';

const PRELOAD = join(REPO, 'bench', 'gc-on-signal.cjs');
const MB = 1024 * 1024;

/** RSS and heap of the server right after a full garbage collection (see gc-on-signal.cjs). */
async function afterFullGc(client: TestClient): Promise<{ rss: number; heapUsed: number }> {
  const marker = 'codebench-bench-memory ';
  const seen = client.stderr.length;
  client.child.kill('SIGUSR2');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = client.stderr.slice(seen).split('\n').find((candidate) => candidate.startsWith(marker));
    if (line) return JSON.parse(line.slice(marker.length)) as { rss: number; heapUsed: number };
    if (Date.now() > deadline) throw new Error(`the server did not report its memory after SIGUSR2; stderr:\n${client.stderr.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * 1,000 asks in one server through the real built server, each a fake model making one small
 * edit, reviewed inline: even asks applied, odd ones discarded, with `codebench/proposal` and the
 * code actions asked for in between (every per-proposal cache gets filled). Memory must be flat:
 * RSS after a full GC at ask 1,000 at most 10 MB above ask 100.
 */
export async function memoryBenchmarks(asks = Number(process.env.BENCH_ASKS ?? 1000)): Promise<Result[]> {
  const fake = await startFakeModelServer();
  const lines = Array.from({ length: 40 }, (_, index) => `export const value${index} = ${index}; // ünïcode ✓`);
  const text = `${lines.join('\n')}\n`;
  const workspace = makeWorkspace({ 'a.ts': text });
  writeConfig(workspace, fake);
  const options = { profile: 'neovim' as const, workspace, inlineReview: true };
  // The young generation is pinned to 1 MB semi-spaces: V8 grows it up to 32 MB under allocation
  // pressure and keeps it committed after a full GC, which would swamp the figure while leaking
  // nothing (it is bounded). What is left to grow is the old generation and native memory.
  // MALLOC_ARENA_MAX, when set, is passed on: with one glibc arena the native drift between
  // samples mostly disappears, which tells fragmentation from a leak.
  const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '-r', PRELOAD, BIN, 'lsp'], {
    cwd: workspace.root,
    env: { PATH: process.env.PATH ?? '', HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...TEST_KEYS, ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const client = new TestClient(child, options);
  await client.initialize();
  const uri = workspace.uri('a.ts');
  await client.open(uri, text);
  const codeActionParams = { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [] } };

  // RSS after a GC still moves by tens of MB from one sample to the next (glibc keeps freed native
  // memory per thread arena), so each end is the median of three samples 50 asks apart.
  const samples = new Map<number, { rss: number; heapUsed: number }>();
  const early = [100, 150, 200];
  const late = [asks - 100, asks - 50, asks];
  const sampleAt = new Set([...early, ...late]);
  const started = performance.now();
  for (let ask = 1; ask <= asks; ask++) {
    // One small edit of whatever line 7 holds now (applied asks change it).
    const current = client.documents.get(uri)!.text.split('\n')[7]!;
    const next = current.replace(/= (\d+);/, (_, number: string) => `= ${Number(number) + 1};`);
    fake.enqueue({ toolCalls: [{ name: 'edit_file', args: { path: 'a.ts', old_string: current, new_string: next } }] }, { text: 'Bumped it.' });
    const finished = await client.request(Requests.ask.method, { uri, instruction: `bump value 7 (${ask})` });
    if (!finished.proposalId) throw new Error(`ask ${ask} made no proposal: ${finished.summary}`);
    await client.request(Requests.proposal.method, { proposalId: finished.proposalId });
    await client.request('textDocument/codeAction', codeActionParams);
    const command = ask % 2 === 0 ? Commands.applyProposal : Commands.discardProposal;
    const { status } = await client.command(command.command, { proposalId: finished.proposalId });
    if (status !== (ask % 2 === 0 ? 'applied' : 'discarded')) throw new Error(`ask ${ask}: ${command.command} answered ${status}`);
    if (sampleAt.has(ask)) samples.set(ask, await afterFullGc(client));
  }
  const seconds = (performance.now() - started) / 1000;
  if (process.env.BENCH_VERBOSE) process.stderr.write(`memory samples: ${JSON.stringify([...samples])}\n`);
  await client.stop();
  await fake.close();

  const at = (points: number[], field: 'rss' | 'heapUsed') => median(points.map((point) => samples.get(point)![field])) / MB;
  const rss = { early: at(early, 'rss'), late: at(late, 'rss') };
  const heap = { early: at(early, 'heapUsed'), late: at(late, 'heapUsed') };
  const note = `median RSS ${rss.early.toFixed(1)} → ${rss.late.toFixed(1)} MB; heap after GC ${heap.early.toFixed(1)} → ${heap.late.toFixed(1)} MB; ${asks} asks in ${seconds.toFixed(0)} s`;
  return [
    result(`RSS growth after a full GC, ask 100 → ${asks.toLocaleString('en')}`, rss.late - rss.early, 'MB', { max: 10 }, { note }),
    result(`heap growth after a full GC, ask 100 → ${asks.toLocaleString('en')}`, heap.late - heap.early, 'MB'),
  ];
}
