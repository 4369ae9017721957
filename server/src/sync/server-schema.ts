/**
 * The team server's schema (PostgreSQL, schema `codebench`) as plain SQL, so that
 * `codebench sync init-server --print` can hand an administrator the exact script it would run.
 * Every part is idempotent: the printed script may be run again, and by several admins at once
 * (one transaction under an advisory lock).
 */

/** A member name that cannot safely or sensibly be a PostgreSQL role; the message is one line for the CLI. */
export class MemberNameError extends Error {
  constructor(
    message: string,
    readonly memberName: string,
  ) {
    super(message);
    this.name = 'MemberNameError';
  }
}

/** The group role every member is granted; the row-level security policies name it. */
export const MEMBER_GROUP_ROLE = 'codebench_member';

/** The four synced tables, in the order the engine pushes them. */
export const TEAM_TABLES = ['sessions', 'runs', 'messages', 'proposals'] as const;

/** Any fixed number: all runs of init-server on one database take this lock, so they run one at a time. */
export const INIT_SERVER_LOCK_KEY = 0x636f6465; // "code"

const TABLE_DEFINITIONS = `
CREATE TABLE codebench.sessions (
  id uuid PRIMARY KEY,
  workspace text NOT NULL,
  author text NOT NULL DEFAULT current_user,
  title text NOT NULL,
  provider text NOT NULL,
  continues_session_id uuid,
  message_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  deleted_at timestamptz,
  change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE TABLE codebench.runs (
  id uuid PRIMARY KEY,
  session_id uuid NOT NULL,
  workspace text NOT NULL,
  author text NOT NULL DEFAULT current_user,
  provider text NOT NULL,
  model text NOT NULL,
  instruction text NOT NULL,
  status text NOT NULL,
  error text,
  input_tokens integer,
  output_tokens integer,
  started_at timestamptz NOT NULL,
  first_token_at timestamptz,
  finished_at timestamptz,
  change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE TABLE codebench.messages (
  id uuid PRIMARY KEY,
  session_id uuid NOT NULL,
  run_id uuid,
  workspace text NOT NULL,
  author text NOT NULL DEFAULT current_user,
  role text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  content text NOT NULL,
  created_at timestamptz NOT NULL,
  change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE TABLE codebench.proposals (
  id uuid PRIMARY KEY,
  run_id uuid NOT NULL,
  session_id uuid NOT NULL,
  workspace text NOT NULL,
  author text NOT NULL DEFAULT current_user,
  status text NOT NULL,
  summary text NOT NULL,
  files jsonb NOT NULL,
  diff text NOT NULL,
  detail text,
  evidence jsonb,
  created_at timestamptz NOT NULL,
  decided_at timestamptz,
  change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX sessions_workspace_updated ON codebench.sessions (workspace, updated_at DESC);
CREATE INDEX runs_session ON codebench.runs (session_id);
CREATE INDEX messages_session_created ON codebench.messages (session_id, created_at);
CREATE INDEX proposals_session ON codebench.proposals (session_id);
-- The pull cursor is server-assigned: a client-supplied change_xid (a forged or far-future cursor)
-- would hide rows from teammates, so every write takes the writing transaction's id. search_path is
-- pinned so a member's temporary objects cannot stand in for pg_catalog functions.
CREATE FUNCTION codebench.set_change_xid() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $function$
BEGIN
  NEW.change_xid := pg_catalog.pg_current_xact_id();
  RETURN NEW;
END
$function$;
`;

/**
 * Per table: the pull-cursor index, the change_xid trigger, row-level security (FORCE, so an owner
 * that is not a superuser is held to it too) and the member policies. Writes are refused, not
 * fixed, when the author is not the writer; writing as the group role itself (SET ROLE
 * codebench_member) is refused so no member can write rows that every member could then rewrite.
 */
function tableSecurity(table: string): string {
  const ownRow = `author = current_user`;
  const writableRow = `author = current_user AND current_user <> '${MEMBER_GROUP_ROLE}'`;
  return `
CREATE INDEX ${table}_change_cursor ON codebench.${table} (change_xid, id);
CREATE TRIGGER ${table}_change_xid BEFORE INSERT OR UPDATE ON codebench.${table} FOR EACH ROW EXECUTE FUNCTION codebench.set_change_xid();
ALTER TABLE codebench.${table} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY member_select ON codebench.${table} FOR SELECT TO ${MEMBER_GROUP_ROLE} USING (true);
CREATE POLICY member_insert ON codebench.${table} FOR INSERT TO ${MEMBER_GROUP_ROLE} WITH CHECK (${writableRow});
CREATE POLICY member_update ON codebench.${table} FOR UPDATE TO ${MEMBER_GROUP_ROLE} USING (${ownRow}) WITH CHECK (${writableRow});
CREATE POLICY member_delete ON codebench.${table} FOR DELETE TO ${MEMBER_GROUP_ROLE} USING (${ownRow});
GRANT SELECT, INSERT, UPDATE, DELETE ON codebench.${table} TO ${MEMBER_GROUP_ROLE};
`;
}

/** Ordered; a name, once released, never changes (clients compare names to detect a newer server). */
export const SERVER_MIGRATIONS: ReadonlyArray<{ name: string; sql: string }> = [
  { name: '0001_team_history', sql: TABLE_DEFINITIONS + TEAM_TABLES.map(tableSecurity).join('') },
];

export const KNOWN_SERVER_MIGRATIONS: readonly string[] = SERVER_MIGRATIONS.map((migration) => migration.name);

export type ServerSchemaCheck = { ok: true } | { ok: false; reason: 'missing' | 'newer'; message: string };

/** Compares the server's applied migration names with the ones this codebench knows (`known`: for tests). */
export function checkServerSchema(appliedNames: string[], known: readonly string[] = KNOWN_SERVER_MIGRATIONS): ServerSchemaCheck {
  const unknown = appliedNames.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    return {
      ok: false,
      reason: 'newer',
      message: `the team server's schema is newer than this codebench (it has migration ${unknown[0]}): upgrade codebench`,
    };
  }
  if (appliedNames.length === 0) {
    return {
      ok: false,
      reason: 'missing',
      message: 'the team server has no codebench schema: ask a database administrator to run `codebench sync init-server`',
    };
  }
  const missing = known.filter((name) => !appliedNames.includes(name));
  if (missing.length > 0) {
    return {
      ok: false,
      reason: 'missing',
      message: `the team server's schema is older than this codebench (missing ${missing.join(', ')}): run \`codebench sync init-server\` to upgrade the schema`,
    };
  }
  return { ok: true };
}

/** Longest role name PostgreSQL keeps (NAMEDATALEN - 1 bytes); a longer one would be silently truncated. */
const MAX_ROLE_NAME_BYTES = 63;
/** Names PostgreSQL gives a meaning of its own in role positions, and our group role. */
const RESERVED_ROLE_NAMES = new Set(['public', 'none', 'current_user', 'current_role', 'session_user', 'all', MEMBER_GROUP_ROLE]);

/**
 * The member name as a role name, or a MemberNameError. Plain letters, digits and `_ . - @` only
 * (`@` and `.` for e-mail-style cloud logins): anything else is more likely a typo or an
 * injection than a teammate, and would need quoting everywhere the admin types it.
 */
export function memberRoleName(name: string): string {
  const refuse = (why: string) => new MemberNameError(`invalid member name ${JSON.stringify(name)}: ${why}`, name);
  if (name.length === 0) throw refuse('it is empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_ROLE_NAME_BYTES) throw refuse(`PostgreSQL role names are at most ${MAX_ROLE_NAME_BYTES} bytes`);
  if (!/^[A-Za-z_][A-Za-z0-9_.@-]*$/.test(name)) throw refuse('use letters, digits and _ . - @ only, starting with a letter or _');
  if (name.toLowerCase().startsWith('pg_')) throw refuse('names starting with pg_ are reserved by PostgreSQL');
  if (RESERVED_ROLE_NAMES.has(name.toLowerCase())) throw refuse('that name is reserved');
  return name;
}

export const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

function memberSql(name: string): string {
  const literal = quoteLiteral(memberRoleName(name));
  const identifier = quoteIdentifier(name);
  return `
DO $member$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${literal}) THEN
    CREATE ROLE ${identifier} LOGIN IN ROLE ${MEMBER_GROUP_ROLE};
  ELSIF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN pg_catalog.pg_roles r ON r.oid = m.member
                    WHERE g.rolname = '${MEMBER_GROUP_ROLE}' AND r.rolname = ${literal}) THEN
    GRANT ${MEMBER_GROUP_ROLE} TO ${identifier};
  END IF;
END
$member$;
`;
}

function migrationSql(migration: { name: string; sql: string }): string {
  // Both are ours, but a broken quote here would turn into a half-applied schema: check, not trust.
  if (!/^\d{4}_[a-z0-9_]+$/.test(migration.name) || migration.sql.includes('$migration$')) throw new Error(`bad server migration ${migration.name}`);
  return `
DO $outer$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM codebench.schema_migrations WHERE name = '${migration.name}') THEN
    EXECUTE $migration$${migration.sql}$migration$;
    INSERT INTO codebench.schema_migrations (name) VALUES ('${migration.name}');
  END IF;
END
$outer$;
`;
}

/** The lock statement; it must come first in the transaction so concurrent runs queue behind it. */
export const INIT_SERVER_LOCK_SQL = `SELECT pg_advisory_xact_lock(${INIT_SERVER_LOCK_KEY});`;

/**
 * Everything after BEGIN and the lock: schema, group role, migrations, the bootstrap grants, then
 * the members. Throws a MemberNameError before producing any SQL when a name is refused.
 */
export function initServerBody(members: string[]): string {
  const memberStatements = members.map(memberSql);
  const known = KNOWN_SERVER_MIGRATIONS.map(quoteLiteral).join(', ');
  // An older codebench re-running its grants over a newer schema could undo the newer one's work.
  // (Nested IFs: the inner query is planned only once the table is known to exist.)
  return `
DO $newer$
BEGIN
  IF to_regclass('codebench.schema_migrations') IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM codebench.schema_migrations WHERE name <> ALL (ARRAY[${known}])) THEN
      RAISE EXCEPTION 'the team server''s schema is newer than this codebench: upgrade codebench';
    END IF;
  END IF;
END
$newer$;
CREATE SCHEMA IF NOT EXISTS codebench;
DO $group$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '${MEMBER_GROUP_ROLE}') THEN
    CREATE ROLE ${MEMBER_GROUP_ROLE} NOLOGIN;
  END IF;
END
$group$;
CREATE TABLE IF NOT EXISTS codebench.schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
${SERVER_MIGRATIONS.map(migrationSql).join('')}
-- Members read the migration names to refuse a server newer than their codebench.
GRANT USAGE ON SCHEMA codebench TO ${MEMBER_GROUP_ROLE};
GRANT SELECT ON codebench.schema_migrations TO ${MEMBER_GROUP_ROLE};
${memberStatements.join('')}`;
}

/** The whole script init-server runs, for an admin to read or run with `psql -v ON_ERROR_STOP=1 -f`. */
export function initServerSql(members: string[]): string {
  const body = initServerBody(members);
  return `-- codebench team server schema; safe to run again. Run as a superuser (or a role with CREATEROLE that may create schemas).
BEGIN;
${INIT_SERVER_LOCK_SQL}
-- Quiet re-runs: only warnings and errors ("already exists, skipping" is the expected case).
SET LOCAL client_min_messages = warning;
${body}
COMMIT;
`;
}
