import type { ProviderConfig } from '../../server/src/config/schema.js';
import { createLanguageModel } from '../../server/src/providers/registry.js';
import type { RetryOptions } from '../../server/src/providers/retry.js';
import type { LanguageModel, ModelRequest, StreamPart } from '../../server/src/providers/types.js';
import type { FakeModelServer } from '../fakes/model-server.js';
import { closedPort } from '../fakes/ports.js';

/** Shared set-up for the provider integration tests: one config per kind against the fake server. */

export const KINDS = ['openai', 'openai-compatible', 'anthropic', 'ollama'] as const;
export type HttpKind = (typeof KINDS)[number];

/** Each kind reads its key from its own variable, so tests can check the right one is named. */
export const KEY_ENV: Record<HttpKind, string> = {
  openai: 'CB_TEST_OPENAI_KEY',
  'openai-compatible': 'CB_TEST_COMPAT_KEY',
  anthropic: 'CB_TEST_ANTHROPIC_KEY',
  ollama: 'CB_TEST_OLLAMA_KEY',
};

export const KEYS: Record<HttpKind, string> = {
  openai: 'sk-openai-test-7Hq2SECRETvalue',
  'openai-compatible': 'sk-compat-test-9Zx4SECRETvalue',
  anthropic: 'sk-ant-test-3Kd8SECRETvalue',
  ollama: 'ollama-test-5Rt1SECRETvalue',
};

export const ENV: NodeJS.ProcessEnv = Object.fromEntries(KINDS.map((k) => [KEY_ENV[k], KEYS[k]]));

export function baseURLFor(kind: HttpKind, url: string): string {
  return kind === 'openai' || kind === 'openai-compatible' ? `${url}/v1` : url;
}

export function configFor(
  kind: HttpKind,
  url: string,
  extra: Partial<Omit<Extract<ProviderConfig, { kind: HttpKind }>, 'kind'>> = {},
): ProviderConfig {
  // openai-compatible and ollama run keyless by default; the others need a key.
  const needsKey = kind === 'openai' || kind === 'anthropic';
  return {
    kind,
    model: 'fake-model',
    baseURL: baseURLFor(kind, url),
    ...(needsKey ? { apiKeyEnv: KEY_ENV[kind] } : {}),
    ...extra,
  } as ProviderConfig;
}

export interface Harness {
  model: LanguageModel;
  waits: number[];
}

/** A model whose retry waits are recorded instead of slept, so retry tests run instantly. */
export function modelFor(
  kind: HttpKind,
  server: FakeModelServer | string,
  extra: Parameters<typeof configFor>[2] = {},
  retry: RetryOptions = {},
  env: NodeJS.ProcessEnv = ENV,
): Harness {
  const waits: number[] = [];
  const url = typeof server === 'string' ? server : server.url;
  const model = createLanguageModel(`test-${kind}`, configFor(kind, url, extra), env, {
    retry: {
      sleep: async (ms) => {
        waits.push(ms);
      },
      ...retry,
    },
  });
  return { model, waits };
}

export const simpleRequest: ModelRequest = {
  system: 'You are a test assistant.',
  messages: [{ role: 'user', content: 'Say hello.' }],
  tools: [],
};

export const toolRequest: ModelRequest = {
  system: 'You are codebench, a careful coding agent.',
  messages: [
    { role: 'user', content: 'Open a.ts and b.ts' },
    {
      role: 'assistant',
      content: 'Reading both files.',
      toolCalls: [
        { id: 'call_prev_1', name: 'read_file', args: { path: 'a.ts' } },
        { id: 'call_prev_2', name: 'read_file', args: { path: 'b.ts' } },
      ],
    },
    { role: 'tool', toolCallId: 'call_prev_1', toolName: 'read_file', content: 'export const a = 1;' },
    { role: 'tool', toolCallId: 'call_prev_2', toolName: 'read_file', content: 'ENOENT: b.ts', isError: true },
  ],
  tools: [
    {
      name: 'read_file',
      description: 'Read a file from the workspace.',
      parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    },
  ],
};

export async function collect(
  model: LanguageModel,
  request: ModelRequest = simpleRequest,
  signal: AbortSignal = new AbortController().signal,
): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of model.stream(request, signal)) parts.push(part);
  return parts;
}

export function textOf(parts: StreamPart[]): string {
  return parts.map((p) => (p.type === 'text-delta' ? p.text : '')).join('');
}

export function errorOf(parts: StreamPart[]) {
  const last = parts.at(-1);
  if (last?.type !== 'error') throw new Error(`expected a final error part, got ${JSON.stringify(parts)}`);
  return last.error;
}

export function ofType<T extends StreamPart['type']>(parts: StreamPart[], type: T): Extract<StreamPart, { type: T }>[] {
  return parts.filter((p): p is Extract<StreamPart, { type: T }> => p.type === type);
}

/** A URL on which nothing listens: bind a port, then free it. */
export async function closedPortURL(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}
