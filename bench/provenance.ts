import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { attributeLines, provenanceOfLine } from '../server/src/agent/history/provenance.js';
import { unifiedDiff } from '../server/src/agent/proposals/proposal.js';
import { Store } from '../server/src/store/store.js';
import { median, percentile, result, timeMs, timeMsAsync, type Result } from './stats.js';

const WORKSPACE = 'file:///bench/project';

/**
 * What a hover on an agent-written line costs (issue 18): the store's query for the file's applied
 * proposals among `total` proposals (a third discarded, 1% of them touching the hovered file, each
 * with a ~4 KB diff), and the matching of 20 proposals' hunks in a 10,000-line file the user has
 * typed in since. Both run on the event loop, on every hover.
 */
export async function provenanceBenchmarks(total = 20_000): Promise<Result[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'codebench-bench-provenance-')), 'codebench.db');
  let store = await Store.open(file);
  const session = await store.createSession({ workspaceUri: WORKSPACE, title: 'bench', provider: 'bench' });
  await store.close();

  const raw = new Database(file);
  const insertRun = raw.prepare("INSERT INTO runs (id, session_id, provider, model, instruction, status, started_at) VALUES (?, ?, 'bench', 'model', ?, 'completed', ?)");
  const insertProposal = raw.prepare("INSERT INTO proposals (id, run_id, session_id, status, summary, files, diff, created_at, decided_at) VALUES (?, ?, ?, ?, 's', ?, ?, ?, ?)");
  const added = Array.from({ length: 60 }, (_, i) => `+  const value${i} = compute(${i}); // a line of code of ordinary length`).join('\n');
  raw.transaction(() => {
    for (let index = 0; index < total; index++) {
      const path = index % 100 === 0 ? 'src/hovered.ts' : `src/file${index % 500}.ts`;
      const at = new Date(1_700_000_000_000 + index * 60_000).toISOString();
      const files = JSON.stringify([{ uri: `${WORKSPACE}/${path}`, path, baseVersion: null, created: false }]);
      insertRun.run(`run-${index}`, session.id, `instruction ${index}`, at);
      insertProposal.run(`proposal-${index}`, `run-${index}`, session.id, index % 3 === 0 ? 'discarded' : 'applied', files, `--- a/${path}\n+++ b/${path}\n@@ -1,1 +1,61 @@\n a\n${added}\n`, at, at);
    }
  })();
  raw.close();

  store = await Store.open(file);
  const touched: number[] = [];
  const untouched: number[] = [];
  for (let index = 0; index < 100; index++) {
    touched.push((await timeMsAsync(() => store.appliedProposalsOfFile(`${WORKSPACE}/src/hovered.ts`)))[1]);
    untouched.push((await timeMsAsync(() => store.appliedProposalsOfFile(`${WORKSPACE}/src/never-touched.ts`)))[1]);
  }
  await store.close();

  const lines = Array.from({ length: 10_000 }, (_, i) => (i % 7 === 0 ? '}' : i % 11 === 0 ? '' : `  step(${i}, ${i % 300});`));
  const text = (items: string[]) => `${items.join('\n')}\n`;
  const sources = Array.from({ length: 20 }, (_, k) => {
    const start = 200 + k * 450;
    const before = [...lines.slice(0, start), ...lines.slice(start + 30)];
    const diff = unifiedDiff([{ absolutePath: '/bench/src/hovered.ts', relativePath: 'src/hovered.ts', base: { text: text(before), version: null }, proposedText: text(lines) }]);
    return { diff, path: 'src/hovered.ts' };
  });
  const current = text(['// typed by the user', ...lines]);
  if (attributeLines(current, sources).filter(Boolean).length !== 600) throw new Error('provenance bench: the agent lines were not all found');
  const matching: number[] = [];
  for (let index = 0; index < 50; index++) matching.push(timeMs(() => provenanceOfLine(current, sources, 5_000))[1]);

  const label = `${(total / 1000).toFixed(0)}k proposals`;
  return [
    result(`provenance, ${label}: applied proposals of a file (p50)`, median(touched), 'ms', { max: 10 }, { note: `p95 ${percentile(touched, 95).toFixed(2)} ms` }),
    result(`provenance, ${label}: a file no proposal touched (p50)`, median(untouched), 'ms', { max: 10 }),
    result('provenance: 10,000-line file, 20 proposals, one line (p50)', median(matching), 'ms', { max: 10 }, { note: `p95 ${percentile(matching, 95).toFixed(2)} ms` }),
  ];
}
