import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InitServerError, runInitServer } from '../../server/src/sync/init-server.js';
import { checkServerSchema, initServerSql, KNOWN_SERVER_MIGRATIONS, MemberNameError, memberRoleName } from '../../server/src/sync/server-schema.js';
import { startPostgres, type PostgresCluster } from './postgres-cluster.js';

/**
 * `codebench sync init-server` against a real PostgreSQL: what it creates, that it is idempotent
 * (run by us or printed and run by psql), the member roles, and the names it refuses.
 */

let cluster: PostgresCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(async () => {
  await cluster?.destroy();
});

/** Everything init-server is responsible for, as one comparable value. */
async function catalog(withTimes = false): Promise<unknown> {
  const result = await cluster.query<{ snapshot: unknown }>(`
    SELECT json_build_object(
      'schema', (SELECT json_build_array(pg_get_userbyid(nspowner), nspacl::text) FROM pg_namespace WHERE nspname = 'codebench'),
      'tables', (SELECT json_agg(json_build_array(relname, relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner), relacl::text) ORDER BY relname)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'codebench' AND relkind = 'r'),
      'columns', (SELECT json_agg(json_build_array(table_name, column_name, data_type, is_nullable, column_default) ORDER BY table_name, ordinal_position)
                  FROM information_schema.columns WHERE table_schema = 'codebench'),
      'constraints', (SELECT json_agg(json_build_array(conrelid::regclass::text, pg_get_constraintdef(oid)) ORDER BY conrelid::regclass::text, conname)
                      FROM pg_constraint WHERE connamespace = 'codebench'::regnamespace),
      'indexes', (SELECT json_agg(indexdef ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'codebench'),
      'triggers', (SELECT json_agg(pg_get_triggerdef(t.oid) ORDER BY tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                   WHERE c.relnamespace = 'codebench'::regnamespace AND NOT tgisinternal),
      'functions', (SELECT json_agg(pg_get_functiondef(oid) ORDER BY proname) FROM pg_proc WHERE pronamespace = 'codebench'::regnamespace),
      'policies', (SELECT json_agg(json_build_array(tablename, policyname, permissive, roles::text, cmd, qual, with_check) ORDER BY tablename, policyname)
                   FROM pg_policies WHERE schemaname = 'codebench'),
      'members', (SELECT json_agg(json_build_array(r.rolname, r.rolcanlogin, r.rolsuper, r.rolinherit) ORDER BY r.rolname) FROM pg_auth_members m
                  JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = 'codebench_member'),
      'group', (SELECT json_build_array(rolcanlogin, rolsuper, rolcreaterole, rolbypassrls) FROM pg_roles WHERE rolname = 'codebench_member'),
      'migrations', (SELECT json_agg(${withTimes ? `json_build_array(name, applied_at)` : 'name'} ORDER BY name) FROM codebench.schema_migrations)
    ) AS snapshot`);
  return result.rows[0]!.snapshot;
}

const EXPECTED_COLUMNS: Record<string, string> = {
  sessions: 'id uuid!, workspace text!, author text!, title text!, provider text!, continues_session_id uuid, message_count integer!, created_at timestamptz!, updated_at timestamptz!, deleted_at timestamptz, change_xid xid8!',
  runs: 'id uuid!, session_id uuid!, workspace text!, author text!, provider text!, model text!, instruction text!, status text!, error text, input_tokens integer, output_tokens integer, started_at timestamptz!, first_token_at timestamptz, finished_at timestamptz, change_xid xid8!',
  messages: 'id uuid!, session_id uuid!, run_id uuid, workspace text!, author text!, role text!, content text!, created_at timestamptz!, change_xid xid8!',
  proposals: 'id uuid!, run_id uuid!, session_id uuid!, workspace text!, author text!, status text!, summary text!, files jsonb!, diff text!, detail text, evidence jsonb, created_at timestamptz!, decided_at timestamptz, change_xid xid8!',
};

describe('init-server on a fresh database', () => {
  it('creates the schema, tables, indexes, trigger, row-level security, policies and grants of 0001_team_history', async () => {
    const result = await runInitServer(cluster.superuserUrl, []);
    expect(result).toEqual({ applied: ['0001_team_history'], members: [] });

    for (const [table, expected] of Object.entries(EXPECTED_COLUMNS)) {
      const columns = await cluster.query<{ column: string }>(
        `SELECT attname || ' ' || replace(format_type(atttypid, atttypmod), 'timestamp with time zone', 'timestamptz') || CASE WHEN attnotnull THEN '!' ELSE '' END AS column
         FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [`codebench.${table}`],
      );
      expect(columns.rows.map((row) => row.column).join(', '), table).toBe(expected);
      const defaults = await cluster.query(`SELECT column_name, column_default FROM information_schema.columns WHERE table_schema = 'codebench' AND table_name = $1 AND column_name IN ('author', 'change_xid') ORDER BY 1`, [table]);
      expect(defaults.rows).toEqual([
        { column_name: 'author', column_default: 'CURRENT_USER' },
        { column_name: 'change_xid', column_default: 'pg_current_xact_id()' },
      ]);
    }

    const snapshot = (await catalog()) as Record<string, unknown[]>;
    // No foreign keys: pushes arrive in any order.
    expect((snapshot.constraints as string[][]).map(([, definition]) => definition).filter((definition) => definition.startsWith('FOREIGN'))).toEqual([]);
    expect(snapshot.constraints).toContainEqual(['codebench.messages', "CHECK ((role = ANY (ARRAY['user'::text, 'assistant'::text, 'system'::text])))"]);
    const indexes = (snapshot.indexes as string[]).join('\n');
    for (const table of Object.keys(EXPECTED_COLUMNS)) expect(indexes).toContain(`ON codebench.${table} USING btree (change_xid, id)`);
    expect(indexes).toContain('ON codebench.messages USING btree (session_id, created_at)');
    expect(indexes).toContain('ON codebench.runs USING btree (session_id)');
    expect(indexes).toContain('ON codebench.proposals USING btree (session_id)');
    expect(indexes).toContain('ON codebench.sessions USING btree (workspace, updated_at DESC)');
    expect(snapshot.triggers).toHaveLength(4);
    for (const trigger of snapshot.triggers as string[]) expect(trigger).toMatch(/BEFORE INSERT OR UPDATE ON codebench\.\w+ FOR EACH ROW EXECUTE FUNCTION codebench\.set_change_xid\(\)/);

    // RLS enabled AND forced on all four, owned by the admin, members hold exactly SELECT/INSERT/UPDATE/DELETE.
    expect(snapshot.tables).toEqual(
      ['messages', 'proposals', 'runs', 'schema_migrations', 'sessions'].map((table) =>
        table === 'schema_migrations'
          ? [table, false, false, 'postgres', '{postgres=arwdDxt/postgres,codebench_member=r/postgres}']
          : [table, true, true, 'postgres', '{postgres=arwdDxt/postgres,codebench_member=arwd/postgres}'],
      ),
    );
    expect(snapshot.schema).toEqual(['postgres', '{postgres=UC/postgres,codebench_member=U/postgres}']);
    expect(snapshot.group).toEqual([false, false, false, false]);
    const policies = (snapshot.policies as string[][]).filter(([table]) => table === 'sessions').map(([, name, permissive, roles, command, using, check]) => ({ name, permissive, roles, command, using, check }));
    expect(policies).toEqual([
      { name: 'member_delete', permissive: 'PERMISSIVE', roles: '{codebench_member}', command: 'DELETE', using: '(author = CURRENT_USER)', check: null },
      { name: 'member_insert', permissive: 'PERMISSIVE', roles: '{codebench_member}', command: 'INSERT', using: null, check: "((author = CURRENT_USER) AND (CURRENT_USER <> 'codebench_member'::name))" },
      { name: 'member_select', permissive: 'PERMISSIVE', roles: '{codebench_member}', command: 'SELECT', using: 'true', check: null },
      { name: 'member_update', permissive: 'PERMISSIVE', roles: '{codebench_member}', command: 'UPDATE', using: '(author = CURRENT_USER)', check: "((author = CURRENT_USER) AND (CURRENT_USER <> 'codebench_member'::name))" },
    ]);
    expect((snapshot.policies as unknown[]).length).toBe(16);
  });

  it('run again: no error, nothing applied, nothing changed (not even applied_at)', async () => {
    const before = await catalog(true);
    expect(await runInitServer(cluster.superuserUrl, [])).toEqual({ applied: [], members: [] });
    expect(await catalog(true)).toEqual(before);
  });

  it('the printed script, run by psql -v ON_ERROR_STOP=1 (twice), builds the same schema', async () => {
    const built = await catalog();
    await cluster.query('DROP SCHEMA codebench CASCADE');
    for (let run = 0; run < 2; run++) {
      const result = cluster.psql(initServerSql([]));
      expect(result.stderr).not.toMatch(/ERROR/);
      expect(result.status).toBe(0);
    }
    expect(await catalog()).toEqual(built);
  });

  it('two init-servers at once on a fresh database both succeed (advisory lock), one applies the migration', async () => {
    const built = await catalog();
    await cluster.query('DROP SCHEMA codebench CASCADE');
    const results = await Promise.all([runInitServer(cluster.superuserUrl, []), runInitServer(cluster.superuserUrl, []), runInitServer(cluster.superuserUrl, [])]);
    expect(results.map((result) => result.applied).flat()).toEqual(['0001_team_history']);
    expect(await catalog()).toEqual(built);
  });

  it('a failing statement rolls the whole script back', async () => {
    await cluster.query('DROP SCHEMA codebench CASCADE');
    // A table the migration will try to create: 0001 fails half-way, so nothing may remain.
    await cluster.query('CREATE SCHEMA codebench; CREATE TABLE codebench.proposals (x int)');
    const failure = await runInitServer(cluster.superuserUrl, ['rollback_probe']).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InitServerError);
    expect((failure as Error).message).toMatch(/^init-server failed: relation "proposals" already exists$/);
    expect((await cluster.query(`SELECT to_regclass('codebench.sessions') AS t, to_regclass('codebench.schema_migrations') AS m`)).rows).toEqual([{ t: null, m: null }]);
    expect((await cluster.query(`SELECT 1 FROM pg_roles WHERE rolname = 'rollback_probe'`)).rowCount).toBe(0);
    await cluster.query('DROP SCHEMA codebench CASCADE');
    await runInitServer(cluster.superuserUrl, []);
  });
});

describe('member roles', () => {
  it('creates missing members as LOGIN roles in codebench_member and grants an existing role; again = no change', async () => {
    await cluster.query('CREATE ROLE erin LOGIN');
    const names = ['carol', 'dave', 'erin', 'first.last@example.com', 'Upper-Case', 'a'.repeat(63)];
    expect(await runInitServer(cluster.superuserUrl, names)).toEqual({ applied: [], members: names });
    const members = await cluster.query<{ rolname: string; rolcanlogin: boolean }>(
      `SELECT r.rolname, r.rolcanlogin FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = 'codebench_member' ORDER BY 1`,
    );
    expect(members.rows.map((row) => row.rolname).sort()).toEqual([...names].sort());
    expect(members.rows.every((row) => row.rolcanlogin)).toBe(true);
    const before = await catalog(true);
    const again = cluster.psql(initServerSql(names));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    expect(await catalog(true)).toEqual(before);
  });

  it('an oddly spelled member logs in (after the admin sets a password) and reads the migration names', async () => {
    await cluster.createMember('first.last@example.com', "pa'ss word");
    const login = { role: 'first.last@example.com', password: "pa'ss word" };
    const names = await cluster.query('SELECT name FROM codebench.schema_migrations', [], login);
    expect(names.rows.map((row) => row.name)).toEqual([...KNOWN_SERVER_MIGRATIONS]);
    expect(checkServerSchema(names.rows.map((row) => row.name))).toEqual({ ok: true });
  });

  const BAD_NAMES = [
    '',
    ' ',
    'ali ce',
    'alice ',
    'alice"',
    '"alice"',
    "al'ice",
    "alice'; DROP ROLE postgres; --",
    'alice;',
    'alice; DROP SCHEMA codebench CASCADE',
    'alice$member$',
    'alice$$',
    'al\\ice',
    'alice\n',
    'alice\u0000',
    'alice\t',
    'ålice',
    'alice\u2019',
    '1alice',
    '-alice',
    '.alice',
    '@alice',
    'a'.repeat(64),
    'a'.repeat(1000),
    'pg_alice',
    'PG_Alice',
    'pg_read_all_data',
    'public',
    'PUBLIC',
    'none',
    'current_user',
    'session_user',
    'current_role',
    'codebench_member',
  ];

  it.each(BAD_NAMES.map((name) => [JSON.stringify(name), name]))('refuses %s before touching the server', async (_label, name) => {
    expect(() => memberRoleName(name)).toThrow(MemberNameError);
    expect(() => initServerSql(['zed', name])).toThrow(MemberNameError);
    const roles = async () => (await cluster.query('SELECT rolname FROM pg_roles ORDER BY rolname')).rows;
    const before = await roles();
    const failure = await runInitServer(cluster.superuserUrl, ['zed', name]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InitServerError);
    const message = (failure as Error).message;
    expect(message).toContain(`invalid member name ${JSON.stringify(name)}`);
    expect(message).not.toContain('\n');
    // Nothing ran: not even the valid name before it.
    expect(await roles()).toEqual(before);
    expect(before).not.toContainEqual({ rolname: 'zed' });
  });
});

describe('init-server errors are one line, without the password', () => {
  const expectOneLine = async (promise: Promise<unknown>, pattern: RegExp) => {
    const failure = await promise.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InitServerError);
    const message = (failure as Error).message;
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
    expect(message).not.toContain('s3cret-pw');
  };

  it('wrong password, no server, a non-superuser, a newer schema', async () => {
    await expectOneLine(runInitServer(cluster.url('postgres', 's3cret-pw'), []), /^cannot connect to the team server 127\.0\.0\.1:\d+\/codebench: password authentication failed for user "postgres"$/);
    await expectOneLine(runInitServer(`postgres://postgres:s3cret-pw@127.0.0.1:1/codebench`, []), /^cannot connect to the team server 127\.0\.0\.1:1\/codebench: .*ECONNREFUSED/);
    await cluster.createMember('mallory', 's3cret-pw');
    await expectOneLine(runInitServer(cluster.url('mallory', 's3cret-pw'), ['mallory2']), /^init-server failed: .*permission denied.*\(init-server needs a superuser/);
    await cluster.query(`INSERT INTO codebench.schema_migrations (name) VALUES ('0999_from_the_future')`);
    try {
      await expectOneLine(runInitServer(cluster.superuserUrl, []), /^the team server's schema is newer than this codebench \(it has migration 0999_from_the_future\): upgrade codebench$/);
      // The printed script refuses too, before changing anything.
      const printed = cluster.psql(initServerSql(['printed_probe']));
      expect(printed.status).not.toBe(0);
      expect(printed.stderr).toContain("ERROR:  the team server's schema is newer than this codebench: upgrade codebench");
      expect((await cluster.query(`SELECT 1 FROM pg_roles WHERE rolname = 'printed_probe'`)).rowCount).toBe(0);
    } finally {
      await cluster.query(`DELETE FROM codebench.schema_migrations WHERE name = '0999_from_the_future'`);
    }
  });
});

describe('over TLS, and across a restart', () => {
  it('init-server works with sslmode=verify-full against a server that refuses plain TCP', async () => {
    const tls = await startPostgres({ ssl: true });
    try {
      expect(tls.superuserUrl).toContain('sslmode=verify-full');
      expect(await runInitServer(tls.superuserUrl, ['alice'])).toEqual({ applied: ['0001_team_history'], members: ['alice'] });
      const plain = await runInitServer(tls.url('postgres', 'whatever', 'sslmode=disable'), []).catch((error: unknown) => error);
      expect((plain as Error).message).toMatch(/no pg_hba.conf entry .* no encryption|rejects connection .* no encryption/);
      const ssl = await tls.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(ssl.rows).toEqual([{ ssl: true }]);
    } finally {
      await tls.destroy();
    }
  });

  it('stop() then start() keeps the port and the data', async () => {
    const port = cluster.port;
    await cluster.stop();
    await expect(cluster.query('SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    await cluster.start();
    expect(cluster.port).toBe(port);
    expect((await cluster.query('SELECT name FROM codebench.schema_migrations')).rows).toEqual([{ name: '0001_team_history' }]);
  });
});

describe('checkServerSchema', () => {
  it('ok when every known migration is applied', () => {
    expect(checkServerSchema([...KNOWN_SERVER_MIGRATIONS])).toEqual({ ok: true });
    expect(checkServerSchema(['0002_b', '0001_a'], ['0001_a', '0002_b'])).toEqual({ ok: true });
  });
  it('missing when nothing is applied: run init-server', () => {
    const check = checkServerSchema([]);
    expect(check).toMatchObject({ ok: false, reason: 'missing' });
    expect(!check.ok && check.message).toMatch(/codebench sync init-server/);
  });
  it('missing when fewer than known are applied: run init-server to upgrade the schema', () => {
    const check = checkServerSchema(['0001_a'], ['0001_a', '0002_b']);
    expect(check).toMatchObject({ ok: false, reason: 'missing' });
    expect(!check.ok && check.message).toMatch(/missing 0002_b.*run `codebench sync init-server` to upgrade the schema/);
  });
  it('newer when the server has a migration this codebench does not know, even alongside the known ones', () => {
    for (const applied of [[...KNOWN_SERVER_MIGRATIONS, '0099_future'], ['0099_future'], ['0001_a', '0099_future']]) {
      const check = checkServerSchema(applied, applied.includes('0001_a') ? ['0001_a', '0002_b'] : KNOWN_SERVER_MIGRATIONS);
      expect(check).toMatchObject({ ok: false, reason: 'newer' });
      expect(!check.ok && check.message).toMatch(/schema is newer than this codebench.*0099_future.*upgrade codebench/);
    }
  });
  it('the first migration is 0001_team_history and names are ordered and unique', () => {
    expect(KNOWN_SERVER_MIGRATIONS[0]).toBe('0001_team_history');
    expect([...new Set(KNOWN_SERVER_MIGRATIONS)].sort()).toEqual([...KNOWN_SERVER_MIGRATIONS]);
  });
});
