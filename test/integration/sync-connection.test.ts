import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolvedSyncConfig } from '../../server/src/config/schema.js';
import { describeSyncError, isTransient } from '../../server/src/sync/connection-errors.js';
import { connectSyncClient, resolveSyncConnection, type SyncConnection } from '../../server/src/sync/connection-settings.js';
import { closedPort } from '../fakes/ports.js';

/**
 * Real pg clients against what is really on the wire: a closed port, a name that cannot resolve,
 * a server that accepts and says nothing, and a tiny speaker of PostgreSQL's startup protocol
 * that answers the TLS request with "N" (as a PostgreSQL built or configured without ssl does)
 * and then refuses the login with an ErrorResponse of our choosing.
 */

const PASSWORD = 'Sup3r-Secret-Sync-Pw';
const noKeychain: SyncKeychain = { get: async () => undefined };
type SyncKeychain = { get(account: string): Promise<string | undefined> };

function sync(url: string, extra: Partial<ResolvedSyncConfig> = {}): ResolvedSyncConfig {
  return { url, share: [], intervalSeconds: 30, ...extra };
}

async function settings(url: string, extra: Partial<ResolvedSyncConfig> = {}, env: NodeJS.ProcessEnv = {}, keychain: SyncKeychain = noKeychain): Promise<SyncConnection> {
  const result = await resolveSyncConnection(sync(url, extra), env, keychain);
  if (!result.ok) throw new Error(result.message);
  return result;
}

/** Connects for real; returns the one-line description of the failure. */
async function failure(connection: SyncConnection): Promise<{ line: string; transient: boolean; error: unknown }> {
  try {
    const { client } = await connectSyncClient(connection);
    await client.end();
  } catch (error) {
    return { line: describeSyncError(error, connection.display), transient: isTransient(error), error };
  }
  throw new Error('expected the connection to fail');
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(onSocket: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  }) as typeof server.close;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function errorResponse(code: string, text: string): Buffer {
  const fields = [['S', 'FATAL'], ['V', 'FATAL'], ['C', code], ['M', text]].map(([key, value]) => `${key}${value}\0`).join('');
  return message('E', Buffer.from(`${fields}\0`, 'utf8'));
}

interface Login {
  tlsRequests: number;
  startups: Array<Record<string, string>>;
  passwords: string[];
}

/**
 * A server that speaks just enough protocol: "N" to every SSLRequest; to a startup message,
 * optionally a cleartext password request (to see what the client sends), then `refusal`.
 */
async function fakePostgres(refusal: Buffer, askPassword: boolean): Promise<{ port: number; login: Login }> {
  const login: Login = { tlsRequests: 0, startups: [], passwords: [] };
  const port = await listen((socket) => {
    let buffered = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        // Before the startup message, messages have no type byte.
        const offset = started ? 1 : 0;
        if (buffered.length < offset + 4) return;
        const length = buffered.readInt32BE(offset);
        if (buffered.length < offset + length) return;
        const packet = buffered.subarray(0, offset + length);
        buffered = buffered.subarray(offset + length);
        if (!started) {
          const code = packet.readInt32BE(4);
          if (code === 80877103) {
            login.tlsRequests++;
            socket.write('N');
            continue;
          }
          const parts = packet.subarray(8).toString('utf8').split('\0');
          const parameters: Record<string, string> = {};
          for (let index = 0; index + 1 < parts.length && parts[index]; index += 2) parameters[parts[index]!] = parts[index + 1]!;
          login.startups.push(parameters);
          started = true;
          if (!askPassword) return void socket.end(refusal);
          const request = Buffer.alloc(4);
          request.writeInt32BE(3); // AuthenticationCleartextPassword
          socket.write(message('R', request));
        } else if (packet.toString('latin1', 0, 1) === 'p') {
          login.passwords.push(packet.subarray(5, packet.length - 1).toString('utf8'));
          return void socket.end(refusal);
        }
      }
    });
  });
  return { port, login };
}

describe('team server connection failures, as one line', () => {
  it('connection refused names host and port, and is transient', async () => {
    const port = await closedPort();
    const { line, transient } = await failure(await settings(`postgres://alice@127.0.0.1:${port}/codebench?sslmode=disable`));
    expect(line).toBe(`Cannot reach the team server: connection refused at 127.0.0.1:${port} (is PostgreSQL running and listening there? check host and port in sync.url)`);
    expect(transient).toBe(true);
  });

  it('an unknown host is named, and is not transient', async () => {
    const { line, transient } = await failure(await settings('postgres://alice@nothing.invalid:5432/codebench'));
    expect(line).toBe('Cannot reach the team server: unknown host "nothing.invalid" (check the host in sync.url, and the network or VPN)');
    expect(transient).toBe(false);
  });

  it('a server that accepts and never answers times out (connect_timeout from the URL)', async () => {
    const port = await listen(() => undefined);
    const connection = await settings(`postgres://alice@127.0.0.1:${port}/codebench?sslmode=disable&connect_timeout=2`);
    expect(connection.pg.connectionTimeoutMillis).toBe(2000);
    const started = Date.now();
    const { line, transient } = await failure(connection);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(line).toBe(`Cannot reach the team server: 127.0.0.1:${port} did not answer in time (a firewall, a wrong port, or an overloaded server)`);
    expect(transient).toBe(true);
  });

  it.each(['require', 'verify-full'])('sslmode=%s refuses a server without TLS instead of falling back', async (sslmode) => {
    const { port, login } = await fakePostgres(errorResponse('28P01', 'password authentication failed for user "alice"'), false);
    const { line, transient } = await failure(await settings(`postgres://alice@127.0.0.1:${port}/codebench?sslmode=${sslmode}`));
    expect(line).toBe(
      `TLS required (sslmode=${sslmode}) but the server at 127.0.0.1:${port} does not offer it: enable ssl on the server, or lower sslmode in sync.url if plain text on this network is acceptable`,
    );
    expect(transient).toBe(false);
    // Nothing went in plain text: no startup message, so no user name and no password.
    expect(login.tlsRequests).toBe(1);
    expect(login.startups).toEqual([]);
  });

  it.each(['?sslmode=prefer', ''])('sslmode=prefer (and no sslmode: %j) falls back to plain text, like libpq', async (query) => {
    const { port, login } = await fakePostgres(errorResponse('28P01', 'password authentication failed for user "alice"'), true);
    const connection = await settings(`postgres://alice@127.0.0.1:${port}/codebench${query}`, { passwordEnv: 'SYNC_PW' }, { SYNC_PW: PASSWORD });
    const { line, transient } = await failure(connection);
    expect(login.tlsRequests).toBe(1);
    expect(login.startups).toEqual([{ user: 'alice', database: 'codebench', client_encoding: 'UTF8', application_name: 'codebench', statement_timeout: '30000' }]);
    // The password from passwordEnv reached the server, and the message does not repeat it.
    expect(login.passwords).toEqual([PASSWORD]);
    expect(line).toBe(
      `The team server at 127.0.0.1:${port} refused the password for role "alice" (wrong password, or no such role): set the variable named by sync.passwordEnv, or store it with \`codebench keys set sync\``,
    );
    expect(line).not.toContain(PASSWORD);
    expect(transient).toBe(false);
  });

  it.each([
    ['3D000', 'database "codebench" does not exist', 'has no database "codebench": check the database in sync.url, or create it and run `codebench sync init-server`', false],
    [
      '28000',
      'no pg_hba.conf entry for host "127.0.0.1", user "alice", database "codebench", no encryption',
      'refuses this connection in its pg_hba.conf (no pg_hba.conf entry for host "127.0.0.1", user "alice", database "codebench", no encryption): ask its admin to allow it',
      false,
    ],
    ['28000', 'role "alice" does not exist', 'has no role "alice": ask its admin to run `codebench sync init-server --member alice`', false],
    ['28000', 'role "alice" is not permitted to log in', 'does not let role "alice" log in: ask its admin to run `codebench sync init-server --member alice`', false],
    ['53300', 'sorry, too many clients already', 'has too many connections right now; retrying later', true],
    ['57P03', 'the database system is starting up', 'is starting up; retrying', true],
    ['XX000', 'something odd\nwith a second line', undefined, false],
  ] as const)('SQLSTATE %s (%s)', async (code, text, expected, transientExpected) => {
    const { port } = await fakePostgres(errorResponse(code, text), false);
    const { line, transient } = await failure(await settings(`postgres://alice@127.0.0.1:${port}/codebench?sslmode=disable`));
    expect(line).toBe(expected ? `The team server at 127.0.0.1:${port} ${expected}` : `Team sync with the team server at 127.0.0.1:${port} failed: something odd with a second line (SQLSTATE XX000)`);
    expect(line).not.toContain('\n');
    expect(transient).toBe(transientExpected);
  });

  it('a server that closes the connection mid-login is a transient reset', async () => {
    const port = await listen((socket) => socket.once('data', () => socket.destroy()));
    const { line, transient } = await failure(await settings(`postgres://alice@127.0.0.1:${port}/codebench?sslmode=disable`));
    expect(line).toBe(`The connection to the team server at 127.0.0.1:${port} was closed unexpectedly; retrying`);
    expect(transient).toBe(true);
  });
});

describe('connection settings', () => {
  const url = 'postgres://alice@db.example:6543/team?sslmode=require';

  it('takes the password from passwordEnv first, then the keychain account "sync"; an unavailable keychain is no error', async () => {
    const accounts: string[] = [];
    const keychain = {
      get: async (account: string) => {
        accounts.push(account);
        return 'from-keychain';
      },
    };
    const fromEnv = await settings(url, { passwordEnv: 'SYNC_PW' }, { SYNC_PW: PASSWORD }, keychain);
    expect([fromEnv.pg.password, fromEnv.passwordFrom]).toEqual([PASSWORD, 'environment']);
    const emptyVariable = await settings(url, { passwordEnv: 'SYNC_PW' }, { SYNC_PW: '' }, keychain);
    expect([emptyVariable.pg.password, emptyVariable.passwordFrom]).toEqual(['from-keychain', 'keychain']);
    const noVariable = await settings(url, {}, { SYNC_PW: PASSWORD }, keychain);
    expect([noVariable.pg.password, noVariable.passwordFrom]).toEqual(['from-keychain', 'keychain']);
    expect(accounts).toEqual(['sync', 'sync']);
    const broken = { get: async () => Promise.reject(new Error('The OS keychain is not available')) };
    const none = await settings(url, {}, {}, broken);
    expect(none.passwordFrom).toBe('none');
    expect('password' in none.pg).toBe(false);
  });

  it('gives pg every field, never a connection string, with the timeouts and application name', async () => {
    const connection = await settings(url, { passwordEnv: 'SYNC_PW' }, { SYNC_PW: PASSWORD });
    expect(connection).toMatchObject({ role: 'alice', sslmode: 'require', display: url });
    expect(connection.pg).toMatchObject({
      host: 'db.example',
      port: 6543,
      user: 'alice',
      database: 'team',
      connectionTimeoutMillis: 5000,
      statement_timeout: 30_000,
      query_timeout: 30_000,
      application_name: 'codebench',
      ssl: { rejectUnauthorized: false },
    });
    expect(connection.pg).not.toHaveProperty('connectionString');
    expect(connection.withoutTls).toBeUndefined();
    expect(JSON.stringify({ ...connection, pg: { ...connection.pg, password: undefined } })).not.toContain(PASSWORD);
  });

  it('maps sslmode the way libpq does', async () => {
    expect((await settings('postgres://a@h/d?sslmode=disable')).pg.ssl).toBe(false);
    const prefer = await settings('postgres://a@h/d');
    expect([prefer.sslmode, prefer.pg.ssl, prefer.withoutTls?.ssl]).toEqual(['prefer', { rejectUnauthorized: false }, false]);
    const full = await settings('postgres://a@h/d?sslmode=verify-full');
    expect(full.pg.ssl).toEqual({ rejectUnauthorized: true });
    expect(full.withoutTls).toBeUndefined();
    // On a Unix socket libpq ignores sslmode.
    expect((await settings('postgres://a@/d?host=/var/run/postgresql&sslmode=require')).pg.ssl).toBe(false);
  });

  it('reports a TLS file that cannot be read, in one line', async () => {
    const result = await resolveSyncConnection(sync('postgres://a@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem'), {}, noKeychain);
    expect(result).toEqual({ ok: false, message: 'sync.url names a TLS file that cannot be read: /nonexistent/ca.pem (ENOENT)' });
  });
});

describe('describeSyncError on errors no fake server above produces', () => {
  const display = 'postgres://alice@db.example:5432/codebench?sslmode=verify-full';

  it('keeps an unknown message on one line, without URL credentials', () => {
    const error = Object.assign(new Error(`could not use postgres://alice:${PASSWORD}@db.example/codebench\n    at Object.<anonymous> (x.js:1:1)`), { code: 'XX001' });
    const line = describeSyncError(error, display);
    expect(line).toBe('Team sync with the team server at db.example:5432 failed: could not use postgres://db.example/codebench at Object.<anonymous> (x.js:1:1) (SQLSTATE XX001)');
    expect(line).not.toContain(PASSWORD);
  });

  it("reads Node's AggregateError (every address of a name refused)", () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}:5432`), { code: 'ECONNREFUSED', address, port: 5432 });
    const error = Object.assign(new AggregateError([refused('::1'), refused('127.0.0.1')], ''), { code: 'ECONNREFUSED' });
    expect(describeSyncError(error, 'postgres://alice@localhost/codebench')).toBe(
      'Cannot reach the team server: connection refused at [::1]:5432 (is PostgreSQL running and listening there? check host and port in sync.url)',
    );
    expect(isTransient(error)).toBe(true);
  });

  it('names certificate problems with the sslmode, and says what to do', () => {
    const selfSigned = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(describeSyncError(selfSigned, display)).toBe(
      'The team server at db.example:5432 presented a certificate that cannot be trusted with sslmode=verify-full (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate): name its CA with sslrootcert=FILE in sync.url',
    );
    const otherName = Object.assign(new Error("Hostname/IP does not match certificate's altnames: Host: db.example. is not in the cert's altnames: DNS:other"), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(describeSyncError(otherName, display)).toMatch(/^The team server at db\.example:5432 presented a certificate for another host name \(.*\): write the host the certificate names in sync\.url, or use sslmode=verify-ca$/);
    expect(isTransient(selfSigned) || isTransient(otherName)).toBe(false);
  });
});
