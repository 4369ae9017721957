import type { ColumnType } from 'kysely';

/**
 * The team server's tables as kysely sees them (schema `codebench`, created by server-schema.ts).
 * `author` and `change_xid` are filled by the server (default current_user; a trigger), so a
 * client never writes them: row-level security checks the author, the trigger owns the cursor.
 */

type ServerTime = ColumnType<Date, string, string>;
type OptionalServerTime = ColumnType<Date | null, string | null, string | null>;
type ServerOwned<T> = ColumnType<T, never, never>;
type Json = ColumnType<unknown, string, string>;

interface Common {
  id: string;
  workspace: string;
  author: ServerOwned<string>;
  change_xid: ServerOwned<string>;
}

export interface ServerSessionsTable extends Common {
  title: string;
  provider: string;
  continues_session_id: string | null;
  message_count: number;
  created_at: ServerTime;
  updated_at: ServerTime;
  deleted_at: OptionalServerTime;
}

export interface ServerRunsTable extends Common {
  session_id: string;
  provider: string;
  model: string;
  instruction: string;
  status: string;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  started_at: ServerTime;
  first_token_at: OptionalServerTime;
  finished_at: OptionalServerTime;
}

export interface ServerMessagesTable extends Common {
  session_id: string;
  run_id: string | null;
  role: string;
  content: string;
  created_at: ServerTime;
}

export interface ServerProposalsTable extends Common {
  run_id: string;
  session_id: string;
  status: string;
  summary: string;
  files: Json;
  diff: string;
  detail: string | null;
  evidence: ColumnType<unknown, string | null, string | null>;
  created_at: ServerTime;
  decided_at: OptionalServerTime;
}

export interface ServerDatabase {
  sessions: ServerSessionsTable;
  runs: ServerRunsTable;
  messages: ServerMessagesTable;
  proposals: ServerProposalsTable;
  schema_migrations: { name: string; applied_at: ServerOwned<Date> };
}

export type ServerTable = 'sessions' | 'runs' | 'messages' | 'proposals';
export const SERVER_TABLES: readonly ServerTable[] = ['sessions', 'runs', 'proposals', 'messages'];
