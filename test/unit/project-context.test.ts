import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contextMessage, MEMORY_BUDGET_TOKENS } from '../../server/src/agent/run/prompt.js';
import { projectRules, RULES_LIMITS } from '../../server/src/agent/run/project-rules.js';
import { MAP_BUDGET_TOKENS, renderTree, workspaceMap } from '../../server/src/agent/run/workspace-map.js';
import { SecretScrubber } from '../../server/src/agent/workspace/secrets.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';
import { estimateTokens } from '../../server/src/providers/token-estimate.js';
import { generatedRepoFiles, writeGeneratedRepo } from '../fakes/generated-repo.js';

/**
 * Project context in the prompt: rules files found from the root down to the asked file, the
 * project memory, and the workspace map, each over real files in a temporary directory.
 */

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function workspaceWith(files: Record<string, string>): { root: string; workspace: WorkspaceFiles } {
  const root = mkdtempSync(join(tmpdir(), 'codebench-context-'));
  roots.push(root);
  for (const [relative, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, relative)), { recursive: true });
    writeFileSync(join(root, relative), text);
  }
  return { root, workspace: new WorkspaceFiles([root], { get: () => undefined }) };
}

const noScrub = (text: string) => text;
const signal = new AbortController().signal;
// Assembled here so this file holds no scannable token.
const GITHUB_TOKEN = 'ghp_' + 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2';

describe('project rules', () => {
  it('reads one file per directory from the root down to the asked file, root first, by workspace path', async () => {
    const { root, workspace } = workspaceWith({
      'AGENTS.md': 'root rule',
      'CLAUDE.md': 'root claude rule, shadowed by AGENTS.md',
      'src/CLAUDE.md': 'src claude rule',
      'src/deep/.cursorrules': 'deep cursor rule',
      'src/deep/file.ts': 'x',
      'other/AGENTS.md': 'not on the way to the file',
    });
    const rules = await projectRules(workspace, { root, filePath: join(root, 'src/deep/file.ts'), scrub: noScrub });
    expect(rules.map((rule) => [rule.path, rule.text])).toEqual([
      ['AGENTS.md', 'root rule'],
      ['src/CLAUDE.md', 'src claude rule'],
      ['src/deep/.cursorrules', 'deep cursor rule'],
    ]);
  });

  it('reads .github/copilot-instructions.md at the root only, after AGENTS.md and CLAUDE.md', async () => {
    const { root, workspace } = workspaceWith({
      '.github/copilot-instructions.md': 'copilot rule',
      '.cursorrules': 'cursor rule, after copilot',
      'src/.github/copilot-instructions.md': 'nested copilot: not a rules file',
      'src/file.ts': 'x',
    });
    const rules = await projectRules(workspace, { root, filePath: join(root, 'src/file.ts'), scrub: noScrub });
    expect(rules).toEqual([{ path: '.github/copilot-instructions.md', text: 'copilot rule' }]);
  });

  it('without a file, only the root applies', async () => {
    const { root, workspace } = workspaceWith({ 'AGENTS.md': 'root', 'src/AGENTS.md': 'src' });
    expect((await projectRules(workspace, { root, scrub: noScrub })).map((rule) => rule.path)).toEqual(['AGENTS.md']);
  });

  it('refuses a rules file that is a symbolic link to a protected file, naming why', async () => {
    const { root, workspace } = workspaceWith({ '.env': `GITHUB_TOKEN=${GITHUB_TOKEN}\n`, 'src/file.ts': 'x' });
    symlinkSync('.env', join(root, 'AGENTS.md'));
    const rules = await projectRules(workspace, { root, filePath: join(root, 'src/file.ts'), scrub: noScrub });
    expect(rules).toHaveLength(1);
    expect(rules[0]!.text).toBe('');
    expect(rules[0]!.note).toMatch(/^AGENTS\.md was not read: AGENTS\.md leads through a symbolic link to \.env, a protected file/);
    expect(JSON.stringify(rules)).not.toContain(GITHUB_TOKEN);
  });

  it('scrubs with the run scrubber before cutting, so a secret at the cut is still redacted', async () => {
    const limit = { perFileTokens: 20, totalTokens: 100 };
    // The token starts just before the cut (20 tokens ≈ 70 characters): cut first, its head would slip through.
    const text = `${'a'.repeat(60)} ${GITHUB_TOKEN}`;
    const { root, workspace } = workspaceWith({ 'AGENTS.md': text });
    const scrubber = new SecretScrubber();
    const [rule] = await projectRules(workspace, { root, scrub: (value) => scrubber.scrub(value), limits: limit });
    expect(rule!.text).not.toContain('ghp_');
    expect(scrubber.summary()).toContain('github token');
  });

  it('cuts a rules file over the per-file limit at a line break, and says so; the total budget leaves later files out', async () => {
    const big = Array.from({ length: 2_000 }, (_, index) => `- rule number ${index}: keep functions small`).join('\n');
    const { root, workspace } = workspaceWith({ 'AGENTS.md': big, 'a/AGENTS.md': big, 'a/b/AGENTS.md': big, 'a/b/c/AGENTS.md': 'small', 'a/b/c/file.ts': 'x' });
    const rules = await projectRules(workspace, { root, filePath: join(root, 'a/b/c/file.ts'), scrub: noScrub });
    expect(rules.map((rule) => rule.path)).toEqual(['AGENTS.md', 'a/AGENTS.md', 'a/b/AGENTS.md', 'a/b/c/AGENTS.md']);
    expect(estimateTokens(rules[0]!.text)).toBeLessThanOrEqual(RULES_LIMITS.perFileTokens);
    expect(rules[0]!.text.endsWith('keep functions small')).toBe(true);
    expect(rules[0]!.note).toMatch(/^AGENTS\.md was cut: [\d,]+ of its [\d,]+ characters are shown \(the 2,000-token limit per rules file\)/);
    expect(rules[2]!.text).toBe('');
    expect(rules[2]!.note).toMatch(/a\/b\/AGENTS\.md was left out: the rules files above used the whole rules budget \(4,000 tokens\)/);
    const total = rules.reduce((sum, rule) => sum + estimateTokens(rule.text), 0);
    expect(total).toBeLessThanOrEqual(RULES_LIMITS.totalTokens);
  });
});

describe('project memory in the context message', () => {
  it('lists the facts with their ids before the request, in both tool and text mode', () => {
    const facts = [{ id: 'f1a2b3', text: 'Use pnpm, not npm.' }, { id: 'c4d5e6', text: 'Tests live in\ntest/unit.' }];
    for (const mode of ['tools', 'text'] as const) {
      const message = contextMessage({ instruction: 'add a test', memoryFacts: facts }, mode);
      expect(message).toContain('Project memory (facts kept for this workspace, each with its id):\n- [f1a2b3] Use pnpm, not npm.\n- [c4d5e6] Tests live in test/unit.');
      expect(message.indexOf('Project memory')).toBeLessThan(message.indexOf('Request: add a test'));
    }
  });

  it('keeps the section within its budget and counts what it left out', () => {
    const facts = Array.from({ length: 200 }, (_, index) => ({ id: `id${index}`, text: `fact number ${index} about the build that is worth remembering` }));
    const message = contextMessage({ instruction: 'x', memoryFacts: facts });
    const section = message.slice(0, message.indexOf('Request:'));
    expect(estimateTokens(section)).toBeLessThanOrEqual(MEMORY_BUDGET_TOKENS + 50);
    expect(section).toContain('- [id0] fact number 0');
    expect(section).toMatch(/\(\d+ newer facts not shown: the memory section is limited to 1,000 tokens\)/);
  });

  it('introduces the map for the tool in use: list_files only where there are tools', () => {
    const workspaceMap = { text: 'src/ (3 files: .ts)', fileCount: 3, source: 'walk' as const, partial: true };
    expect(contextMessage({ instruction: 'x', workspaceMap }, 'tools')).toMatch(/^Workspace map \(3\+ files; a directory shown as "name\/ \(N files: …\)" is summarised; list_files shows what is inside them\):\n```\nsrc\/ \(3 files: \.ts\)\n```\n\nRequest: x$/);
    expect(contextMessage({ instruction: 'x', workspaceMap }, 'text')).not.toContain('list_files');
  });

  it('adds nothing when there are no facts, rules or map', () => {
    expect(contextMessage({ instruction: 'x', memoryFacts: [], rules: [] })).toBe('Request: x');
  });
});

describe('workspace map', () => {
  it('holds a generated 2,000-file repository within its budget, summarising the largest directories', () => {
    const text = renderTree(generatedRepoFiles(), MAP_BUDGET_TOKENS);
    expect(estimateTokens(text)).toBeLessThanOrEqual(MAP_BUDGET_TOKENS);
    expect(text).toContain('\n  generated/ (312 files: .ts 300, .json 12)\n');
    expect(text).toContain('packages/shared/src/ (681 files: .ts)');
    // Small directories are shown whole, root files always.
    expect(text).toMatch(/^src\/\n(?:.*\n)*  features\/\n/m);
    expect(text).toContain('\npackage.json\n');
    const message = contextMessage({ instruction: 'x', workspaceMap: { text, fileCount: 2_000, source: 'git', partial: false } });
    expect(estimateTokens(message)).toBeLessThanOrEqual(1_500);
  });

  it('shows a small workspace whole, joining directories that hold a single directory', () => {
    expect(renderTree(['README.md', 'server/src/main.ts', 'server/src/lsp/server.ts', 'bin/cli.js'], 500)).toBe(
      ['bin/', '  cli.js', 'server/src/', '  lsp/', '    server.ts', '  main.ts', 'README.md'].join('\n'),
    );
  });

  it('cuts a flat root of thousands of files with a count of what is missing', () => {
    const files = Array.from({ length: 3_000 }, (_, index) => `file-${index}.txt`);
    const text = renderTree(files, 300);
    expect(estimateTokens(text)).toBeLessThanOrEqual(300);
    expect(text).toMatch(/\n… [\d,]+ more entries of the 3,000 files not shown$/);
  });

  it('lists git files quickly, without what .gitignore excludes; protected files by name, as list_files does', async () => {
    const { root, workspace } = workspaceWith({});
    writeGeneratedRepo(root);
    const extra = { '.gitignore': 'dist/\n*.log\n', 'dist/out.js': 'x', 'debug.log': 'x', '.env.local': 'SECRET=1', 'deleted-since.ts': 'x' };
    for (const [relative, text] of Object.entries(extra)) {
      mkdirSync(dirname(join(root, relative)), { recursive: true });
      writeFileSync(join(root, relative), text);
    }
    execFileSync('git', ['init', '-q'], { cwd: root });
    execFileSync('git', ['add', '-A'], { cwd: root });
    rmSync(join(root, 'deleted-since.ts'));
    writeFileSync(join(root, 'brand-new.ts'), 'x');
    const started = performance.now();
    const map = await workspaceMap(workspace, root, signal);
    const elapsed = performance.now() - started;
    expect(map?.source).toBe('git');
    expect(map!.fileCount).toBeGreaterThanOrEqual(2_000);
    expect(map!.text).not.toMatch(/dist\/|debug\.log/);
    expect(map!.text).toContain('.env.local');
    expect(map!.text).toContain('brand-new.ts');
    expect(map!.text).not.toContain('deleted-since.ts');
    expect(elapsed).toBeLessThan(2_000);
  });

  it('walks a directory that is not a git repository, honouring .gitignore and skipping node_modules', async () => {
    const { root, workspace } = workspaceWith({ '.gitignore': 'build/\n', 'build/x.js': 'x', 'node_modules/p/index.js': 'x', 'src/a.ts': 'x', '.env': 'A=1' });
    const map = await workspaceMap(workspace, root, signal);
    expect(map).toMatchObject({ source: 'walk', fileCount: 3, partial: false });
    expect(map!.text).toBe(['src/', '  a.ts', '.env', '.gitignore'].join('\n'));
  });
});
