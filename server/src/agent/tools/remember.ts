import { z } from 'zod';
import { redactSecretText } from '../../providers/secret-patterns.js';
import type { MemoryFactRecord } from '../../store/memory.js';
import { defineTool, failure } from './define.js';
import type { ProjectMemory, RememberOutcome } from './types.js';

/**
 * Most characters one fact may hold. Every later session of the workspace carries every fact, so
 * a fact is a line, not a document; protocol/limits.ts promises the same number to clients.
 */
export const MAX_FACT_CHARS = 500;

/** What checking a fact gives: the text to store, or why it is refused (one line, for the model or the user). */
export type FactCheck = { ok: true; text: string; redactions: number } | { ok: false; error: string };

/**
 * Trims, refuses an empty or too long fact, and replaces secret-looking strings by `[redacted:…]`
 * (the same patterns that scrub tool results): a secret must never persist in the memory, which
 * is sent to the model with every session. A fact that was nothing but a secret is refused.
 */
export function checkFact(raw: string): FactCheck {
  const trimmed = raw.trim();
  if (trimmed === '') return { ok: false, error: 'the fact is empty' };
  if (trimmed.length > MAX_FACT_CHARS) {
    return { ok: false, error: `the fact is ${trimmed.length} characters long; at most ${MAX_FACT_CHARS} are kept, so state it shorter` };
  }
  const { text, findings } = redactSecretText(trimmed);
  if (findings.length > 0 && !/[\p{L}\p{N}]/u.test(text.replace(/\[redacted:[^\]]*\]/g, ''))) {
    return { ok: false, error: 'the fact is nothing but a secret, and secrets are never stored in the project memory' };
  }
  return { ok: true, text, redactions: findings.length };
}

/** The store's side of the memory, as the agent and the front-ends use it. */
export type MemoryStore = { addMemoryFact(input: { workspaceUri: string; text: string; runId?: string }): Promise<MemoryFactRecord> };

/** Checks, scrubs and stores one fact: every way in (the tool, the CLI, the LSP request) goes through here. */
export async function storeFact(
  store: MemoryStore,
  input: { workspaceUri: string; text: string; runId?: string },
): Promise<{ ok: true; fact: MemoryFactRecord; redactions: number } | { ok: false; error: string }> {
  const checked = checkFact(input.text);
  if (!checked.ok) return checked;
  const fact = await store.addMemoryFact({ workspaceUri: input.workspaceUri, text: checked.text, runId: input.runId });
  return { ok: true, fact, redactions: checked.redactions };
}

/** The `remember` capability of one run: facts land in its workspace, tagged with the run. */
export function projectMemory(store: MemoryStore, workspaceUri: string, runId: string): ProjectMemory {
  return {
    async remember(text: string): Promise<RememberOutcome> {
      const stored = await storeFact(store, { workspaceUri, text, runId });
      return stored.ok ? { ok: true, id: stored.fact.id, text: stored.fact.text, redactions: stored.redactions } : stored;
    },
  };
}

/**
 * How a successful result starts: `Remembered as fact 1a2b3c4d[ (note)]: <the fact as stored>`;
 * history (agent/history/transcript.ts) reads the fact back from it.
 */
export const REMEMBERED_PREFIX = 'Remembered as fact ';

// Every request of every run carries this spec: kept short (68 tokens in o200k_base; the trivial-ask prompt target is 1,500).
const schema = z.strictObject({
  fact: z.string().describe(`At most ${MAX_FACT_CHARS} characters.`),
});

export const rememberTool = defineTool({
  name: 'remember',
  description:
    'Store a short, durable fact about this project (a convention, a decision) for future sessions. Not for secrets or temporary state.',
  schema,
  activity: (args) => `remembering: ${args.fact.length > 60 ? `${args.fact.slice(0, 59)}…` : args.fact}`,
  async run(args, { memory }) {
    if (!memory) return failure('The project memory is not available here; nothing was stored.');
    const outcome = await memory.remember(args.fact);
    if (!outcome.ok) return failure(`Not remembered: ${outcome.error}.`);
    const note = outcome.redactions > 0 ? ' (secret-looking text was replaced by a placeholder before storing)' : '';
    return { output: `${REMEMBERED_PREFIX}${outcome.id.slice(0, 8)}${note}: ${outcome.text}` };
  },
});
