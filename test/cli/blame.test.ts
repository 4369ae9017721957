import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../server/src/agent/proposals/proposal.js';
import { Store } from '../../server/src/store/store.js';
import { REPO } from '../e2e/harness.js';
import { createCliSandbox, runInSandbox, type CliSandbox } from './run-cli.js';

const BEFORE = ['export function main() {', '  run();', '}', ''].join('\n');
// The agent appended a function; one of its lines carries an escape sequence a terminal would obey.
const AFTER = ['export function main() {', '  run();', '}', '', 'export function stop() {', '  log("\u001b[2Jbye");', '  process.exitCode = 1;', '}', ''].join('\n');
// What is on disk now: the user typed a line above the agent's function since.
const NOW = ['export function main() {', '  run();', '}', '// the user wrote this', '', 'export function stop() {', '  log("\u001b[2Jbye");', '  process.exitCode = 1;', '}', ''].join('\n');

let sandbox: CliSandbox;
let proposalId: string;
let runId: string;
let sessionId: string;

async function seed(): Promise<void> {
  const store = await Store.open(sandbox.databaseFile);
  try {
    const session = await store.createSession({ workspaceUri: sandbox.workspaceUri, title: 'stop', provider: 'local' });
    sessionId = session.id;
    const file = { uri: `${sandbox.workspaceUri}/src/app.ts`, path: 'src/app.ts', baseVersion: null, created: false };
    const diffOf = (before: string, after: string) =>
      unifiedDiff([{ absolutePath: join(sandbox.workspace, 'src/app.ts'), relativePath: 'src/app.ts', base: { text: before, version: null }, proposedText: after }]);

    const run = await store.createRun({ sessionId: session.id, provider: 'local', model: 'qwen-test', instruction: 'add a stop function' });
    runId = run.id;
    await store.finishRun(run.id, { status: 'completed' });
    const applied = await store.createProposal({ runId: run.id, sessionId: session.id, summary: 'src/app.ts (+5)', files: [file], diff: diffOf(BEFORE, AFTER) });
    proposalId = applied.id;
    await store.setProposalStatus(applied.id, 'applied');

    // A discarded proposal wrote nothing, even where its text happens to match.
    const other = await store.createRun({ sessionId: session.id, provider: 'hosted', model: 'big-model', instruction: 'rewrite main' });
    await store.finishRun(other.id, { status: 'completed' });
    const discarded = await store.createProposal({ runId: other.id, sessionId: session.id, summary: 'src/app.ts', files: [file], diff: diffOf('', BEFORE) });
    await store.setProposalStatus(discarded.id, 'discarded');
  } finally {
    await store.close();
  }
}

const blame = (args: string[]) => runInSandbox(sandbox, ['blame', ...args]);

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  sandbox = createCliSandbox('codebench-blame-');
  mkdirSync(join(sandbox.workspace, 'src'));
  writeFileSync(join(sandbox.workspace, 'src/app.ts'), NOW);
  writeFileSync(join(sandbox.workspace, 'src/untouched.ts'), 'export {};\n');
  await seed();
});

afterAll(() => sandbox.cleanup());

describe('codebench blame', () => {
  it('prints the agent-written lines with their proposal, date, provider/model and line number', async () => {
    const result = await blame(['src/app.ts']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const prefix = `${proposalId.slice(0, 8)} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d local/qwen-test`;
    const expected: Array<[number, string]> = [
      [5, ''],
      [6, 'export function stop() {'],
      [7, '  log("^[[2Jbye");'],
      [8, '  process.exitCode = 1;'],
      [9, '}'],
    ];
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, index) => {
      const [number, text] = expected[index]!;
      expect(line).toMatch(new RegExp(`^${prefix}  ${number} │ ${text.replace(/[()[\]^$.*+?{}|\\]/g, '\\$&')}$`));
    });
    // The escape sequence from the file is shown, never sent to the terminal.
    expect(result.stdout).not.toContain('\u001b');
  });

  it('prints every line with --all, the user\'s lines with a blank prefix', async () => {
    const result = await blame(['--all', 'src/app.ts']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(NOW.split('\n').length - 1);
    const width = lines[4]!.indexOf('  5 │');
    expect(width).toBeGreaterThan(30);
    expect(lines[0]).toBe(`${' '.repeat(width)}  1 │ export function main() {`);
    expect(lines[3]).toBe(`${' '.repeat(width)}  4 │ // the user wrote this`);
    expect(lines[7]!.startsWith(proposalId.slice(0, 8))).toBe(true);
  });

  it('prints { line, text, provenance } records with --json', async () => {
    const result = await blame(['--json', 'src/app.ts']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\u001b');
    const records = JSON.parse(result.stdout);
    expect(records.map((record: any) => record.line)).toEqual([5, 6, 7, 8, 9]);
    expect(records[2].text).toBe('  log("\u001b[2Jbye");');
    expect(records[3]).toEqual({
      line: 8,
      text: '  process.exitCode = 1;',
      provenance: { instruction: 'add a stop function', sessionId, runId, proposalId, provider: 'local', model: 'qwen-test', appliedAt: expect.stringMatching(/Z$/) },
    });
    const all = JSON.parse((await blame(['--json', '--all', 'src/app.ts'])).stdout);
    expect(all).toHaveLength(9);
    expect(all[0]).toEqual({ line: 1, text: 'export function main() {', provenance: null });
  });

  it('says so when no line is the agent\'s', async () => {
    const result = await blame(['src/untouched.ts']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("No line of src/untouched.ts is the agent's: no applied proposal's text is in it\n");
  });

  it('refuses a file outside the workspace (status 2) and a missing one (status 1) in one line', async () => {
    const outside = await blame(['../data/codebench.db']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/^codebench: blame: \.\.\/data\/codebench\.db is outside the workspace .*\n$/);
    const missing = await blame(['src/missing.ts']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('codebench: blame: no such file: src/missing.ts\n');
    const noArgument = await blame([]);
    expect(noArgument.code).toBe(2);
  });
});
