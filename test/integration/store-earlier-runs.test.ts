import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Store } from '../../server/src/store/store.js';

/** Store.earlierRuns on a real file: what a follow-up ask loads of a session, and only that. */

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codebench-earlier-'));
  store = await Store.open(path.join(dir, 'history.sqlite'));
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('loads the newest runs oldest first, with final text, cut results and proposal fate, and counts the older ones', async () => {
  const session = await store.createSession({ workspaceUri: 'file:///w', title: 't', provider: 'p' });
  const other = await store.createSession({ workspaceUri: 'file:///w', title: 'other', provider: 'p' });
  const output = `The command exited with code 1 after 1.0 s (in .).\n${Array.from({ length: 300 }, (_, index) => `line ${index}`).join('\n')}`;
  const ids: string[] = [];
  for (let turn = 1; turn <= 3; turn++) {
    const run = await store.createRun({ sessionId: session.id, provider: 'p', model: 'm', instruction: `ask ${turn}` });
    ids.push(run.id);
    await store.addMessage({ sessionId: session.id, runId: run.id, role: 'user', content: `ask ${turn}` });
    await store.addMessage({ sessionId: session.id, runId: run.id, role: 'system', content: 'redacted 1 secret' });
    await store.addMessage({ sessionId: session.id, runId: run.id, role: 'assistant', content: `answer ${turn}` });
    const at = new Date().toISOString();
    await store.recordToolCall({ runId: run.id, callId: 'a', name: 'run_command', args: { command: 'npm test' }, result: output, isError: true, startedAt: at, finishedAt: at });
    await store.recordToolCall({ runId: run.id, callId: 'b', name: 'read_file', args: { path: 'a.ts' }, result: '', isError: false, startedAt: at, finishedAt: at });
    await store.finishRun(run.id, { status: 'completed' });
  }
  const proposal = await store.createProposal({ runId: ids[2]!, sessionId: session.id, summary: 'a.ts', files: [{ uri: 'file:///w/a.ts', path: 'a.ts', baseVersion: null, created: false }], diff: '' });
  await store.setProposalStatus(proposal.id, 'conflict', 'the editor refused the edit');
  await store.createRun({ sessionId: other.id, provider: 'p', model: 'm', instruction: 'elsewhere' });

  const { runs, olderRuns } = await store.earlierRuns(session.id, 2);
  expect(olderRuns).toBe(1);
  expect(runs.map((earlier) => earlier.run.id)).toEqual(ids.slice(1));
  expect(runs.map((earlier) => earlier.answer)).toEqual(['answer 2', 'answer 3']);
  const [command, read] = runs[1]!.toolCalls;
  expect(command).toEqual({
    name: 'run_command',
    args: { command: 'npm test' },
    isError: true,
    resultHead: output.slice(0, 1500),
    resultTail: output.slice(-500),
    resultLength: output.length,
    resultLines: 301,
  });
  expect(read).toMatchObject({ name: 'read_file', resultHead: '', resultTail: '', resultLines: 0 });
  expect(runs[0]!.proposals).toEqual([]);
  expect(runs[1]!.proposals).toEqual([{ status: 'conflict', files: [expect.objectContaining({ path: 'a.ts' })], detail: 'the editor refused the edit' }]);

  expect(await store.earlierRuns(session.id, 50)).toMatchObject({ olderRuns: 0, runs: { length: 3 } });
  expect(await store.earlierRuns(other.id, 50)).toMatchObject({ olderRuns: 0, runs: [{ answer: '', toolCalls: [], proposals: [] }] });
});
