import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { runInitServer } from '../../server/src/sync/init-server.js';
import { quoteIdentifier, quoteLiteral } from '../../server/src/sync/server-schema.js';

/**
 * A real, throw-away PostgreSQL cluster for the team-sync tests: its own data directory and unix
 * socket in a temp dir, TCP on a free 127.0.0.1 port, password (scram-sha-256) auth everywhere.
 * Postgres refuses to run as root, and the tests and CI run as root: the server then runs as the
 * `postgres` OS user (setpriv execs, so the child's pid is the postmaster's). Missing binaries are
 * an error, not a skip: CI installs them (scripts/install-test-tools.mjs).
 */

export interface Login {
  role: string;
  password: string;
}

export interface PostgresCluster {
  readonly port: number;
  readonly superuserUrl: string;
  /** In ssl mode: the self-signed certificate (also the CA) the server presents, for 127.0.0.1 and localhost. */
  readonly certificatePath?: string;
  /** A URL for the `codebench` database; `extra` is the query string (default: none, or verify-full in ssl mode). */
  url(role: string, password: string, extra?: string): string;
  stop(): Promise<void>;
  /** Starts the stopped server again: same port, same data. */
  start(): Promise<void>;
  psql(sql: string, as?: Login): { stdout: string; stderr: string; status: number | null };
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], as?: Login): Promise<pg.QueryResult<Row>>;
  /** Creates (or grants) the member with init-server, then sets its password as the admin would. */
  createMember(name: string, password: string): Promise<void>;
  /** pg_dump --data-only of the database, as the superuser; equal data gives an equal string. */
  dump(): string;
  destroy(): Promise<void>;
}

const SUPERUSER = 'postgres';
const DATABASE = 'codebench';
const READY_TIMEOUT_MS = 20_000;

function findBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], 'bin');
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return dirname(onPath.stdout.trim());
  throw new Error(
    '\n!!! PostgreSQL server binaries (initdb, postgres, pg_ctl, psql, pg_dump) not found under /usr/lib/postgresql/*/bin or on PATH.\n' +
      '!!! The team-sync tests need a real PostgreSQL: run `apt-get install postgresql` (Debian/Ubuntu) or `node scripts/install-test-tools.mjs`.\n',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A temp dir the postgres OS user can reach: every ancestor must be searchable by others. */
function makeTempDirectory(asRoot: boolean): string {
  let base = tmpdir();
  if (asRoot) {
    for (let directory = base; directory !== dirname(directory); directory = dirname(directory)) {
      if ((statSync(directory).mode & 0o001) === 0) {
        base = '/tmp';
        break;
      }
    }
  }
  return mkdtempSync(join(base, 'codebench-pg-'));
}

export async function startPostgres(options: { ssl?: boolean } = {}): Promise<PostgresCluster> {
  const bin = findBinaries();
  const asRoot = process.getuid?.() === 0;
  const directory = makeTempDirectory(asRoot);
  const data = join(directory, 'data');
  const socket = join(directory, 'socket');
  mkdirSync(socket);
  const superuserPassword = randomBytes(12).toString('hex');
  writeFileSync(join(directory, 'pwfile'), `${superuserPassword}\n`);
  // As the postgres user when we are root; setpriv execs, so no wrapper process sits in between.
  const asServer = (command: string, args: string[]): [string, string[]] =>
    asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', join(bin, command), ...args]] : [join(bin, command), args];
  const runServerTool = (command: string, args: string[]) => {
    const [file, argv] = asServer(command, args);
    const result = spawnSync(file, argv, { cwd: directory, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr || result.error?.message}`);
  };

  let certificatePath: string | undefined;
  if (options.ssl) {
    certificatePath = join(directory, 'server.crt');
    const openssl = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', join(directory, 'server.key'), '-out', certificatePath],
      { encoding: 'utf8' },
    );
    if (openssl.status !== 0) throw new Error(`openssl could not make a test certificate (install openssl): ${openssl.stderr || openssl.error?.message}`);
    chmodSync(join(directory, 'server.key'), 0o600);
  }
  if (asRoot) {
    const chown = spawnSync('chown', ['-R', 'postgres:postgres', directory], { encoding: 'utf8' });
    if (chown.status !== 0) throw new Error(`chown of ${directory} to the postgres user failed: ${chown.stderr}`);
  }

  try {
    runServerTool('initdb', ['-D', data, '-U', SUPERUSER, `--pwfile=${join(directory, 'pwfile')}`, '--auth=scram-sha-256', '--no-locale', '-E', 'UTF8', '--no-sync']);
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  // Our own pg_hba: password auth on the socket and 127.0.0.1; in ssl mode TCP without TLS is refused,
  // so a test that connects at all proves the client used TLS.
  const tcp = options.ssl ? 'hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n' : 'host all all 127.0.0.1/32 scram-sha-256\n';
  writeFileSync(join(data, 'pg_hba.conf'), `local all all scram-sha-256\n${tcp}`);

  let port = await freePort();
  let server: ChildProcess | undefined;
  let log = '';
  const serverArgs = () => [
    '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socket}`,
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'max_connections=50',
    ...(options.ssl ? ['-c', 'ssl=on', '-c', `ssl_cert_file=${certificatePath}`, '-c', `ssl_key_file=${join(directory, 'server.key')}`] : []),
  ];
  const sslQuery = certificatePath ? `sslmode=verify-full&sslrootcert=${encodeURIComponent(certificatePath)}` : '';
  const url = (role: string, password: string, extra?: string) => {
    const query = (extra ?? sslQuery).replace(/^\?/, '');
    return `postgres://${encodeURIComponent(role)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}${query ? `?${query}` : ''}`;
  };
  const clientConfig = (database: string, login: Login): pg.ClientConfig => ({
    host: '127.0.0.1',
    port,
    database,
    user: login.role,
    password: login.password,
    ssl: certificatePath ? { ca: readFileSync(certificatePath, 'utf8'), servername: 'localhost' } : false,
  });
  const superuser: Login = { role: SUPERUSER, password: superuserPassword };

  async function query<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = [], as: Login = superuser, database = DATABASE) {
    const client = new pg.Client(clientConfig(database, as));
    client.on('error', () => {});
    await client.connect();
    try {
      return await client.query<Row>(sql, params);
    } finally {
      await client.end().catch(() => {});
    }
  }

  async function start(): Promise<void> {
    if (server) return;
    log = '';
    const [file, argv] = asServer('postgres', serverArgs());
    const child = spawn(file, argv, { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    server = child;
    const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (server === child) server = undefined;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`postgres exited during start-up:\n${log}`);
      try {
        await query('SELECT 1', [], superuser, 'postgres');
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`postgres was not ready within ${READY_TIMEOUT_MS / 1000} s (${(error as Error).message}):\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async function stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const child = server;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal); // SIGINT: fast shutdown (rolls back sessions, no waiting on clients)
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  // The test process may die before afterAll; never leave a postmaster behind it.
  const killOnExit = () => server?.kill('SIGQUIT');
  process.once('exit', killOnExit);

  const destroy = async () => {
    await stop('SIGQUIT').catch(() => {});
    process.removeListener('exit', killOnExit);
    rmSync(directory, { recursive: true, force: true });
  };

  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await start();
        break;
      } catch (error) {
        // Another process may have taken the port between freePort() and listen: try another.
        if (attempt < 2 && /could not (bind|create listen)|Address already in use/i.test(String((error as Error).message))) {
          port = await freePort();
          continue;
        }
        throw error;
      }
    }
    await query(`CREATE DATABASE ${DATABASE}`, [], superuser, 'postgres');
  } catch (error) {
    await destroy();
    throw error;
  }

  const superuserUrl = url(SUPERUSER, superuserPassword);
  const psqlBinary = existsSync(join(bin, 'psql')) ? join(bin, 'psql') : 'psql';
  const pgDumpBinary = existsSync(join(bin, 'pg_dump')) ? join(bin, 'pg_dump') : 'pg_dump';
  const clientEnv = (login: Login) => ({
    ...process.env,
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
    PGDATABASE: DATABASE,
    PGUSER: login.role,
    PGPASSWORD: login.password,
    PGSSLMODE: certificatePath ? 'verify-full' : 'disable',
    ...(certificatePath ? { PGSSLROOTCERT: certificatePath } : {}),
    PGCONNECT_TIMEOUT: '10',
  });
  const checked = (result: SpawnSyncReturns<string>, what: string) => {
    if (result.error) throw new Error(`${what} could not run: ${result.error.message}`);
    return result;
  };

  return {
    get port() {
      return port;
    },
    superuserUrl,
    certificatePath,
    url,
    start,
    stop: () => stop(),
    destroy,
    query: (sql, params, as) => query(sql, params, as),
    psql(sql, as = superuser) {
      const result = checked(spawnSync(psqlBinary, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], { input: sql, encoding: 'utf8', env: clientEnv(as), timeout: 30_000 }), 'psql');
      return { stdout: result.stdout, stderr: result.stderr, status: result.status };
    },
    async createMember(name, password) {
      await runInitServer(superuserUrl, [name]);
      await query(`ALTER ROLE ${quoteIdentifier(name)} PASSWORD ${quoteLiteral(password)}`);
    },
    dump() {
      const result = checked(spawnSync(pgDumpBinary, ['--data-only', '--no-owner', DATABASE], { encoding: 'utf8', env: clientEnv(superuser), timeout: 30_000 }), 'pg_dump');
      if (result.status !== 0) throw new Error(`pg_dump failed: ${result.stderr}`);
      // pg_dump 15.14+ writes a random \restrict key per dump; without it equal data dumps equal.
      return result.stdout.replace(/^\\(un)?restrict .*\n/gm, '');
    },
  };
}
