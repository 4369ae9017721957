import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { parseSyncUrl, type ResolvedSyncConfig, type SyncSslMode, type SyncUrl } from '../config/schema.js';
import type { Keychain } from '../providers/keychain.js';

/** The keychain entry of the team server password: `codebench keys set sync`. */
export const SYNC_KEYCHAIN_ACCOUNT = 'sync';

/** Settings for one pg.Client / pg.Pool. Every field is explicit: no connectionString (see below). */
export type SyncClientConfig = pg.ClientConfig & {
  host: string;
  port: number;
  user: string;
  database: string;
  ssl: false | ConnectionOptions;
};

export interface SyncConnection {
  ok: true;
  /** The settings of the first attempt. */
  pg: SyncClientConfig;
  /**
   * sslmode=prefer only (libpq's default): the same settings without TLS, for when the server
   * answers the TLS request with "no". connectSyncClient makes that second attempt.
   */
  withoutTls?: SyncClientConfig;
  sslmode: SyncSslMode;
  /** The PostgreSQL role we log in as: the author of every record we push. */
  role: string;
  /** sync.url without any password, for messages. */
  display: string;
  /** Where the password came from, for `codebench doctor`; never the password itself. */
  passwordFrom: 'environment' | 'keychain' | 'none';
}

export type SyncConnectionResult = SyncConnection | { ok: false; message: string };

const CONNECT_TIMEOUT_MS = 5000;
const STATEMENT_TIMEOUT_MS = 30_000;

/** sync.url for messages: the user part keeps the role, never a password. */
export function displaySyncUrl(text: string): string {
  try {
    const url = new URL(text);
    url.password = '';
    url.searchParams.delete('password');
    url.searchParams.delete('sslpassword');
    return url.toString();
  } catch {
    return '(sync.url)';
  }
}

/**
 * libpq's sslmode, which pg itself does not follow: pg 8 reads require/prefer/verify-ca as
 * verify-full, and falls back to plain text for none of them. Ours:
 * - disable: plain text.
 * - prefer (also when the URL names no sslmode): TLS without checking the certificate; plain
 *   text when the server offers no TLS (connectSyncClient's second attempt).
 * - require: TLS or nothing (a server without TLS is an error, never a silent fallback); the
 *   certificate is checked only against sslrootcert when one is named (libpq's rule).
 * - verify-ca: TLS, certificate signed by sslrootcert; any host name.
 * - verify-full: TLS, certificate signed by sslrootcert (or a system CA) for this host name.
 * libpq ignores sslmode on Unix sockets, and so do we.
 */
function tlsOptions(url: SyncUrl): { ok: true; ssl: false | ConnectionOptions } | { ok: false; message: string } {
  if (url.sslmode === 'disable' || url.host.startsWith('/')) return { ok: true, ssl: false };
  const files: ConnectionOptions = {};
  const read = (parameter: 'sslrootcert' | 'sslcert' | 'sslkey') => {
    const path = url.parameters[parameter];
    // "system" is libpq's word for the system's CAs, which Node uses when no `ca` is given.
    if (!path || (parameter === 'sslrootcert' && path === 'system')) return undefined;
    return readFileSync(path, 'utf8');
  };
  try {
    files.ca = read('sslrootcert');
    files.cert = read('sslcert');
    files.key = read('sslkey');
  } catch (error) {
    const { code, path } = error as NodeJS.ErrnoException;
    return { ok: false, message: `sync.url names a TLS file that cannot be read: ${path ?? '?'} (${code ?? (error as Error).message})` };
  }
  for (const key of ['ca', 'cert', 'key'] as const) if (files[key] === undefined) delete files[key];
  const anyName = () => undefined;
  switch (url.sslmode) {
    case 'prefer':
      return { ok: true, ssl: { ...files, rejectUnauthorized: false } };
    case 'require':
      return { ok: true, ssl: files.ca ? { ...files, checkServerIdentity: anyName } : { ...files, rejectUnauthorized: false } };
    case 'verify-ca':
      return { ok: true, ssl: { ...files, rejectUnauthorized: true, checkServerIdentity: anyName } };
    case 'verify-full':
      return { ok: true, ssl: { ...files, rejectUnauthorized: true } };
  }
}

async function findPassword(
  sync: ResolvedSyncConfig,
  env: NodeJS.ProcessEnv,
  keychain: Pick<Keychain, 'get'>,
): Promise<{ password?: string; from: SyncConnection['passwordFrom'] }> {
  const fromEnv = sync.passwordEnv ? env[sync.passwordEnv] : undefined;
  if (fromEnv) return { password: fromEnv, from: 'environment' };
  try {
    const stored = await keychain.get(SYNC_KEYCHAIN_ACCOUNT);
    if (stored) return { password: stored, from: 'keychain' };
  } catch {
    // No keychain on this machine is no error: the server may trust us without a password
    // (pg_hba trust, peer, cert, ~/.pgpass), and if it does not, its refusal says so.
  }
  return { from: 'none' };
}

/**
 * What pg needs to reach the team server, or a one-line reason it cannot be built. The fields are
 * given one by one rather than as a connectionString: pg parses a connectionString again and lets
 * it override `ssl`, which would bring back pg's own reading of sslmode.
 */
export async function resolveSyncConnection(
  sync: ResolvedSyncConfig,
  env: NodeJS.ProcessEnv,
  keychain: Pick<Keychain, 'get'>,
): Promise<SyncConnectionResult> {
  const parsed = parseSyncUrl(sync.url);
  // The config refuses such a URL already; this guards a caller that built the config by hand.
  if (!parsed.ok) return { ok: false, message: `sync.url ${parsed.reason}` };
  const url = parsed.url;
  const tls = tlsOptions(url);
  if (!tls.ok) return tls;
  const { password, from } = await findPassword(sync, env, keychain);
  const connectTimeout = Number(url.parameters.connect_timeout);
  const base: SyncClientConfig = {
    host: url.host,
    port: url.port,
    user: url.user,
    database: url.database,
    ssl: tls.ssl,
    // libpq's connect_timeout (seconds) when the URL sets one; 2 s is libpq's minimum.
    connectionTimeoutMillis: connectTimeout > 0 ? Math.max(2, connectTimeout) * 1000 : CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS,
    application_name: 'codebench',
    keepAlive: true,
    ...(url.parameters.options ? { options: url.parameters.options } : {}),
  };
  if (password !== undefined) base.password = password;
  const withoutTls = url.sslmode === 'prefer' && tls.ssl !== false ? { ...base, ssl: false as const } : undefined;
  return {
    ok: true,
    pg: base,
    ...(withoutTls ? { withoutTls } : {}),
    sslmode: url.sslmode,
    role: url.user,
    display: displaySyncUrl(sync.url),
    passwordFrom: from,
  };
}

/** pg's words when the server answers the SSLRequest with "N". */
export function isTlsNotOffered(error: unknown): boolean {
  return error instanceof Error && /server does not support SSL/i.test(error.message);
}

/**
 * A connected client, with libpq's sslmode=prefer fallback: when the server offers no TLS, a
 * second attempt in plain text. `config` is the settings that worked, for a pg.Pool.
 */
export async function connectSyncClient(
  connection: SyncConnection,
  createClient: (config: SyncClientConfig) => pg.Client = (config) => new pg.Client(config),
): Promise<{ client: pg.Client; config: SyncClientConfig }> {
  const attempt = async (config: SyncClientConfig) => {
    const client = createClient(config);
    // A server that goes away later emits 'error' on the client; unhandled, that kills the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  };
  try {
    return { client: await attempt(connection.pg), config: connection.pg };
  } catch (error) {
    if (!connection.withoutTls || !isTlsNotOffered(error)) throw error;
    return { client: await attempt(connection.withoutTls), config: connection.withoutTls };
  }
}
