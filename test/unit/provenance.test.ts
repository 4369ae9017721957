import { describe, expect, it } from 'vitest';
import { attributeLines, isTrivialLine, provenanceOfLine, splitLines } from '../../server/src/agent/history/provenance.js';
import { unifiedDiff } from '../../server/src/agent/proposals/proposal.js';
import { hoverContents, relativeTime } from '../../server/src/lsp/handlers/provenance.js';
import { prng as random } from '../fakes/random.js';

/** A proposal as the store keeps it: the unified diff the agent's change made, and the file's path in it. */
interface Source {
  id: string;
  path: string;
  diff: string;
}

const PATH = 'src/app.ts';

function proposal(id: string, before: string | null, after: string, path = PATH): Source {
  const diff = unifiedDiff([{ absolutePath: `/w/${path}`, relativePath: path, base: before === null ? null : { text: before, version: null }, proposedText: after }]);
  return { id, path, diff };
}

/** Line numbers (0-based) each proposal owns, by proposal id. */
function owned(text: string, sources: Source[]): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  attributeLines(text, sources).forEach((owner, line) => {
    if (owner) (result[owner.id] ??= []).push(line);
  });
  return result;
}

const lines = (...items: string[]) => `${items.join('\n')}\n`;
const BASE = lines('import { run } from "./run";', '', 'export function main() {', '  run();', '}', '', 'export const VERSION = 1;');
// The agent adds a function after main().
const AGENT = lines(
  'import { run } from "./run";',
  '',
  'export function main() {',
  '  run();',
  '}',
  '',
  'export function stop(reason: string) {',
  '  console.log(`stopping: ${reason}`);',
  '  process.exitCode = 1;',
  '}',
  '',
  'export const VERSION = 1;',
);
const AGENT_LINES = [6, 7, 8, 9, 10];


function insertLines(text: string, at: number, inserted: string[]): string {
  const all = text.split('\n');
  all.splice(at, 0, ...inserted);
  return all.join('\n');
}

describe('which lines an applied proposal wrote', () => {
  it('finds exactly the added lines, trivial ones inside the block included', () => {
    expect(owned(AGENT, [proposal('p1', BASE, AGENT)])).toEqual({ p1: AGENT_LINES });
  });

  it('follows the block when the user inserts lines above it, and ignores insertions below', () => {
    const source = proposal('p1', BASE, AGENT);
    const above = insertLines(AGENT, 1, ['// a comment the user wrote', 'import { other } from "./other";', '']);
    expect(owned(above, [source])).toEqual({ p1: AGENT_LINES.map((line) => line + 3) });
    const below = insertLines(AGENT, 12, ['export const NAME = "demo";']);
    expect(owned(below, [source])).toEqual({ p1: AGENT_LINES });
  });

  it('skips over lines the user typed inside the block', () => {
    const inside = insertLines(AGENT, 8, ['  // user: log first', '  flush();']);
    expect(owned(inside, [proposal('p1', BASE, AGENT)])).toEqual({ p1: [6, 7, 10, 11, 12] });
  });

  it('gives up a line the user rewrote, and only that line', () => {
    const rewritten = AGENT.replace('  process.exitCode = 1;', '  process.exitCode = 2;');
    const source = proposal('p1', BASE, AGENT);
    expect(owned(rewritten, [source])).toEqual({ p1: [6, 7, 9, 10] });
    expect(provenanceOfLine(rewritten, [source], 8)).toBeUndefined();
    expect(provenanceOfLine(rewritten, [source], 7)?.id).toBe('p1');
    // A change of whitespace is a rewrite too: the text is no longer exactly the agent's.
    expect(owned(AGENT.replace('  console.log', '    console.log'), [source]).p1).not.toContain(7);
  });

  it('re-finds a block the user moved elsewhere, by its content', () => {
    const withoutBlock = BASE;
    const moved = `${withoutBlock}${lines('', 'export function stop(reason: string) {', '  console.log(`stopping: ${reason}`);', '  process.exitCode = 1;', '}')}`;
    // The agent's blank line after the brace is the (empty) line after the file's last newline now.
    expect(owned(moved, [proposal('p1', BASE, AGENT)])).toEqual({ p1: [8, 9, 10, 11, 12] });
  });

  it('claims a block of only blank and punctuation lines for nobody', () => {
    const before = lines('function f() {', '  if (x) {', '    y();', '}');
    const after = lines('function f() {', '  if (x) {', '    y();', '  }', '', '}');
    expect(owned(after, [proposal('p1', before, after)])).toEqual({});
    expect(isTrivialLine('  });')).toBe(true);
    expect(isTrivialLine('')).toBe(true);
    expect(isTrivialLine('  x;')).toBe(false);
  });

  it('drops the trivial lines of a block once every distinctive line in it was rewritten', () => {
    const rewritten = AGENT.replace('export function stop(reason: string) {', 'export function halt(reason: string) {')
      .replace('  console.log(`stopping: ${reason}`);', '  console.error(reason);')
      .replace('  process.exitCode = 1;', '  process.exitCode = 3;');
    expect(owned(rewritten, [proposal('p1', BASE, AGENT)])).toEqual({});
  });

  it('does not claim a distant brace for a block whose neighbour moved away', () => {
    // The user inserted lines between the agent's last distinctive line and its closing brace.
    const pushed = insertLines(AGENT, 9, ['  cleanup();', '  done();']);
    const claimed = owned(pushed, [proposal('p1', BASE, AGENT)]).p1!;
    expect(claimed).toEqual([6, 7, 8]);
  });

  it('gives a line two proposals could claim to the newer one', () => {
    const first = AGENT;
    const second = first.replace('  process.exitCode = 1;', '  process.exitCode = 2;');
    const sources = [proposal('newer', first, second), proposal('older', BASE, first)];
    expect(owned(second, sources)).toEqual({ older: [6, 7, 9, 10], newer: [8] });
    // Both added the very same line at the same place: the newer one wrote what is there now.
    const again = [proposal('newer', BASE, AGENT), proposal('older', BASE, AGENT)];
    expect(owned(AGENT, again)).toEqual({ newer: AGENT_LINES });
    // The same text twice in the file: each proposal keeps its own copy, the one nearest where it put it.
    const twice = `${AGENT}${lines('export function stop(reason: string) {', '  console.log(`stopping: ${reason}`);', '  process.exitCode = 1;', '}')}`;
    const both = [proposal('newer', AGENT, twice), proposal('older', BASE, AGENT)];
    expect(owned(twice, both)).toEqual({ older: AGENT_LINES, newer: [12, 13, 14, 15] });
    // The newer proposal put the same block next to the older one's (its diff says it added the
    // second copy): the older one keeps the other copy, though the newer one's is as near.
    const block = ['export function stop(reason: string) {', '  console.log(`stopping: ${reason}`);', '  process.exitCode = 1;', '}', ''];
    const stacked = insertLines(AGENT, 6, block);
    expect(owned(stacked, [proposal('newer', AGENT, stacked), proposal('older', BASE, AGENT)])).toEqual({ older: [6, 7, 8, 9, 10], newer: [11, 12, 13, 14, 15] });
    // The user pushed the older block down; the newer proposal then wrote the same lines where the
    // older one had first put them. The older one is found in its moved copy, not the newer one's.
    const header = Array.from({ length: 20 }, (_, i) => `// note ${i}`);
    const pushed = insertLines(AGENT, 0, header);
    const rewrittenTop = insertLines(pushed, 3, ['export function stop(reason: string) {', '  console.log(`stopping: ${reason}`);', '  process.exitCode = 1;', '}']);
    expect(owned(rewrittenTop, [proposal('newer', pushed, rewrittenTop), proposal('older', BASE, AGENT)])).toEqual({
      newer: [3, 4, 5, 6],
      older: AGENT_LINES.map((line) => line + 24),
    });
  });

  it('reads a created file, CRLF line ends, and only its own file of a multi-file diff', () => {
    const created = proposal('p1', null, lines('export const made = true;', 'export const also = 2;'));
    expect(owned(lines('export const made = true;', 'export const also = 2;'), [created])).toEqual({ p1: [0, 1] });
    const crlf = AGENT.replace(/\n/g, '\r\n');
    expect(owned(crlf, [proposal('p1', BASE.replace(/\n/g, '\r\n'), crlf)])).toEqual({ p1: AGENT_LINES });
    const other = proposal('p2', BASE, AGENT, 'src/other.ts');
    const combined = { id: 'p2', path: PATH, diff: other.diff };
    expect(owned(AGENT, [combined])).toEqual({});
    expect(owned(AGENT, [{ id: 'p3', path: PATH, diff: other.diff + proposal('x', BASE, AGENT).diff }])).toEqual({ p3: AGENT_LINES });
  });

  it('survives any mix of user insertions around and inside agent blocks (generated)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed);
      // A file of distinct lines, and an agent change adding three blocks of distinct lines with braces.
      const base = Array.from({ length: 40 }, (_, i) => `const base${i} = ${i};`);
      const after = [...base];
      const agentTexts = new Set<string>();
      for (let block = 2; block >= 0; block--) {
        const at = 5 + block * 12 + Math.floor(next() * 6);
        const added = [`function agent${seed}_${block}() {`, `  return work(${block}, ${seed});`, '}'];
        added.forEach((line) => agentTexts.add(line));
        after.splice(at, 0, ...added);
      }
      const source = proposal('p', lines(...base), lines(...after));
      // The user inserts lines at random places (never replacing any), each marked as theirs.
      const current = [...after];
      const inserts = 1 + Math.floor(next() * 6);
      for (let i = 0; i < inserts; i++) {
        const at = Math.floor(next() * (current.length + 1));
        current.splice(at, 0, `const user${i} = "typed";`);
      }
      const owners = attributeLines(lines(...current), [source]);
      current.forEach((text, line) => {
        const mine = owners[line] !== undefined;
        if (text.startsWith('const user') || text.startsWith('const base')) expect(mine, `seed ${seed}: line ${line} ${text}`).toBe(false);
        // A brace separated from its function by a user line is given up (the trivial-line guard); every distinctive agent line is found.
        else if (text !== '}') expect(mine, `seed ${seed}: line ${line} ${text}`).toBe(true);
        else if (current[line - 1]?.startsWith('  return work(')) expect(mine, `seed ${seed}: brace at ${line}`).toBe(true);
      });
      // Rewriting one agent line gives that line up and nothing else.
      const target = current.findIndex((text) => text.startsWith('  return work(1,'));
      const rewritten = [...current];
      rewritten[target] = '  return rest();';
      const after2 = attributeLines(lines(...rewritten), [source]);
      expect(after2[target], `seed ${seed}`).toBeUndefined();
      expect(after2.filter(Boolean).length, `seed ${seed}`).toBeGreaterThanOrEqual(owners.filter(Boolean).length - 2);
    }
  });

  it('answers for a 10,000-line file with 20 applied proposals in a few milliseconds', () => {
    const file = Array.from({ length: 10_000 }, (_, i) => (i % 7 === 0 ? '}' : i % 11 === 0 ? '' : `  step(${i}, ${i % 300});`));
    const sources = Array.from({ length: 20 }, (_, k) => {
      const start = 200 + k * 450;
      const before = [...file.slice(0, start), ...file.slice(start + 30)];
      return proposal(`p${k}`, lines(...before), lines(...file));
    });
    const text = lines('// the user typed this', ...file);
    const owners = attributeLines(text, sources);
    expect(owners.filter(Boolean).length).toBe(20 * 30);
    const started = performance.now();
    for (let i = 0; i < 10; i++) provenanceOfLine(text, sources, 5_000);
    const average = (performance.now() - started) / 10;
    // About 2 ms on a laptop; the bound leaves room for a loaded CI machine.
    expect(average).toBeLessThan(40);
  });

  it('counts lines as LSP does', () => {
    expect(splitLines('a\r\nb\rc\nd')).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('the hover text', () => {
  const info = {
    instruction: 'Rename *all* the [helpers] <b>now</b>\nand then the tests',
    sessionId: '9a1e2b3c-0000-4000-8000-000000000000',
    runId: '5f0c0000-0000-4000-8000-000000000000',
    proposalId: '7d2e0000-0000-4000-8000-000000000000',
    provider: 'anthropic',
    model: 'claude-test',
    appliedAt: '2026-12-01T09:12:00.000Z',
  };

  it('says when relative to now', () => {
    const at = (iso: string) => relativeTime(info.appliedAt, new Date(iso));
    expect(at('2026-12-01T09:12:20.000Z')).toBe('just now');
    expect(at('2026-12-01T09:17:00.000Z')).toBe('5 minutes ago');
    expect(at('2026-12-01T12:12:00.000Z')).toBe('3 hours ago');
    expect(at('2026-12-03T09:12:00.000Z')).toBe('2 days ago');
  });

  it('is Markdown with the user\'s words escaped and a command that opens the transcript', () => {
    const { kind, value } = hoverContents(info, 'markdown', new Date('2026-12-01T09:17:00.000Z'));
    expect(kind).toBe('markdown');
    expect(value.split('\n')[0]).toBe('**Written by the agent:** Rename \\*all\\* the \\[helpers\\] \\<b\\>now\\</b\\> …');
    expect(value).toContain('applied 5 minutes ago (2026-12-01T09:12:00.000Z) · `anthropic/claude-test` · session `9a1e2b3c`');
    expect(value).toContain(`(command:codebench.openChat?${encodeURIComponent(JSON.stringify([{ sessionId: info.sessionId }]))})`);
  });

  it('is plain text for a client that takes only plain text', () => {
    const { kind, value } = hoverContents({ ...info, instruction: 'x'.repeat(400) }, 'plaintext', new Date('2026-12-01T09:12:00.000Z'));
    expect(kind).toBe('plaintext');
    expect(value).toBe([`Written by the agent: ${'x'.repeat(159)}…`, 'applied just now (2026-12-01T09:12:00.000Z)', 'anthropic/claude-test, session 9a1e2b3c', 'transcript: codebench history show 9a1e2b3c'].join('\n'));
  });
});
