import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInitServer } from '../../server/src/sync/init-server.js';
import { startPostgres, type Login, type PostgresCluster } from './postgres-cluster.js';

/**
 * Row-level security on the team server, attacked the way a teammate with a grudge (bob) would:
 * he has a real login and member rights, and tries every way in SQL to change, remove, forge or
 * hide alice's rows. Each attempt must fail or affect 0 rows; afterwards a superuser snapshot of
 * alice's rows (every column, change_xid included) is identical to the one taken before.
 */

const TABLES = ['sessions', 'runs', 'messages', 'proposals'] as const;
type Table = (typeof TABLES)[number];

/** Every column with a value of its type that differs from what the rows hold. */
const COLUMNS: Record<Table, Record<string, string>> = {
  sessions: { id: 'gen_random_uuid()', workspace: `'pwned'`, author: `'bob'`, title: `'pwned'`, provider: `'pwned'`, continues_session_id: 'gen_random_uuid()', message_count: '999', created_at: 'now()', updated_at: 'now()', deleted_at: 'now()', change_xid: `'1'` },
  runs: { id: 'gen_random_uuid()', session_id: 'gen_random_uuid()', workspace: `'pwned'`, author: `'bob'`, provider: `'pwned'`, model: `'pwned'`, instruction: `'pwned'`, status: `'pwned'`, error: `'pwned'`, input_tokens: '999', output_tokens: '999', started_at: 'now()', first_token_at: 'now()', finished_at: 'now()', change_xid: `'1'` },
  messages: { id: 'gen_random_uuid()', session_id: 'gen_random_uuid()', run_id: 'gen_random_uuid()', workspace: `'pwned'`, author: `'bob'`, role: `'system'`, content: `'pwned'`, created_at: 'now()', change_xid: `'1'` },
  proposals: { id: 'gen_random_uuid()', run_id: 'gen_random_uuid()', session_id: 'gen_random_uuid()', workspace: `'pwned'`, author: `'bob'`, status: `'pwned'`, summary: `'pwned'`, files: `'["pwned"]'`, diff: `'pwned'`, detail: `'pwned'`, evidence: `'{"pwned": true}'`, created_at: 'now()', decided_at: 'now()', change_xid: `'1'` },
};

/** The NOT NULL columns an insert must give (author and change_xid have defaults). */
const REQUIRED: Record<Table, Record<string, string>> = {
  sessions: { workspace: `'github.com/acme/api'`, title: `'fix the bug'`, provider: `'anthropic'`, created_at: `'2025-01-01T00:00:00Z'`, updated_at: `'2025-01-01T00:00:00Z'` },
  runs: { session_id: `'00000000-0000-4000-8000-000000000001'`, workspace: `'github.com/acme/api'`, provider: `'anthropic'`, model: `'m'`, instruction: `'fix it'`, status: `'done'`, started_at: `'2025-01-01T00:00:00Z'` },
  messages: { session_id: `'00000000-0000-4000-8000-000000000001'`, workspace: `'github.com/acme/api'`, role: `'user'`, content: `'hello'`, created_at: `'2025-01-01T00:00:00Z'` },
  proposals: { run_id: `'00000000-0000-4000-8000-000000000002'`, session_id: `'00000000-0000-4000-8000-000000000001'`, workspace: `'github.com/acme/api'`, status: `'pending'`, summary: `'s'`, files: `'["a.ts"]'`, diff: `'--- a'`, created_at: `'2025-01-01T00:00:00Z'` },
};

const ALICE_ID: Record<Table, string> = { sessions: 'a11ce000-0000-4000-8000-000000000001', runs: 'a11ce000-0000-4000-8000-000000000002', messages: 'a11ce000-0000-4000-8000-000000000003', proposals: 'a11ce000-0000-4000-8000-000000000004' };
const BOB_ID: Record<Table, string> = { sessions: 'b0b00000-0000-4000-8000-000000000001', runs: 'b0b00000-0000-4000-8000-000000000002', messages: 'b0b00000-0000-4000-8000-000000000003', proposals: 'b0b00000-0000-4000-8000-000000000004' };

function insertSql(table: Table, id: string, extra: Record<string, string> = {}, suffix = ''): string {
  const values = { id: `'${id}'`, ...REQUIRED[table], ...extra };
  return `INSERT INTO codebench.${table} (${Object.keys(values).join(', ')}) VALUES (${Object.values(values).join(', ')}) ${suffix}`;
}

const alice: Login = { role: 'alice', password: 'alice-password' };
const bob: Login = { role: 'bob', password: 'bob-password' };
const outsider: Login = { role: 'outsider', password: 'outsider-password' };

let cluster: PostgresCluster;

/** Runs `sql` as `login` on its own connection: the error message, or how many rows it affected. */
async function attempt(login: Login, sql: string): Promise<{ error: string } | { affected: number }> {
  const client = new pg.Client(cluster.url(login.role, login.password));
  client.on('error', () => {});
  await client.connect();
  try {
    const results = ([] as pg.QueryResult[]).concat((await client.query(sql)) as pg.QueryResult | pg.QueryResult[]);
    let affected = 0;
    for (const result of results) {
      // A function or CTE attack reports its own count in a column named "affected".
      if (result.fields?.some((field) => field.name === 'affected')) affected += result.rows.reduce((sum, row) => sum + Number(row.affected), 0);
      else if (['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'].includes(result.command)) affected += result.rowCount ?? 0;
    }
    return { affected };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Alice's rows as the superuser sees them, every column as text, and the tables' security settings. */
async function aliceSnapshot(): Promise<unknown> {
  const rows: Record<string, string[]> = {};
  for (const table of TABLES) {
    rows[table] = (await cluster.query<{ row: string }>(`SELECT t::text AS row FROM codebench.${table} t WHERE author = 'alice' OR id = $1 ORDER BY id`, [ALICE_ID[table]])).rows.map((row) => row.row);
  }
  const security = await cluster.query(
    `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relacl::text, pg_get_userbyid(c.relowner) AS owner,
            (SELECT json_agg(json_build_array(polname, polcmd, polroles::regrole[]::text, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)) ORDER BY polname) FROM pg_policy WHERE polrelid = c.oid) AS policies,
            (SELECT json_agg(pg_get_triggerdef(t.oid) ORDER BY tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT tgisinternal) AS triggers,
            (SELECT json_agg(tgenabled ORDER BY tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT tgisinternal) AS trigger_states
     FROM pg_class c WHERE c.relnamespace = 'codebench'::regnamespace ORDER BY c.relname`,
  );
  const functions = await cluster.query(`SELECT proname, pg_get_functiondef(oid) AS definition FROM pg_proc WHERE pronamespace = 'codebench'::regnamespace ORDER BY proname`);
  const migrations = await cluster.query(`SELECT name, applied_at FROM codebench.schema_migrations ORDER BY name`);
  const roles = await cluster.query(`SELECT rolname, rolsuper, rolcanlogin, rolpassword, rolbypassrls FROM pg_authid WHERE rolname IN ('alice', 'bob', 'codebench_member') ORDER BY rolname`);
  const memberships = await cluster.query(`SELECT roleid::regrole::text AS role, member::regrole::text AS member FROM pg_auth_members ORDER BY 1, 2`);
  return { rows, security: security.rows, functions: functions.rows, migrations: migrations.rows, roles: roles.rows, memberships: memberships.rows };
}

let before: unknown;
let dumpBefore: string;

beforeAll(async () => {
  cluster = await startPostgres();
  await runInitServer(cluster.superuserUrl, ['alice', 'bob']);
  await cluster.createMember('alice', alice.password);
  await cluster.createMember('bob', bob.password);
  await cluster.query(`CREATE ROLE outsider LOGIN PASSWORD '${outsider.password}'`);
  for (const table of TABLES) {
    expect(await attempt(alice, insertSql(table, ALICE_ID[table]))).toEqual({ affected: 1 });
    expect(await attempt(bob, insertSql(table, BOB_ID[table]))).toEqual({ affected: 1 });
  }
  before = await aliceSnapshot();
  dumpBefore = cluster.dump();
});
afterAll(async () => {
  await cluster?.destroy();
});

function tableAttacks(table: Table): Array<[string, string]> {
  const aliceRow = `id = '${ALICE_ID[table]}'`;
  const attacks: Array<[string, string]> = Object.entries(COLUMNS[table]).map(([column, value]) => [`UPDATE alice's ${column}`, `UPDATE codebench.${table} SET ${column} = ${value} WHERE ${aliceRow}`]);
  attacks.push(
    ['UPDATE every row not his', `UPDATE codebench.${table} SET workspace = 'pwned' WHERE author <> current_user`],
    ["UPDATE alice's row as a no-op (would bump change_xid)", `UPDATE codebench.${table} SET id = id WHERE ${aliceRow}`],
    ["DELETE alice's row", `DELETE FROM codebench.${table} WHERE ${aliceRow}`],
    ['DELETE every row not his', `DELETE FROM codebench.${table} WHERE author <> current_user`],
    ["INSERT with author 'alice'", insertSql(table, '0bad0000-0000-4000-8000-000000000001', { author: `'alice'` })],
    ["INSERT with author 'codebench_member'", insertSql(table, '0bad0000-0000-4000-8000-000000000002', { author: `'codebench_member'` })],
    ["INSERT … ON CONFLICT (id) DO UPDATE over alice's id", insertSql(table, ALICE_ID[table], {}, `ON CONFLICT (id) DO UPDATE SET workspace = 'pwned'`)],
    ["INSERT … ON CONFLICT (id) DO UPDATE over alice's id, author 'alice'", insertSql(table, ALICE_ID[table], { author: `'alice'` }, `ON CONFLICT (id) DO UPDATE SET author = 'alice', workspace = 'pwned'`)],
    ["INSERT … ON CONFLICT (id) DO NOTHING over alice's id", insertSql(table, ALICE_ID[table], {}, 'ON CONFLICT (id) DO NOTHING')],
    ["UPDATE own row setting author = 'alice'", `UPDATE codebench.${table} SET author = 'alice' WHERE id = '${BOB_ID[table]}'`],
    ["UPDATE own row's id to alice's id", `UPDATE codebench.${table} SET id = '${ALICE_ID[table]}' WHERE id = '${BOB_ID[table]}'`],
    ["UPDATE alice's change_xid to the future", `UPDATE codebench.${table} SET change_xid = '999999999999' WHERE ${aliceRow}`],
    ['TRUNCATE', `TRUNCATE codebench.${table}`],
    ['TRUNCATE … CASCADE', `TRUNCATE codebench.${table} CASCADE`],
    ['DROP TABLE', `DROP TABLE codebench.${table}`],
    ['ALTER TABLE ADD COLUMN', `ALTER TABLE codebench.${table} ADD COLUMN pwned int`],
    ['ALTER TABLE OWNER', `ALTER TABLE codebench.${table} OWNER TO bob`],
    ['DISABLE ROW LEVEL SECURITY', `ALTER TABLE codebench.${table} DISABLE ROW LEVEL SECURITY`],
    ['NO FORCE ROW LEVEL SECURITY', `ALTER TABLE codebench.${table} NO FORCE ROW LEVEL SECURITY`],
    ['DISABLE TRIGGER', `ALTER TABLE codebench.${table} DISABLE TRIGGER ALL`],
    ['CREATE POLICY', `CREATE POLICY pwned ON codebench.${table} FOR ALL TO codebench_member USING (true) WITH CHECK (true)`],
    ['ALTER POLICY', `ALTER POLICY member_update ON codebench.${table} USING (true)`],
    ['DROP POLICY', `DROP POLICY member_delete ON codebench.${table}`],
    ['CREATE TRIGGER', `CREATE TRIGGER pwned BEFORE UPDATE ON codebench.${table} FOR EACH ROW EXECUTE FUNCTION codebench.set_change_xid()`],
    ['GRANT to outsider', `GRANT SELECT ON codebench.${table} TO outsider`],
    ['COPY FROM', `COPY codebench.${table} (id) FROM STDIN`],
    ['SET ROLE alice; UPDATE', `SET ROLE alice; UPDATE codebench.${table} SET workspace = 'pwned' WHERE ${aliceRow}`],
    ['SET SESSION AUTHORIZATION alice; DELETE', `SET SESSION AUTHORIZATION alice; DELETE FROM codebench.${table} WHERE ${aliceRow}`],
    ["set_config('role', 'alice'); DELETE", `SELECT set_config('role', 'alice', false); DELETE FROM codebench.${table} WHERE ${aliceRow}`],
    ['SET ROLE codebench_member; UPDATE', `SET ROLE codebench_member; UPDATE codebench.${table} SET workspace = 'pwned' WHERE ${aliceRow}`],
    ['SET ROLE codebench_member; INSERT (author becomes the group)', `SET ROLE codebench_member; ${insertSql(table, '0bad0000-0000-4000-8000-000000000003')}`],
    ['SET ROLE postgres; DELETE', `SET ROLE postgres; DELETE FROM codebench.${table}`],
    ['DELETE through a CTE', `WITH target AS (SELECT id FROM codebench.${table} WHERE author = 'alice') DELETE FROM codebench.${table} WHERE id IN (SELECT id FROM target)`],
    ['UPDATE through a data-modifying CTE', `WITH changed AS (UPDATE codebench.${table} SET workspace = 'pwned' WHERE ${aliceRow} RETURNING 1) SELECT count(*) AS affected FROM changed`],
    ['DELETE through a SQL function', `CREATE FUNCTION pg_temp.wipe() RETURNS bigint LANGUAGE sql AS $$ WITH gone AS (DELETE FROM codebench.${table} WHERE author = 'alice' RETURNING 1) SELECT count(*) FROM gone $$; SELECT pg_temp.wipe() AS affected`],
    ['UPDATE through a SECURITY DEFINER plpgsql function', `CREATE FUNCTION pg_temp.steal() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$ DECLARE n bigint; BEGIN UPDATE codebench.${table} SET author = 'bob' WHERE ${aliceRow}; GET DIAGNOSTICS n = ROW_COUNT; RETURN n; END $$; SELECT pg_temp.steal() AS affected`],
    ['DELETE in a DO block', `DO $$ BEGIN DELETE FROM codebench.${table} WHERE ${aliceRow}; END $$`],
    ['replace the change_xid trigger function', `CREATE OR REPLACE FUNCTION codebench.set_change_xid() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`],
    ['a temp table shadowing the real one', `CREATE TEMP TABLE ${table} (id uuid); SET search_path = codebench; DELETE FROM ${table}`],
  );
  return attacks;
}

const GLOBAL_ATTACKS: Array<[string, string]> = [
  ['INSERT into schema_migrations', `INSERT INTO codebench.schema_migrations (name) VALUES ('0999_pwned')`],
  ['UPDATE schema_migrations', `UPDATE codebench.schema_migrations SET name = '0999_pwned'`],
  ['DELETE schema_migrations', `DELETE FROM codebench.schema_migrations`],
  ['TRUNCATE schema_migrations', `TRUNCATE codebench.schema_migrations`],
  ['DROP schema_migrations', `DROP TABLE codebench.schema_migrations`],
  ['DROP SCHEMA codebench CASCADE', `DROP SCHEMA codebench CASCADE`],
  ['CREATE TABLE in schema codebench', `CREATE TABLE codebench.pwned (id int)`],
  ['CREATE FUNCTION in schema codebench', `CREATE FUNCTION codebench.pwned() RETURNS int LANGUAGE sql AS 'SELECT 1'`],
  ['ALTER the trigger function', `ALTER FUNCTION codebench.set_change_xid() OWNER TO bob`],
  ["ALTER ROLE alice's password", `ALTER ROLE alice PASSWORD 'stolen'`],
  ['ALTER ROLE bob BYPASSRLS', `ALTER ROLE bob BYPASSRLS`],
  ['ALTER ROLE bob SUPERUSER', `ALTER ROLE bob SUPERUSER`],
  ['GRANT alice to bob', `GRANT alice TO bob`],
  ['GRANT codebench_member to outsider', `GRANT codebench_member TO outsider`],
  ['CREATE ROLE', `CREATE ROLE pwned LOGIN SUPERUSER`],
];

/** Attack name → the refusal it must meet. */
const EXPECTED_REFUSALS: Array<[RegExp, RegExp]> = [
  [/INSERT with author|ON CONFLICT \(id\) DO UPDATE|UPDATE own row setting author|SET ROLE codebench_member; INSERT/, /^new row violates row-level security policy/],
  [/COPY FROM/, /^COPY FROM not supported with row-level security$/],
  [/TRUNCATE|^(INSERT into|UPDATE|DELETE) schema_migrations|CREATE TRIGGER/, /^permission denied for table/],
  [/DROP TABLE|ALTER TABLE|ROW LEVEL SECURITY|DISABLE TRIGGER|CREATE POLICY|ALTER POLICY/, /^must be owner of table/],
  [/SET ROLE alice|set_config|SET ROLE postgres/, /^permission denied to set role/],
  [/SET SESSION AUTHORIZATION/, /^permission denied to set session authorization/],
];

describe('bob attacks alice\'s rows', () => {
  const attacks = [...TABLES.flatMap((table) => tableAttacks(table).map(([name, sql]): [string, string] => [`${table}: ${name}`, sql])), ...GLOBAL_ATTACKS];
  it.each(attacks)('%s fails or affects 0 rows', async (name, sql) => {
    const outcome = await attempt(bob, sql);
    if ('affected' in outcome) expect(outcome.affected, sql).toBe(0);
    else expect(outcome.error).toBeTruthy();
    // Where the mechanism matters, the refusal must come from it (not from, say, a missing row).
    const expected = EXPECTED_REFUSALS.find(([pattern]) => pattern.test(name))?.[1];
    if (expected) expect(outcome, sql).toEqual({ error: expect.stringMatching(expected) });
  });

  it('afterwards alice\'s rows, the policies, triggers, grants and roles are exactly as before', async () => {
    expect(await aliceSnapshot()).toEqual(before);
    // No attack succeeded on bob's own rows either: the whole database dumps byte for byte the same.
    expect(cluster.dump()).toBe(dumpBefore);
  });
});

describe('what members may do', () => {
  it('bob reads alice\'s rows in every table', async () => {
    for (const table of TABLES) {
      const rows = await cluster.query(`SELECT author FROM codebench.${table} WHERE id = $1`, [ALICE_ID[table]], bob);
      expect(rows.rows).toEqual([{ author: 'alice' }]);
    }
  });

  it('bob inserts (author defaults to him), updates and deletes his own rows', async () => {
    for (const table of TABLES) {
      const id = 'b0b00000-0000-4000-8000-0000000000ff';
      expect(await attempt(bob, insertSql(table, id))).toEqual({ affected: 1 });
      expect((await cluster.query(`SELECT author FROM codebench.${table} WHERE id = $1`, [id])).rows).toEqual([{ author: 'bob' }]);
      expect(await attempt(bob, `UPDATE codebench.${table} SET workspace = 'github.com/acme/web' WHERE id = '${id}'`)).toEqual({ affected: 1 });
      expect(await attempt(bob, insertSql(table, id, { author: `'bob'` }, `ON CONFLICT (id) DO UPDATE SET workspace = 'github.com/acme/api'`))).toEqual({ affected: 1 });
      expect(await attempt(bob, `DELETE FROM codebench.${table} WHERE id = '${id}'`)).toEqual({ affected: 1 });
    }
  });

  it('a forged author is an error, not silently fixed', async () => {
    const outcome = await attempt(bob, insertSql('sessions', '0bad0000-0000-4000-8000-0000000000aa', { author: `'alice'` }));
    expect(outcome).toEqual({ error: 'new row violates row-level security policy for table "sessions"' });
  });

  it('change_xid is the writing transaction\'s id even when the client supplies one, on insert and on update', async () => {
    for (const table of TABLES) {
      const id = 'b0b00000-0000-4000-8000-0000000000ee';
      const inserted = await cluster.query(`${insertSql(table, id, { change_xid: `'1'` })} RETURNING change_xid::text = pg_current_xact_id()::text AS server_set, change_xid::text`, [], bob);
      expect(inserted.rows[0]).toMatchObject({ server_set: true });
      expect(inserted.rows[0].change_xid).not.toBe('1');
      const updated = await cluster.query(`UPDATE codebench.${table} SET change_xid = '1' WHERE id = $1 RETURNING change_xid::text = pg_current_xact_id()::text AS server_set, change_xid::text`, [id], bob);
      expect(updated.rows[0]).toMatchObject({ server_set: true });
      expect(BigInt(updated.rows[0].change_xid)).toBeGreaterThan(BigInt(inserted.rows[0].change_xid));
      await cluster.query(`DELETE FROM codebench.${table} WHERE id = $1`, [id], bob);
    }
  });

  it('a LOGIN role that is not a member reads nothing, not even the migration names', async () => {
    for (const table of [...TABLES, 'schema_migrations']) {
      const outcome = await attempt(outsider, `SELECT * FROM codebench.${table}`);
      expect(outcome).toEqual({ error: 'permission denied for schema codebench' });
    }
    expect(await attempt(outsider, 'SET ROLE codebench_member')).toEqual({ error: 'permission denied to set role "codebench_member"' });
  });
});
