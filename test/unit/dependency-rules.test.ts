import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The import rules of ARCHITECTURE.md are .dependency-cruiser.cjs, run here by dependency-cruiser
 * itself: the real tree must pass, and a tree seeded with one violation of each rule must fail
 * with exactly that rule (so a rule that silently matches nothing is caught too).
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const BIN = join(ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: unknown[];
}

function cruise(cwd: string): Violation[] {
  const output = execFileSync(BIN, ['server/src', '--config', CONFIG, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('dependency rules (dependency-cruiser)', () => {
  it('server/src has no import cycle and no layer pointing the wrong way', () => {
    const violations = cruise(ROOT).map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`);
    expect(violations).toEqual([]);
  });

  describe('each rule fails on a deliberate violation', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'codebench-depcruise-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    };
    write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
    write('package.json', JSON.stringify({ type: 'module' }));
    // vscode-languageserver must resolve for the rule that forbids it outside lsp/.
    write('node_modules/vscode-languageserver/package.json', JSON.stringify({ name: 'vscode-languageserver', main: 'index.js' }));
    write('node_modules/vscode-languageserver/index.js', 'export {};\n');
    // Type-only cycle: agent/a.ts ↔ agent/b.ts.
    write('server/src/agent/a.ts', "import type { B } from './b.js';\nexport type A = { b?: B };\n");
    write('server/src/agent/b.ts', "import type { A } from './a.js';\nexport type B = { a?: A };\n");
    write('server/src/agent/uses-lsp.ts', "import 'vscode-languageserver';\n");
    write('server/src/store/uses-agent.ts', "import type { A } from '../agent/a.js';\nexport type S = A;\n");
    write('server/src/agent/uses-cli.ts', "import { run } from '../cli/run.js';\nrun();\n");
    write('server/src/cli/run.ts', 'export function run(): void {}\n');
    write('server/src/cli/uses-lsp-layer.ts', "import { serve } from '../lsp/serve.js';\nserve();\n");
    write('server/src/lsp/serve.ts', 'export function serve(): void {}\n');
    write('server/src/protocol/uses-agent.ts', "import type { A } from '../agent/a.js';\nexport type P = A;\n");
    write('server/src/sync/uses-agent.ts', "import type { A } from '../agent/a.js';\nexport type Y = A;\n");
    write('server/src/sync/engine.ts', 'export type Engine = { push(): void };\n');
    write('server/src/store/uses-sync.ts', "import type { Engine } from '../sync/engine.js';\nexport type T = Engine;\n");

    const byRule = new Map<string, string[]>();
    for (const violation of cruise(scratch)) byRule.set(violation.rule.name, [...(byRule.get(violation.rule.name) ?? []), violation.from]);

    it.each([
      ['no-cycles', 'server/src/agent/a.ts'],
      ['only-lsp-knows-lsp', 'server/src/agent/uses-lsp.ts'],
      ['lower-layers-below-the-agent', 'server/src/store/uses-agent.ts'],
      ['core-never-reaches-a-front-end', 'server/src/agent/uses-cli.ts'],
      ['front-ends-are-independent', 'server/src/cli/uses-lsp-layer.ts'],
      ['protocol-is-the-wire-only', 'server/src/protocol/uses-agent.ts'],
      ['sync-is-beside-the-agent', 'server/src/sync/uses-agent.ts'],
      ['core-never-reaches-sync', 'server/src/store/uses-sync.ts'],
    ])('%s catches %s', (rule, from) => {
      expect(byRule.get(rule) ?? []).toContain(from);
    });
  });
});
