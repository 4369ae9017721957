import type { Kysely } from 'kysely';
import { redactSecretText } from '../providers/secret-patterns.js';
import type { OutboxBatch, SyncTables } from '../store/store.js';
import type { ServerDatabase } from './server-tables.js';

/**
 * Pushes the outbox in batches. Each batch is one server transaction of idempotent upserts keyed
 * by the records' UUIDs; its queue rows are deleted only after the server committed. A crash or a
 * cut connection anywhere leaves the rows queued, and the retry upserts the same rows again: never
 * lost, never duplicated.
 */

export const PUSH_BATCH = 1000;

/** Every string in a value, scrubbed of anything that looks like a secret (API keys, tokens, passwords in URLs). */
export function scrubDeep<T>(value: T): T {
  if (typeof value === 'string') return redactSecretText(value).text as T;
  if (Array.isArray(value)) return value.map(scrubDeep) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, scrubDeep(inner)])) as T;
  }
  return value;
}

const nullable = <T>(value: T | undefined): T | null => value ?? null;

/** Sends one batch in one transaction. */
export async function pushBatch(server: Kysely<ServerDatabase>, batch: OutboxBatch): Promise<void> {
  const { sessions, runs, messages, proposals } = scrubDeep({ sessions: batch.sessions, runs: batch.runs, messages: batch.messages, proposals: batch.proposals });
  await server.transaction().execute(async (tx) => {
    const db = tx.withSchema('codebench');
    if (sessions.length > 0) {
      await db
        .insertInto('sessions')
        .values(sessions.map((s) => ({
          id: s.id, workspace: s.workspace, title: s.title, provider: s.provider, continues_session_id: nullable(s.continuesSessionId),
          message_count: s.messageCount, created_at: s.createdAt, updated_at: s.updatedAt, deleted_at: null,
        })))
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
          workspace: eb.ref('excluded.workspace'), title: eb.ref('excluded.title'), provider: eb.ref('excluded.provider'),
          continues_session_id: eb.ref('excluded.continues_session_id'), message_count: eb.ref('excluded.message_count'),
          updated_at: eb.ref('excluded.updated_at'), deleted_at: null,
        })))
        .execute();
    }
    if (runs.length > 0) {
      await db
        .insertInto('runs')
        .values(runs.map((r) => ({
          id: r.id, session_id: r.sessionId, workspace: r.workspace, provider: r.provider, model: r.model, instruction: r.instruction,
          status: r.status, error: nullable(r.error), input_tokens: nullable(r.inputTokens), output_tokens: nullable(r.outputTokens),
          started_at: r.startedAt, first_token_at: nullable(r.firstTokenAt), finished_at: nullable(r.finishedAt),
        })))
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
          workspace: eb.ref('excluded.workspace'), status: eb.ref('excluded.status'), error: eb.ref('excluded.error'),
          input_tokens: eb.ref('excluded.input_tokens'), output_tokens: eb.ref('excluded.output_tokens'),
          first_token_at: eb.ref('excluded.first_token_at'), finished_at: eb.ref('excluded.finished_at'),
        })))
        .execute();
    }
    if (proposals.length > 0) {
      await db
        .insertInto('proposals')
        .values(proposals.map((p) => ({
          id: p.id, run_id: p.runId, session_id: p.sessionId, workspace: p.workspace, status: p.status, summary: p.summary,
          files: JSON.stringify(p.files), diff: p.diff, detail: nullable(p.detail), evidence: p.evidence === undefined ? null : JSON.stringify(p.evidence),
          created_at: p.createdAt, decided_at: nullable(p.decidedAt),
        })))
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
          workspace: eb.ref('excluded.workspace'), status: eb.ref('excluded.status'), detail: eb.ref('excluded.detail'),
          evidence: eb.ref('excluded.evidence'), decided_at: eb.ref('excluded.decided_at'),
        })))
        .execute();
    }
    if (messages.length > 0) {
      await db
        .insertInto('messages')
        .values(messages.map((m) => ({
          id: m.id, session_id: m.sessionId, run_id: nullable(m.runId), workspace: m.workspace, role: m.role, content: m.content, created_at: m.createdAt,
        })))
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ workspace: eb.ref('excluded.workspace'), content: eb.ref('excluded.content') })))
        .execute();
    }
    if (batch.deletedSessions.length > 0) {
      const ids = batch.deletedSessions;
      for (const table of ['messages', 'runs', 'proposals'] as const) await db.deleteFrom(table).where('session_id', 'in', ids).execute();
      // The session row stays as a tombstone so teammates' copies learn of the deletion on their next pull.
      await db.updateTable('sessions').set({ deleted_at: new Date().toISOString(), title: '', message_count: 0 }).where('id', 'in', ids).execute();
    }
  });
}

/**
 * Pushes until the outbox is empty or `shouldStop` says so (between batches). Returns how many
 * queue entries were acknowledged.
 */
export async function pushOutbox(server: Kysely<ServerDatabase>, tables: SyncTables, shouldStop: () => boolean = () => false): Promise<number> {
  let pushed = 0;
  for (;;) {
    const batch = tables.outboxBatch(PUSH_BATCH);
    if (batch.entries.length === 0) return pushed;
    await pushBatch(server, batch);
    tables.completeOutbox(batch.entries.map((entry) => entry.seq));
    pushed += batch.entries.length;
    if (shouldStop()) return pushed;
  }
}
