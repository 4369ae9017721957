import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describeSyncError } from './connection-errors.js';
import { connectSyncClient, type SyncConnection } from './connection-settings.js';
import { checkServerSchema } from './server-schema.js';
import type { ServerDatabase } from './server-tables.js';

/**
 * An open connection to the team's PostgreSQL whose schema this codebench understands. Opening
 * checks that first: a server set up by a newer codebench (an unknown migration) or never set up
 * is refused with the one thing to do, before anything is written.
 */
export interface TeamServer {
  db: Kysely<ServerDatabase>;
  /** The role we are connected as: the author of every row we push. */
  role: string;
  close(): Promise<void>;
}

/** A problem the user must fix on the server side (schema, membership): retrying alone will not help. */
export class TeamServerSetupError extends Error {}

/** Any failure to use the team server, as the one line `sync status` and `doctor` show. */
export function teamServerProblem(error: unknown, display: string): string {
  return error instanceof TeamServerSetupError ? error.message : describeSyncError(error, display);
}

export async function openTeamServer(connection: SyncConnection): Promise<TeamServer> {
  // One probe connection first: it settles sslmode=prefer's fallback and fails fast with pg's own
  // error (refused, wrong password, no TLS) before a pool exists.
  const { client, config } = await connectSyncClient(connection);
  try {
    await checkSchema(client, connection.role);
  } finally {
    await client.end().catch(() => undefined);
  }
  const pool = new pg.Pool({ ...config, max: 2, idleTimeoutMillis: 10_000 });
  // A server that goes away emits 'error' on idle clients; unhandled, that would end the process.
  pool.on('error', () => undefined);
  const db = new Kysely<ServerDatabase>({ dialect: new PostgresDialect({ pool }) });
  return { db, role: connection.role, close: () => db.destroy() };
}

async function checkSchema(client: pg.Client, role: string): Promise<void> {
  let names: string[];
  try {
    const result = await client.query<{ name: string }>('SELECT name FROM codebench.schema_migrations ORDER BY name');
    names = result.rows.map((row) => row.name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 42P01 undefined table, 3F000 undefined schema: nobody ran init-server on this database.
    if (code === '42P01' || code === '3F000') names = [];
    // 42501 insufficient privilege: the role exists but is not a member.
    else if (code === '42501') {
      throw new TeamServerSetupError(`role "${role}" is not a codebench member on the team server: an admin runs \`codebench sync init-server --member ${role}\``);
    } else throw error;
  }
  const check = checkServerSchema(names);
  if (!check.ok) throw new TeamServerSetupError(check.message);
}
