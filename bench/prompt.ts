import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { runAgentLoop } from '../server/src/agent/run/loop.js';
import { contextMessage, systemPrompt, type AskContext } from '../server/src/agent/run/prompt.js';
import { projectRules } from '../server/src/agent/run/project-rules.js';
import { workspaceMap } from '../server/src/agent/run/workspace-map.js';
import { builtInTools } from '../server/src/agent/tools/index.js';
import { SecretScrubber } from '../server/src/agent/workspace/secrets.js';
import { WorkspaceFiles } from '../server/src/agent/workspace/workspace-files.js';
import { estimateTokens } from '../server/src/providers/token-estimate.js';
import { createLanguageModel } from '../server/src/providers/registry.js';
import { writeGeneratedRepo } from '../test/fakes/generated-repo.js';
import { startFakeModelServer, type FakeModelServer, type FakeTurn, type RecordedRequest } from '../test/fakes/model-server.js';
import { median, result, timeMsAsync, type Result } from './stats.js';

/**
 * What a local model is asked to read. (1) The prompt of a trivial ask with every tool offered,
 * counted with a real BPE tokenizer (gpt-tokenizer, o200k_base: GPT-4o's vocabulary; Qwen's and
 * Llama 3's are of the same family and size, so counts are within a few percent). (2) How much of
 * each request of a 5-step run repeats the previous request byte for byte from the start: the
 * part llama.cpp and Ollama can serve from their KV cache instead of re-reading it. Both through
 * the real loop and the real OpenAI-compatible provider against the fake server on 127.0.0.1.
 */
export async function promptBenchmarks(): Promise<Result[]> {
  const fake = await startFakeModelServer();
  const root = mkdtempSync(join(tmpdir(), 'codebench-bench-prompt-'));
  try {
    const file = Array.from({ length: 250 }, (_, index) => `export const value${index} = compute(${index}); // line ${index}`).join('\n');
    write(root, 'src/a.ts', `${file}\n`);
    write(root, 'src/b.ts', `${file.replace(/value/g, 'other')}\n`);

    const trivial = await run(fake, root, 'Say hello.', [{ text: 'Hello.' }]);
    const parts = tokensOf(trivial[0]!);
    const total = parts.system + parts.tools + parts.messages;

    const steps: FakeTurn[] = [
      { toolCalls: [{ name: 'read_file', args: { path: 'src/a.ts' } }] },
      { toolCalls: [{ name: 'read_file', args: { path: 'src/b.ts' } }] },
      { toolCalls: [{ name: 'grep', args: { pattern: 'value12' } }] },
      { toolCalls: [{ name: 'edit_file', args: { path: 'src/a.ts', old_string: 'compute(12)', new_string: 'compute(12) * 2' } }] },
      { text: 'Doubled value12.' },
    ];
    const plain = prefixShares(await run(fake, root, 'Double value12 in src/a.ts', steps));
    // A context window small enough that the two file reads do not fit side by side: the older
    // one is shortened once, and stays shortened in every later request.
    const tight = prefixShares(await run(fake, root, 'Double value12 in src/a.ts', steps, 10_000));
    const describe = (shares: number[]) => shares.map((share) => `${share.toFixed(1)} %`).join(', ');
    return [
      result('prompt tokens of a trivial ask with all tools (o200k_base)', total, 'tokens', { max: 1500 }, {
        note: `system ${parts.system}, tools ${parts.tools}, ask ${parts.messages}`,
      }),
      result('5-step run: share of each request that repeats the previous one from the start, lowest', Math.min(...plain), '%', { max: 100, label: '100 %' }, {
        ok: Math.min(...plain) === 100,
        note: `steps 2-5: ${describe(plain)}`,
      }),
      result('same, contextWindow 10,000 (older tool output shortened to fit), lowest', Math.min(...tight), '%', undefined, {
        note: `steps 2-5: ${describe(tight)}; the step that shortens rewrites one earlier message, the others repeat it whole`,
      }),
      ...(await projectContextBenchmarks()),
    ];
  } finally {
    await fake.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** A rules file of the usual kind: build and test commands, conventions, things to avoid. */
const TYPICAL_RULES = [
  '# Agent instructions',
  '',
  '- Build with `npm run build`; run one test file with `npx vitest run test/path.test.ts`.',
  '- TypeScript strict mode; no `any` in new code. Prefer small pure functions.',
  '- Errors are one-line messages naming the field or file at fault.',
  '- Do not edit generated code under src/generated/; regenerate it with `npm run codegen`.',
  '- Every change needs a test that fails without it.',
  '- Keep files under 350 lines; split by concern, not by size.',
  '- Comments say why, not what.',
  '',
].join('\n');

/**
 * Tokens the project context adds to the first user message: rules (a typical root + nested pair,
 * and the most the caps allow), memory (ten facts, and the cap) and the workspace map of a
 * generated 2,000-file git repository, through the functions the built-in driver calls.
 */
async function projectContextBenchmarks(): Promise<Result[]> {
  const root = mkdtempSync(join(tmpdir(), 'codebench-bench-map-'));
  try {
    writeGeneratedRepo(root);
    write(root, 'AGENTS.md', TYPICAL_RULES);
    write(root, 'src/features/auth/AGENTS.md', '- Auth: never log tokens; use the session helpers in src/lib.\n');
    execFileSync('git', ['init', '-q'], { cwd: root });
    execFileSync('git', ['add', '-A'], { cwd: root });
    const workspace = new WorkspaceFiles([root], { get: () => undefined });
    const signal = new AbortController().signal;
    const base: AskContext = { instruction: 'Add a logout button.' };
    const added = (context: Partial<AskContext>) => countTokens(contextMessage({ ...base, ...context })) - countTokens(contextMessage(base));

    const filePath = join(root, 'src/features/auth/ui/auth-ui-0.ts');
    const scrubber = new SecretScrubber();
    const rules = await projectRules(workspace, { root, filePath, scrub: (text) => scrubber.scrub(text) });
    const huge = Array.from({ length: 5_000 }, (_, index) => `- rule ${index}: keep it simple and tested`).join('\n');
    write(root, 'AGENTS.md', huge);
    write(root, 'src/features/auth/AGENTS.md', huge);
    const cappedRules = await projectRules(workspace, { root, filePath, scrub: (text) => text });

    const fact = (index: number) => ({ id: `0f3a${String(index).padStart(4, '0')}`, text: `Decision ${index}: the public API stays backward compatible until 2.0; deprecate first.` });
    const tenFacts = Array.from({ length: 10 }, (_, index) => fact(index));
    const manyFacts = Array.from({ length: 500 }, (_, index) => fact(index));

    const timings: number[] = [];
    let map;
    for (let run = 0; run < 5; run++) {
      const [value, ms] = await timeMsAsync(() => workspaceMap(workspace, root, signal));
      map = value;
      timings.push(ms);
    }
    if (map === undefined) throw new Error('bench: the generated repository produced no workspace map');
    const mapTokens = added({ workspaceMap: map });
    return [
      result('workspace map of a generated 2,000-file git repository, tokens added (o200k_base)', mapTokens, 'tokens', { max: 1500 }, {
        note: `estimateTokens: ${estimateTokens(contextMessage({ ...base, workspaceMap: map })) - estimateTokens(contextMessage(base))}; ${map.fileCount} files (the generated 2,000 and two rules files); git ls-files + render, median of 5: ${median(timings).toFixed(1)} ms`,
      }),
      result('rules: typical root AGENTS.md + nested one, tokens added', added({ rules }), 'tokens', undefined, { note: `${rules.map((rule) => rule.path).join(', ')}` }),
      result('rules: the most the caps let in (two oversized files)', added({ rules: cappedRules }), 'tokens', undefined, { note: 'caps: 2,000 per file, 4,000 in all (estimateTokens)' }),
      result('memory: 10 facts, tokens added', added({ memoryFacts: tenFacts }), 'tokens'),
      result('memory: the most the cap lets in (500 facts stored)', added({ memoryFacts: manyFacts }), 'tokens', undefined, { note: 'cap: 1,000 (estimateTokens)' }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function write(root: string, relative: string, text: string): void {
  mkdirSync(dirname(join(root, relative)), { recursive: true });
  writeFileSync(join(root, relative), text);
}

async function run(fake: FakeModelServer, root: string, instruction: string, turns: FakeTurn[], contextWindow?: number): Promise<RecordedRequest[]> {
  fake.reset();
  fake.enqueue(...turns);
  const model = createLanguageModel('bench', { kind: 'openai-compatible', model: 'local', baseURL: `${fake.url}/v1`, ...(contextWindow ? { contextWindow } : {}) }, {});
  const workspace = new WorkspaceFiles([root], { get: () => undefined });
  const outcome = await runAgentLoop({
    model,
    tools: builtInTools(),
    workspace,
    system: systemPrompt(workspace.roots),
    messages: [{ role: 'user', content: contextMessage({ instruction }) }],
    maxSteps: 10,
    signal: new AbortController().signal,
    onEvent: () => undefined,
    onToolCall: () => undefined,
  });
  if (outcome.status !== 'completed') throw new Error(`bench run ${outcome.status}: ${outcome.error?.message ?? outcome.stopReason}`);
  return fake.modelRequests;
}

/** Tokens of what a chat template renders: the system prompt, each tool as JSON, each message's text. */
function tokensOf(request: RecordedRequest): { system: number; tools: number; messages: number } {
  const messages = request.body.messages as Array<{ role: string; content: string | null }>;
  const system = messages.filter((message) => message.role === 'system').map((message) => message.content ?? '').join('\n');
  const others = messages.filter((message) => message.role !== 'system').map((message) => message.content ?? '').join('\n');
  const tools = (request.body.tools as Array<{ function: unknown }>).map((tool) => JSON.stringify(tool.function)).join('\n');
  return { system: countTokens(system), tools: countTokens(tools), messages: countTokens(others) };
}

/**
 * For each request after the first, the share of the previous request's serialized prompt
 * (tools, then each message as JSON) that the new one repeats from its first byte.
 */
function prefixShares(requests: RecordedRequest[]): number[] {
  const serialized = requests.map((request) => JSON.stringify(request.body.tools ?? []) + (request.body.messages as unknown[]).map((message) => JSON.stringify(message)).join(''));
  const shares: number[] = [];
  for (let index = 1; index < serialized.length; index++) {
    const previous = serialized[index - 1]!;
    const current = serialized[index]!;
    let common = 0;
    while (common < previous.length && previous[common] === current[common]) common++;
    shares.push((100 * common) / previous.length);
  }
  return shares;
}
