import type SQLite from 'better-sqlite3';
import type { EarlierRun, RunStatus } from './records.js';
import type { TeamMessageRecord, TeamRecords, TeamSessionRecord } from './sync-records.js';

/**
 * Teammates' records pulled from the team server, kept apart from the user's own history: they are
 * read-only here, never queued for push, and never in search or the session list. Each pulled page
 * is saved together with the cursor it advances, in one transaction, so a crash between the two
 * can neither skip records nor (upserts being idempotent) duplicate them.
 */

const UPSERT_SESSION = `INSERT OR REPLACE INTO team_sessions
  (id, workspace, author, title, provider, continues_session_id, message_count, created_at, updated_at)
  VALUES (@id, @workspace, @author, @title, @provider, @continuesSessionId, @messageCount, @createdAt, @updatedAt)`;
const UPSERT_RUN = `INSERT OR REPLACE INTO team_runs
  (id, session_id, author, provider, model, instruction, status, error, input_tokens, output_tokens, started_at, first_token_at, finished_at)
  VALUES (@id, @sessionId, @author, @provider, @model, @instruction, @status, @error, @inputTokens, @outputTokens, @startedAt, @firstTokenAt, @finishedAt)`;
const UPSERT_MESSAGE = `INSERT OR REPLACE INTO team_messages (id, session_id, run_id, author, role, content, created_at)
  VALUES (@id, @sessionId, @runId, @author, @role, @content, @createdAt)`;
const UPSERT_PROPOSAL = `INSERT OR REPLACE INTO team_proposals
  (id, run_id, session_id, author, status, summary, files, diff, detail, evidence, created_at, decided_at)
  VALUES (@id, @runId, @sessionId, @author, @status, @summary, @files, @diff, @detail, @evidence, @createdAt, @decidedAt)`;

/** Nulls for absent optional fields: better-sqlite3 refuses undefined named parameters. */
function bindable(record: object, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const key of keys) out[key] ??= null;
  return out;
}

/**
 * Saves a pulled page and the state keys (cursors) it advances. Records whose id is one of the
 * user's own (pushed from this machine) are skipped: they are already here, writable. Returns how
 * many teammates' records were stored.
 */
export function saveTeamRecords(sqlite: SQLite.Database, records: Partial<TeamRecords>, state: Record<string, string>): number {
  const own = (table: string, column = 'id') => sqlite.prepare(`SELECT 1 FROM ${table} WHERE ${column} = ?`).pluck();
  const ownSession = own('sessions');
  const ownRun = own('runs');
  const ownMessage = own('messages', 'uid');
  const ownProposal = own('proposals');
  const setState = sqlite.prepare('INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)');
  return sqlite.transaction((): number => {
    let stored = 0;
    const upsertSession = sqlite.prepare(UPSERT_SESSION);
    for (const session of records.sessions ?? []) {
      if (ownSession.get(session.id)) continue;
      if (session.deletedAt !== undefined) {
        forgetTeamSession(sqlite, session.id);
        continue;
      }
      const { deletedAt: _deleted, ...row } = session;
      stored += upsertSession.run(bindable(row, ['continuesSessionId'])).changes;
    }
    const upsertRun = sqlite.prepare(UPSERT_RUN);
    for (const run of records.runs ?? []) {
      if (!ownRun.get(run.id)) stored += upsertRun.run(bindable(withoutWorkspace(run), ['error', 'inputTokens', 'outputTokens', 'firstTokenAt', 'finishedAt'])).changes;
    }
    const upsertMessage = sqlite.prepare(UPSERT_MESSAGE);
    for (const message of records.messages ?? []) {
      if (!ownMessage.get(message.id)) stored += upsertMessage.run(bindable(withoutWorkspace(message), ['runId'])).changes;
    }
    const upsertProposal = sqlite.prepare(UPSERT_PROPOSAL);
    for (const proposal of records.proposals ?? []) {
      if (ownProposal.get(proposal.id)) continue;
      const row = withoutWorkspace(proposal);
      stored += upsertProposal.run(bindable({ ...row, files: JSON.stringify(row.files ?? []), evidence: row.evidence === undefined ? null : JSON.stringify(row.evidence) }, ['detail', 'decidedAt'])).changes;
    }
    for (const [key, value] of Object.entries(state)) setState.run(key, value);
    return stored;
  }).immediate();
}

function withoutWorkspace<T extends { workspace?: string }>(record: T): Omit<T, 'workspace'> {
  const { workspace: _workspace, ...rest } = record;
  return rest;
}

function forgetTeamSession(sqlite: SQLite.Database, id: string): void {
  for (const table of ['team_messages', 'team_runs', 'team_proposals']) sqlite.prepare(`DELETE FROM ${table} WHERE session_id = ?`).run(id);
  sqlite.prepare('DELETE FROM team_sessions WHERE id = ?').run(id);
}

type Row = Record<string, any>;

function toTeamSession(row: Row): TeamSessionRecord {
  return {
    id: row.id, workspace: row.workspace, author: row.author, title: row.title, provider: row.provider,
    continuesSessionId: row.continues_session_id ?? undefined, messageCount: row.message_count,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

/** Most recently active first; only sessions that have at least a session row (children may lead). */
export function listTeamSessions(sqlite: SQLite.Database, input: { workspace?: string; limit: number }): TeamSessionRecord[] {
  const rows = input.workspace === undefined
    ? sqlite.prepare('SELECT * FROM team_sessions ORDER BY updated_at DESC, id LIMIT ?').all(input.limit)
    : sqlite.prepare('SELECT * FROM team_sessions WHERE workspace = ? ORDER BY updated_at DESC, id LIMIT ?').all(input.workspace, input.limit);
  return (rows as Row[]).map(toTeamSession);
}

export function getTeamSession(sqlite: SQLite.Database, id: string): TeamSessionRecord | undefined {
  const row = sqlite.prepare('SELECT * FROM team_sessions WHERE id = ?').get(id) as Row | undefined;
  return row && toTeamSession(row);
}

/** The newest message of a teammate's session (for previews), by index. */
export function lastTeamMessage(sqlite: SQLite.Database, sessionId: string): TeamMessageRecord | undefined {
  const row = sqlite.prepare('SELECT * FROM team_messages WHERE session_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(sessionId) as Row | undefined;
  return row && toTeamMessage(row);
}

function toTeamMessage(row: Row): TeamMessageRecord {
  return { id: row.id, sessionId: row.session_id, runId: row.run_id ?? undefined, author: row.author, role: row.role, content: row.content, createdAt: row.created_at };
}

/** Oldest first. */
export function listTeamMessages(sqlite: SQLite.Database, sessionId: string): TeamMessageRecord[] {
  return (sqlite.prepare('SELECT * FROM team_messages WHERE session_id = ? ORDER BY created_at, rowid').all(sessionId) as Row[]).map(toTeamMessage);
}

export function teamRecordCounts(sqlite: SQLite.Database): Record<'sessions' | 'runs' | 'messages' | 'proposals', number> {
  const count = (table: string) => sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return { sessions: count('team_sessions'), runs: count('team_runs'), messages: count('team_messages'), proposals: count('team_proposals') };
}

/**
 * A teammate's session as earlier turns of a session that continues it: their newest `limit` runs,
 * oldest first, each with its final answer and proposal fates (tool calls are not shared).
 */
export function teamEarlierRuns(sqlite: SQLite.Database, sessionId: string, limit: number): { runs: EarlierRun[]; olderRuns: number } {
  if (limit <= 0) return { runs: [], olderRuns: 0 };
  const total = sqlite.prepare('SELECT count(*) FROM team_runs WHERE session_id = ?').pluck().get(sessionId) as number;
  const rows = (sqlite.prepare('SELECT * FROM team_runs WHERE session_id = ? ORDER BY started_at DESC, id LIMIT ?').all(sessionId, limit) as Row[]).reverse();
  const answer = sqlite.prepare("SELECT content FROM team_messages WHERE run_id = ? AND role = 'assistant' ORDER BY created_at DESC LIMIT 1").pluck();
  const fates = sqlite.prepare('SELECT status, files, detail FROM team_proposals WHERE run_id = ? ORDER BY created_at');
  const runs = rows.map((row): EarlierRun => ({
    run: {
      id: row.id, sessionId: row.session_id, provider: row.provider, model: row.model, instruction: row.instruction,
      status: row.status as RunStatus, error: row.error ?? undefined, inputTokens: row.input_tokens ?? undefined,
      outputTokens: row.output_tokens ?? undefined, startedAt: row.started_at, firstTokenAt: row.first_token_at ?? undefined,
      finishedAt: row.finished_at ?? undefined,
    },
    answer: (answer.get(row.id) as string | undefined) ?? '',
    toolCalls: [],
    proposals: (fates.all(row.id) as Row[]).map((fate) => ({ status: fate.status, files: JSON.parse(fate.files), detail: fate.detail ?? undefined })),
  }));
  return { runs, olderRuns: total - runs.length };
}
