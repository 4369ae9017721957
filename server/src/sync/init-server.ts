import type { Client as PgClient } from 'pg';
import { checkServerSchema, INIT_SERVER_LOCK_SQL, initServerBody, MemberNameError, memberRoleName } from './server-schema.js';

/** init-server could not finish; the message is one line for the CLI (never the password, never a stack). */
export class InitServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InitServerError';
  }
}

/** The oldest server with pg_current_xact_id() and xid8, which the pull cursor is built on. */
const OLDEST_SERVER_VERSION = 130000;

/**
 * Creates or upgrades the team schema and the member roles in one transaction, as `superuserUrl`.
 * `applied` names the migrations this run applied (empty when the schema was already current);
 * `members` the member roles now created or granted.
 */
export async function runInitServer(superuserUrl: string, members: string[]): Promise<{ applied: string[]; members: string[] }> {
  let body: string;
  try {
    members.forEach(memberRoleName);
    body = initServerBody(members);
  } catch (error) {
    if (error instanceof MemberNameError) throw new InitServerError(error.message, { cause: error });
    throw error;
  }
  // Loaded here, not at the top: the LSP server starts without ever needing pg.
  const { default: pg } = await import('pg');
  let client: PgClient;
  try {
    client = new pg.Client({ connectionString: superuserUrl });
  } catch (error) {
    throw new InitServerError(`invalid team server URL: ${oneLine(error)}`, { cause: error });
  }
  // An idle client's socket error is otherwise an unhandled 'error' event that kills the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new InitServerError(`cannot connect to the team server ${where(superuserUrl)}: ${oneLine(error)}`, { cause: error });
  }
  try {
    const version = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    if (Number(version.rows[0]?.server_version_num) < OLDEST_SERVER_VERSION) {
      throw new InitServerError(`the team server runs PostgreSQL ${version.rows[0]?.server_version_num}; codebench needs PostgreSQL 13 or newer`);
    }
    await client.query('BEGIN');
    await client.query(INIT_SERVER_LOCK_SQL);
    const before = await appliedMigrations(client);
    const check = checkServerSchema(before);
    // An older codebench re-running its grants over a newer schema could undo the newer one's work.
    if (!check.ok && check.reason === 'newer') throw new InitServerError(check.message);
    await client.query(body);
    const after = await appliedMigrations(client);
    await client.query('COMMIT');
    return { applied: after.filter((name) => !before.includes(name)), members: [...members] };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if (error instanceof InitServerError) throw error;
    throw new InitServerError(`init-server failed: ${oneLine(error)}${hint(error)}`, { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
}

async function appliedMigrations(client: PgClient): Promise<string[]> {
  const table = await client.query<{ present: boolean }>(`SELECT to_regclass('codebench.schema_migrations') IS NOT NULL AS present`);
  if (!table.rows[0]?.present) return [];
  const result = await client.query<{ name: string }>('SELECT name FROM codebench.schema_migrations ORDER BY name');
  return result.rows.map((row) => row.name);
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message || String((error as { code?: unknown }).code ?? error.name) : String(error);
  return message.replace(/\s+/g, ' ').trim();
}

/** What the admin can do about the common failures; the server's words alone rarely say it. */
function hint(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === '42501') return ' (init-server needs a superuser, or a role that may create roles and schemas)';
  return '';
}

/** host:port/database of the URL, for messages; never the user's password. */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
