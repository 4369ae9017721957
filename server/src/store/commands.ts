import { sql, type Kysely } from 'kysely';
import { now } from './clock.js';
import type { AuditKind, Database } from './schema.js';

export type { AuditKind } from './schema.js';

export interface CommandRuleRecord {
  id: number;
  workspaceUri: string;
  kind: 'allow' | 'deny';
  /** Literal words; a trailing "*" allows any further arguments. */
  argv: string[];
  createdAt: string;
}

export interface AuditEntry {
  workspaceUri: string;
  kind: AuditKind;
  sessionId?: string;
  runId?: string;
  /** The command text, or a proposal's summary. */
  subject: string;
  /** Kind-specific facts: `by` ('rule' | 'user' | 'timeout' | 'policy'), `exitCode`, `durationMs`, `proposalId`… */
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'sessionId' | 'runId'>> {
  id: number;
  at: string;
  sessionId?: string;
  runId?: string;
}

/** Adding an existing rule is a no-op that returns the existing one. */
export async function addCommandRule(
  db: Kysely<Database>,
  input: { workspaceUri: string; kind: 'allow' | 'deny'; argv: string[] },
): Promise<CommandRuleRecord> {
  const argv = JSON.stringify(input.argv);
  await db
    .insertInto('command_rules')
    .values({ workspace_uri: input.workspaceUri, kind: input.kind, argv, created_at: now() })
    .onConflict((oc) => oc.columns(['workspace_uri', 'kind', 'argv']).doNothing())
    .execute();
  const row = await db
    .selectFrom('command_rules')
    .selectAll()
    .where('workspace_uri', '=', input.workspaceUri)
    .where('kind', '=', input.kind)
    .where('argv', '=', argv)
    .executeTakeFirstOrThrow();
  return toRule(row);
}

/** Oldest first. */
export async function listCommandRules(db: Kysely<Database>, workspaceUri: string): Promise<CommandRuleRecord[]> {
  const rows = await db.selectFrom('command_rules').selectAll().where('workspace_uri', '=', workspaceUri).orderBy('id', 'asc').execute();
  return rows.map(toRule);
}

/** True when a rule was removed. The workspace is part of the key so one window cannot drop another's rules by id. */
export async function removeCommandRule(db: Kysely<Database>, workspaceUri: string, id: number): Promise<boolean> {
  const result = await db.deleteFrom('command_rules').where('workspace_uri', '=', workspaceUri).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function appendAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: now(),
      workspace_uri: entry.workspaceUri,
      kind: entry.kind,
      session_id: entry.sessionId ?? null,
      run_id: entry.runId ?? null,
      subject: entry.subject,
      detail: JSON.stringify(entry.detail ?? {}),
    })
    .execute();
}

/** Newest first; without a workspace, every workspace's entries. Default limit 100. */
export async function listAudit(db: Kysely<Database>, input: { workspaceUri?: string; limit?: number }): Promise<AuditRecord[]> {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(input.limit ?? 100);
  if (input.workspaceUri !== undefined) query = query.where('workspace_uri', '=', input.workspaceUri);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    workspaceUri: row.workspace_uri,
    kind: row.kind,
    ...(row.session_id === null ? {} : { sessionId: row.session_id }),
    ...(row.run_id === null ? {} : { runId: row.run_id }),
    subject: row.subject,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  }));
}

/** The workspace a session belongs to (for audit entries recorded from a proposal). */
export async function sessionWorkspaceUri(db: Kysely<Database>, sessionId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('workspaces', 'workspaces.id', 'sessions.workspace_id')
    .select(sql<string>`workspaces.uri`.as('uri'))
    .where('sessions.id', '=', sessionId)
    .executeTakeFirst();
  return row?.uri;
}

function toRule(row: { id: number; workspace_uri: string; kind: 'allow' | 'deny'; argv: string; created_at: string }): CommandRuleRecord {
  return { id: row.id, workspaceUri: row.workspace_uri, kind: row.kind, argv: JSON.parse(row.argv) as string[], createdAt: row.created_at };
}
