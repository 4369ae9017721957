import { parseSyncUrl } from '../config/schema.js';

/**
 * Team-server failures as one line a user can act on: what happened, where, what to do. Built
 * from error codes (Node's and PostgreSQL's SQLSTATE), never from a stack, and never with the
 * password: the only URL shown is `display`, which has none.
 */

export type SyncErrorKind =
  | 'refused'
  | 'unknown-host'
  | 'timeout'
  | 'reset'
  | 'too-many-connections'
  | 'server-starting'
  | 'no-password'
  | 'wrong-password'
  | 'no-such-role'
  | 'cannot-login'
  | 'no-such-database'
  | 'pg-hba'
  | 'tls-not-offered'
  | 'certificate'
  | 'other';

interface ErrorFields {
  code?: string;
  message: string;
  hostname?: string;
  address?: string;
  port?: number;
}

/** Node 20 tries every address of a name ("localhost": ::1 and 127.0.0.1) and reports an AggregateError. */
function fieldsOf(error: unknown): ErrorFields {
  if (!(error instanceof Error)) return { message: String(error) };
  const own = error as Error & Partial<ErrorFields> & { errors?: unknown[] };
  const inner = own.errors?.[0] instanceof Error ? (own.errors[0] as Error & Partial<ErrorFields>) : undefined;
  return {
    code: own.code ?? inner?.code,
    message: own.message || inner?.message || '',
    hostname: own.hostname ?? inner?.hostname,
    address: own.address ?? inner?.address,
    port: own.port ?? inner?.port,
  };
}

const CERTIFICATE_CODES = /^(?:ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(?:VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT(?:_LOCALLY)?)|CERT_[A-Z_]+)$/;

export function classifySyncError(error: unknown): SyncErrorKind {
  const { code = '', message } = fieldsOf(error);
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'unknown-host';
  if (code === 'ETIMEDOUT' || code === '57014' || /timeout expired|connection timeout|query read timeout/i.test(message)) return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === '57P01' || /terminated unexpectedly/i.test(message)) return 'reset';
  if (code === '53300') return 'too-many-connections';
  if (code === '57P03') return 'server-starting';
  if (/client password must be a (?:non-empty )?string/i.test(message)) return 'no-password';
  if (code === '28P01') return 'wrong-password';
  if (code === '28000' && /role ".*" does not exist/i.test(message)) return 'no-such-role';
  if (code === '28000' && /not permitted to log in/i.test(message)) return 'cannot-login';
  if (code === '28000') return 'pg-hba';
  if (code === '3D000') return 'no-such-database';
  if (/server does not support SSL/i.test(message)) return 'tls-not-offered';
  if (CERTIFICATE_CODES.test(code) || /certificate/i.test(message)) return 'certificate';
  return 'other';
}

/**
 * Whether a failure may go away by itself. The sync loop retries everything (a user fixing a
 * password should not have to restart the editor), but on two schedules:
 * - transient (true): refused, timeout, reset, too many connections, server starting up: the
 *   server or the network is briefly away; retry soon with exponential backoff.
 * - lasting (false): authentication, TLS and certificates, unknown database or host, pg_hba,
 *   anything unknown: a person must change something; retry rarely (minutes) and report once.
 */
export function isTransient(error: unknown): boolean {
  const kind = classifySyncError(error);
  return kind === 'refused' || kind === 'timeout' || kind === 'reset' || kind === 'too-many-connections' || kind === 'server-starting';
}

function place(display: string): { where: string; role: string; database: string; sslmode: string } {
  const parsed = parseSyncUrl(display);
  if (!parsed.ok) return { where: 'the team server', role: '?', database: '?', sslmode: '?' };
  const { host, port, user, database, sslmode } = parsed.url;
  const where = host.startsWith('/') ? `${host} (Unix socket, port ${port})` : `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { where, role: user, database, sslmode };
}

/** A server or library message made safe for one line: no second line, no URL credentials, bounded. */
function oneLine(text: string): string {
  const line = text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

const PASSWORD_HOW = 'set the variable named by sync.passwordEnv, or store it with `codebench keys set sync`';

/** One line for the user; `display` is sync.url without the password (connection-settings.ts). */
export function describeSyncError(error: unknown, display: string): string {
  const fields = fieldsOf(error);
  const { where, role, database, sslmode } = place(display);
  const server = `the team server at ${where}`;
  switch (classifySyncError(error)) {
    case 'refused': {
      const at = fields.address && fields.port ? `${fields.address.includes(':') ? `[${fields.address}]` : fields.address}:${fields.port}` : where;
      return `Cannot reach the team server: connection refused at ${at} (is PostgreSQL running and listening there? check host and port in sync.url)`;
    }
    case 'unknown-host':
      return `Cannot reach the team server: unknown host "${fields.hostname ?? where}" (check the host in sync.url, and the network or VPN)`;
    case 'timeout':
      return /query read timeout|57014/i.test(`${fields.message} ${fields.code ?? ''}`)
        ? `A query on ${server} took too long and was abandoned`
        : `Cannot reach the team server: ${where} did not answer in time (a firewall, a wrong port, or an overloaded server)`;
    case 'reset':
      return `The connection to ${server} was closed unexpectedly; retrying`;
    case 'too-many-connections':
      return `${capital(server)} has too many connections right now; retrying later`;
    case 'server-starting':
      return `${capital(server)} is starting up; retrying`;
    case 'no-password':
      return `${capital(server)} asks for a password for role "${role}" and none is set: ${PASSWORD_HOW}`;
    case 'wrong-password':
      return `${capital(server)} refused the password for role "${role}" (wrong password, or no such role): ${PASSWORD_HOW}`;
    case 'no-such-role':
      return `${capital(server)} has no role "${role}": ask its admin to run \`codebench sync init-server --member ${role}\``;
    case 'cannot-login':
      return `${capital(server)} does not let role "${role}" log in: ask its admin to run \`codebench sync init-server --member ${role}\``;
    case 'pg-hba':
      return `${capital(server)} refuses this connection in its pg_hba.conf (${oneLine(fields.message)}): ask its admin to allow it`;
    case 'no-such-database':
      return `${capital(server)} has no database "${database}": check the database in sync.url, or create it and run \`codebench sync init-server\``;
    case 'tls-not-offered':
      return `TLS required (sslmode=${sslmode}) but the server at ${where} does not offer it: enable ssl on the server, or lower sslmode in sync.url if plain text on this network is acceptable`;
    case 'certificate': {
      const detail = oneLine(`${fields.code ? `${fields.code}: ` : ''}${fields.message}`);
      if (fields.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        return `${capital(server)} presented a certificate for another host name (${detail}): write the host the certificate names in sync.url, or use sslmode=verify-ca`;
      }
      return `${capital(server)} presented a certificate that cannot be trusted with sslmode=${sslmode} (${detail}): name its CA with sslrootcert=FILE in sync.url`;
    }
    case 'other': {
      const sqlState = fields.code && /^[0-9A-Z]{5}$/.test(fields.code) ? ` (SQLSTATE ${fields.code})` : '';
      return `Team sync with ${server} failed: ${oneLine(fields.message) || 'unknown error'}${sqlState}`;
    }
  }
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
