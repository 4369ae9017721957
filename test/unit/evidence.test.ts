import { describe, expect, it } from 'vitest';
import { describeEvidence, evidenceOf, withEvidence, type EvidenceCall } from '../../server/src/agent/proposals/evidence.js';
import { contextMessage } from '../../server/src/agent/run/prompt.js';

const edit = (isError = false): EvidenceCall => ({ name: 'edit_file', args: { path: 'a.ts' }, result: isError ? 'old_string not found' : 'Edited a.ts', isError });
const ran = (command: string, exitCode: number, details?: Record<string, unknown>): EvidenceCall => ({
  name: 'run_command',
  args: { command },
  result: `The command exited with code ${exitCode} after 0.1 s (in .).\n(no output)`,
  isError: exitCode !== 0,
  ...(details ? { details } : {}),
});

describe('the evidence of a proposal: commands run after the last edit', () => {
  it('keeps the commands after the last successful edit, with their exit codes', () => {
    expect(evidenceOf([ran('npm test', 1), edit(), ran('npm test', 0), ran('npx tsc', 2)])).toEqual([
      { command: 'npm test', exitCode: 0 },
      { command: 'npx tsc', exitCode: 2 },
    ]);
    // A failed edit changed nothing: the command before it still checked the final text.
    expect(evidenceOf([edit(), ran('npm test', 0), edit(true)])).toEqual([{ command: 'npm test', exitCode: 0 }]);
  });

  it('is empty when commands ran only before the last edit, and absent when none ran', () => {
    expect(evidenceOf([ran('npm test', 0), edit()])).toEqual([]);
    expect(evidenceOf([edit()])).toBeUndefined();
  });

  it('reads details.exitCode before the text, counts a stopped command as unfinished, and a refused one as not run', () => {
    expect(evidenceOf([edit(), { ...ran('npm test', 0), details: { exitCode: 7 } }])).toEqual([{ command: 'npm test', exitCode: 7 }]);
    const stopped: EvidenceCall = { name: 'run_command', args: { command: 'sleep 9' }, result: 'The command was stopped after the 1 s time limit after 1.0 s (in .).', isError: true };
    const refused: EvidenceCall = { name: 'run_command', args: { command: 'curl x' }, result: 'The command was not run: denied by the user.', isError: true };
    expect(evidenceOf([edit(), stopped, refused])).toEqual([{ command: 'sleep 9', exitCode: null }]);
    expect(evidenceOf([edit(), refused])).toBeUndefined();
  });

  it('counts a command that changed files as an edit', () => {
    expect(evidenceOf([edit(), ran('npm test', 0), ran('prettier --write .', 0, { exitCode: 0, changedFiles: ['a.ts'] })])).toEqual([]);
    expect(evidenceOf([edit(), ran('prettier --write .', 0, { exitCode: 0, changedFiles: [] }), ran('npm test', 0)])).toEqual([
      { command: 'prettier --write .', exitCode: 0 },
      { command: 'npm test', exitCode: 0 },
    ]);
  });

  it('says it in one sentence', () => {
    expect(describeEvidence([{ command: 'npm test', exitCode: 0 }])).toBe('npm test passed after the last edit');
    expect(describeEvidence([{ command: 'npm test', exitCode: 1 }])).toBe('npm test failed (exit 1) after the last edit');
    expect(describeEvidence([{ command: 'npm test', exitCode: null }])).toBe('npm test did not finish after the last edit');
    expect(describeEvidence([])).toBe('no command was run after the last edit');
    expect(describeEvidence(undefined)).toBeUndefined();
    expect(describeEvidence([{ command: 'npm test', exitCode: 0 }, { command: 'npx tsc', exitCode: 2 }])).toBe('after the last edit: npm test passed, npx tsc failed (exit 2)');
    expect(withEvidence('a.ts (+1 −1)', [{ command: 'npm test', exitCode: 0 }])).toBe('a.ts (+1 −1); npm test passed after the last edit');
    expect(withEvidence('a.ts (+1 −1)', undefined)).toBe('a.ts (+1 −1)');
  });
});

describe('a project action in the context message', () => {
  it('gives the command output with its exit code, or says it did not run', () => {
    const ran = contextMessage({ instruction: 'Make the tests pass', firstCommand: { command: 'npm test', ran: true, exitCode: 1, output: 'The command exited with code 1 after 0.2 s (in .).\n1 failing' } });
    expect(ran).toContain('Request: Make the tests pass');
    expect(ran).toMatch(/Output of `npm test` \(exit 1\)[^\n]*:\n`{3,}\nThe command exited with code 1[^\n]*\n1 failing\n`{3,}/);
    const refused = contextMessage({ instruction: 'Make the tests pass', firstCommand: { command: 'npm test', ran: false, output: 'The command was not run: denied by the user.' } });
    expect(refused).toContain('asked to run `npm test` before this request, but it did not run: The command was not run: denied by the user.');
  });
});
