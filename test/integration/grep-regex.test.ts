import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGrepTool } from '../../server/src/agent/tools/grep.js';
import { RegexSearcher } from '../../server/src/agent/tools/grep-search.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';

/**
 * A model's grep pattern must never freeze the process: matching runs in a worker thread with a
 * time budget, and cancel or the budget terminates it mid-regex. Each case pairs a catastrophic
 * pattern with a line that makes V8 backtrack for far longer than the budget (checked by hand:
 * 28 characters already cost `^(a+)+$` 10 s; these are longer) and a line it matches at once.
 */
const CATASTROPHIC: Array<{ pattern: string; quick: string; evil: string }> = [
  { pattern: '^(a+)+$', quick: 'aaaa', evil: `${'a'.repeat(34)}!` },
  { pattern: '(a+)+$', quick: 'aaaa', evil: `${'a'.repeat(34)}!` },
  { pattern: '(a|a)*$', quick: 'b', evil: `${'a'.repeat(34)}!` },
  { pattern: '(a|aa)+$', quick: 'aa', evil: `${'a'.repeat(80)}!` },
  { pattern: '(.*a){20}', quick: 'a'.repeat(25), evil: `a${'x'.repeat(20)}`.repeat(19) },
  { pattern: '(\\w+\\s?)*$', quick: 'hello world', evil: `${'a'.repeat(34)}!` },
  { pattern: '(?i)(A+)+B', quick: 'aab', evil: 'a'.repeat(34) },
  { pattern: '(?i)^(\\w+[-.]?)+$', quick: 'Ab-cd', evil: `${'Ab'.repeat(20)}!` },
  { pattern: '^(a*)*b', quick: 'ab', evil: 'a'.repeat(34) },
  { pattern: '(x+x+)+y', quick: 'xxy', evil: 'x'.repeat(34) },
  { pattern: '^(\\d+)*$', quick: '123', evil: `${'1'.repeat(34)}x` },
  { pattern: '^([a-z0-9]+[._-]?)+@', quick: 'a.b@', evil: `${'abc'.repeat(14)}!` },
  { pattern: '(.*,){12}X', quick: `${','.repeat(12)}X`, evil: 'a,'.repeat(60) },
];

const BUDGET_MS = 400;
// The budget plus worker start-up and two busy cores shared with other test runs.
const SLACK_MS = 1500;

let tmp: string;
let root: string;
let workspace: WorkspaceFiles;
const searcher = new RegexSearcher();
const grep = createGrepTool({ searcher, budgetMs: BUDGET_MS });
const run = (args: Record<string, unknown>, signal = new AbortController().signal) => grep.execute(args, { workspace, signal });

async function files(tree: Record<string, string>): Promise<void> {
  for (const [relative, content] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await writeFile(path.join(root, relative), content);
  }
}

/** Ordinary lines around the evil one, so it sits mid-file like a real minified or data line. */
function evilFile(evil: string): string {
  const filler = Array.from({ length: 40 }, (_, index) => `const value${index} = ${index};`);
  filler.splice(17, 0, evil);
  return `${filler.join('\n')}\n`;
}

/** Largest delay of a 10 ms interval while `work` runs: a blocked event loop shows here. */
async function loopLag<T>(work: () => Promise<T>): Promise<{ result: T; maxLagMs: number; ticks: number }> {
  let last = performance.now();
  let maxLagMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 10);
    last = now;
    ticks++;
  }, 10);
  try {
    const result = await work();
    return { result, maxLagMs: Math.max(maxLagMs, performance.now() - last - 10), ticks };
  } finally {
    clearInterval(timer);
  }
}

function threadCount(): number | undefined {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  } catch {
    return undefined;
  }
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codebench-grep-'));
  root = path.join(tmp, 'ws');
  await mkdir(root);
  workspace = new WorkspaceFiles([root], { get: () => undefined });
});
afterEach(() => rm(tmp, { recursive: true, force: true }));
afterAll(() => searcher.dispose());

describe('grep with a catastrophic pattern', () => {
  it.each(CATASTROPHIC)('$pattern returns within its budget with a failure for the model and the matches found so far', async ({ pattern, quick, evil }) => {
    await files({ 'a.txt': `${quick}\n`, 'b.txt': evilFile(evil) });
    const started = performance.now();
    const { result, maxLagMs } = await loopLag(() => run({ pattern }));
    const elapsed = performance.now() - started;
    expect(result.isError).toBe(true);
    expect(result.output).toContain('took too long');
    expect(result.output).toContain('catastrophic backtracking');
    expect(result.output).toContain('simplify it');
    // The file finished before the runaway line is reported, marked as incomplete.
    expect(result.output).toContain(`a.txt:1: ${quick}`);
    expect(result.output).toContain('the search is incomplete');
    expect(elapsed).toBeGreaterThanOrEqual(BUDGET_MS - 20);
    expect(elapsed).toBeLessThan(BUDGET_MS + SLACK_MS);
    expect(maxLagMs).toBeLessThan(200);
  });

  it('keeps the event loop ticking for the whole search', async () => {
    await files({ 'evil.txt': evilFile(`${'a'.repeat(40)}!`) });
    const slow = createGrepTool({ searcher, budgetMs: 1500 });
    const { result, maxLagMs, ticks } = await loopLag(() => slow.execute({ pattern: '^(a+)+$' }, { workspace, signal: new AbortController().signal }));
    expect(result.output).toContain('took too long (over 1.5 s)');
    // A regex on the main thread would give one tick of 1500 ms; a free loop ticks ~150 times.
    expect(maxLagMs).toBeLessThan(200);
    expect(ticks).toBeGreaterThan(50);
  });

  it('stops at once when the run is cancelled, long before the default budget', async () => {
    await files({ 'evil.txt': evilFile(`${'a'.repeat(40)}!`) });
    const patient = createGrepTool({ searcher });
    const controller = new AbortController();
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 300);
    const result = await patient.execute({ pattern: '(a|aa)+$|^(a+)+$' }, { workspace, signal: controller.signal });
    const reaction = performance.now() - abortedAt;
    expect(abortedAt).toBeGreaterThan(0);
    expect(result).toMatchObject({ isError: true, output: 'grep was cancelled' });
    expect(reaction).toBeLessThan(100);
  });

  it('answers a normal search while another one is stuck, and searches normally after a timeout', async () => {
    await files({ 'evil.txt': evilFile(`${'a'.repeat(40)}!`), 'src/ok.ts': 'export const answer = 42;\n' });
    const stuck = createGrepTool({ searcher, budgetMs: 3000 }).execute({ pattern: '^(a+)+$' }, { workspace, signal: new AbortController().signal });
    const started = performance.now();
    const normal = await run({ pattern: 'answer', path: 'src' });
    expect(normal).toMatchObject({ isError: false, output: 'src/ok.ts:1: export const answer = 42;' });
    // Its own worker: not queued behind the stuck one.
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await stuck).output).toContain('took too long');
    // The stuck worker was replaced; the next search runs from a fresh one.
    expect((await run({ pattern: 'value1\\d = ' })).output.split('\n')).toHaveLength(10);
  });

  it('leaves no worker threads behind after many runaway searches', async () => {
    await files({ 'evil.txt': evilFile(`${'a'.repeat(40)}!`) });
    const quick = createGrepTool({ searcher, budgetMs: 50 });
    const signal = new AbortController().signal;
    await quick.execute({ pattern: 'value' }, { workspace, signal });
    const baseline = threadCount();
    const rssBefore = process.memoryUsage().rss;
    for (let round = 0; round < 15; round++) {
      expect((await quick.execute({ pattern: '^(a+)+$' }, { workspace, signal })).output).toContain('took too long');
    }
    await quick.execute({ pattern: 'value' }, { workspace, signal });
    const growthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    expect(growthMb).toBeLessThan(80);
    if (baseline !== undefined) {
      // terminate() is asynchronous: give the threads a moment to be joined.
      const deadline = Date.now() + 3000;
      while (threadCount()! > baseline && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(threadCount()).toBeLessThanOrEqual(baseline);
    }
  });
});
