import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  NO_MIGRATIONS,
  SqliteDialect,
  type Compilable,
  type MigrationResultSet,
} from 'kysely';
import { migrationProvider, migrations } from './migrations.js';
import type { Database } from './schema.js';

export interface OpenedDatabase {
  /** Absolute path of the database file. */
  file: string;
  sqlite: SQLite.Database;
  db: Kysely<Database>;
}

/**
 * Opens (creating if needed) a private history database and migrates it to the latest schema.
 * History holds prompts and code, so the directory is 0700 and the file 0600 before SQLite ever
 * writes to it; SQLite gives the -wal/-shm files the main file's mode.
 */
export async function openDatabase(file: string): Promise<OpenedDatabase> {
  const absolute = path.resolve(file);
  let sqlite: SQLite.Database;
  try {
    fs.mkdirSync(path.dirname(absolute), { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(absolute, 'a', 0o600));
    for (const f of [absolute, `${absolute}-wal`, `${absolute}-shm`]) {
      if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
    }
    sqlite = new SQLite(absolute);
  } catch (error) {
    throw new Error(`Cannot open history database ${absolute}: ${messageOf(error)}`, { cause: error });
  }

  try {
    // busy_timeout first so switching to WAL waits for another process instead of failing.
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // Bounds the WAL left behind after checkpoints; auto-checkpointing stays on (1000 pages).
    sqlite.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
    // Zero freed pages when that costs no extra I/O, so deleted history does not linger.
    sqlite.pragma('secure_delete = FAST');
  } catch (error) {
    sqlite.close();
    throw new Error(`Cannot open history database ${absolute}: ${messageOf(error)}`, { cause: error });
  }

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const opened = { file: absolute, sqlite, db };
  try {
    await migrate(opened, 'latest');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return opened;
}

// Migrations hold a write lock across awaits. A second connection in this process that waited for
// it would block the event loop in SQLite's busy handler and so never let it finish: serialise.
let migrationQueue: Promise<unknown> = Promise.resolve();

/**
 * Migrates to the latest schema, or all the way down with 'none' (tests and tooling). The whole
 * run is one BEGIN IMMEDIATE transaction: kysely runs SQLite migrations without one, so a failure
 * half way would otherwise leave a half-built schema, and two processes opening a fresh file at
 * once would both try to create it.
 */
export async function migrate(
  { file, sqlite, db }: OpenedDatabase,
  target: 'latest' | 'none',
): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const run = async (): Promise<MigrationResultSet> => {
    if (target === 'latest' && isUpToDate(file, sqlite)) return { results: [] };
    sqlite.exec('BEGIN IMMEDIATE');
    let result: MigrationResultSet;
    try {
      result =
        target === 'latest' ? await migrator.migrateToLatest() : await migrator.migrateTo(NO_MIGRATIONS);
    } catch (error) {
      result = { error };
    }
    if (result.error === undefined) {
      sqlite.exec('COMMIT');
      return result;
    }
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `Migrating history database ${file}${failed ? ` (${failed})` : ''} failed: ${messageOf(result.error)}`,
      { cause: result.error },
    );
  };
  const next = migrationQueue.then(run, run);
  migrationQueue = next.catch(() => undefined);
  return next;
}

/** Throws when a newer codebench has migrated the file further than this build knows. */
function isUpToDate(file: string, sqlite: SQLite.Database): boolean {
  const hasTable = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'")
    .get();
  const executed = hasTable
    ? (sqlite.prepare('SELECT name FROM kysely_migration').pluck().all() as string[])
    : [];
  const unknown = executed.find((name) => !(name in migrations));
  if (unknown !== undefined) {
    throw new Error(
      `History database ${file} has migration ${unknown}, unknown to this codebench version; ` +
        'upgrade codebench or point it at another file',
    );
  }
  return Object.keys(migrations).every((name) => executed.includes(name));
}

/** Runs queries synchronously; only valid inside `writeSync`. */
export interface SyncExecutor {
  /** First row of a reader (SELECT or RETURNING), undefined when there is none. */
  get<R>(query: Compilable<R>): R | undefined;
  /** A statement without rows; returns the number of changed rows. */
  run(query: Compilable<unknown>): number;
}

/**
 * Multi-statement writes go through here instead of kysely's async `transaction()`: that one holds
 * the write lock across awaits, and any other connection to the same file in this process (a
 * second Store, a test) then blocks the event loop in SQLite's busy handler until SQLITE_BUSY.
 * better-sqlite3 transactions finish within one tick. IMMEDIATE takes the write lock up front so
 * a read-then-write never fails on a stale WAL snapshot.
 */
export function writeSync<T>(sqlite: SQLite.Database, work: (tx: SyncExecutor) => T): T {
  const tx: SyncExecutor = {
    get<R>(query: Compilable<R>) {
      const compiled = query.compile();
      return sqlite.prepare(compiled.sql).get(...(compiled.parameters as unknown[])) as R | undefined;
    },
    run(query) {
      const compiled = query.compile();
      return sqlite.prepare(compiled.sql).run(...(compiled.parameters as unknown[])).changes;
    },
  };
  return sqlite.transaction(() => work(tx)).immediate();
}

/**
 * Turns SQLite's anonymous "FOREIGN KEY constraint failed" into an error naming the missing id.
 * Works for synchronous work and for promises.
 */
export function rethrowForeignKey<T>(message: string, work: () => T): T {
  const translate = (error: unknown): never => {
    if ((error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      throw new Error(message, { cause: error });
    }
    throw error;
  };
  try {
    const result = work();
    return (result instanceof Promise ? result.catch(translate) : result) as T;
  } catch (error) {
    return translate(error);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
