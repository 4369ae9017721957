import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentRuntime } from '../../server/src/agent/runtime.js';
import { ConfigError, parseConfigLayer, readConfigFile, resolveConfig } from '../../server/src/config/load.js';
import { parseSyncUrl } from '../../server/src/config/schema.js';

const SECRET = 'hunter2-Very-Secret';

function configFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'codebench-sync-config-')), 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function errorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const URL_OK = 'postgres://alice@db.example:5432/codebench?sslmode=require';

describe('sync in the user config file', () => {
  it('is read with its defaults filled in', () => {
    const file = configFile({ sync: { url: URL_OK } });
    const config = resolveConfig([{ source: file, config: readConfigFile(file) }]);
    expect(config.sync).toEqual({ url: URL_OK, share: [], intervalSeconds: 30 });
  });

  it('keeps what the file says', () => {
    const sync = { url: 'postgresql://bob@[::1]/team', passwordEnv: 'CODEBENCH_SYNC_PASSWORD', share: ['github.com/acme/*'], intervalSeconds: 5 };
    const file = configFile({ sync });
    expect(resolveConfig([{ source: file, config: readConfigFile(file) }]).sync).toEqual(sync);
  });

  it('is absent when no layer sets it', () => {
    expect(resolveConfig([{ source: 'f', config: {} }]).sync).toBeUndefined();
  });

  it('merges key by key across layers, later layers winning', () => {
    const config = resolveConfig([
      { source: 'a', config: { sync: { url: URL_OK, passwordEnv: 'A', share: ['x/*'] } } },
      { source: 'b', config: { sync: { url: 'postgres://carol@other/db', intervalSeconds: 60 } } },
    ]);
    expect(config.sync).toEqual({ url: 'postgres://carol@other/db', passwordEnv: 'A', share: ['x/*'], intervalSeconds: 60 });
  });

  it.each([
    [{ url: URL_OK, intervalSeconds: 4 }, 'sync.intervalSeconds'],
    [{ url: URL_OK, intervalSeconds: 3601 }, 'sync.intervalSeconds'],
    [{ url: URL_OK, share: 'github.com/acme/*' }, 'sync.share'],
    [{ url: URL_OK, share: [''] }, 'sync.share.0'],
    [{ url: URL_OK, passwordEnv: '' }, 'sync.passwordEnv'],
    [{ url: URL_OK, pasword: 'x' }, 'sync.pasword'],
    [{ passwordEnv: 'X' }, 'sync.url'],
  ])('refuses %j naming %s and the file', (sync, key) => {
    const file = configFile({ sync });
    const error = errorOf(() => readConfigFile(file));
    expect(error.keys).toContain(key);
    expect(error.message).toContain(file);
    // An unknown key is named inside its object ("sync: Unrecognized key: "pasword"").
    expect(error.message).toContain(key.split('.').pop());
  });
});

describe('sync.url', () => {
  it.each([
    [`postgres://alice:${SECRET}@db:5432/codebench`],
    [`postgresql://alice:${SECRET}@db/codebench?sslmode=require`],
    [`postgres://alice@db/codebench?password=${SECRET}`],
    [`postgres://alice@db/codebench?sslmode=verify-full&sslpassword=${SECRET}`],
    [`postgres://alice:${encodeURIComponent(`${SECRET}@/:?`)}@db/codebench`],
  ])('with a password is refused without echoing it: %s', (url) => {
    const file = configFile({ sync: { url } });
    const error = errorOf(() => readConfigFile(file));
    expect(error.message).toContain(file);
    expect(error.keys).toEqual(['sync.url']);
    expect(error.message).toMatch(/sync\.url: contains a password/);
    expect(error.message).toContain('passwordEnv');
    expect(error.message).toContain('codebench keys set sync');
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(encodeURIComponent(SECRET));
  });

  it.each([
    ['not a url', /sync\.url: is not a URL/],
    ['db.example:5432/codebench', /sync\.url: (is not a URL|must be a postgres:\/\/)/],
    ['https://alice@db.example/codebench', /sync\.url: must be a postgres:\/\/ or postgresql:\/\/ URL, not "https:"/],
    ['mysql://alice@db.example/codebench', /sync\.url: must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['postgres://db.example/codebench', /sync\.url: names no user/],
    ['postgres://alice@db.example:99999/codebench', /sync\.url: (is not a URL|has a port)/],
    ['postgres://alice@db.example/codebench?sslmode=allow', /sync\.url: has sslmode="allow"; use one of disable, prefer, require, verify-ca, verify-full/],
    ['postgres://alice@db.example/codebench?sslmode=verify-ca', /sync\.url: has sslmode=verify-ca without sslrootcert/],
  ])('%s is refused naming sync.url and the file', (url, pattern) => {
    const file = configFile({ sync: { url } });
    const error = errorOf(() => readConfigFile(file));
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain(`Invalid codebench config in ${file}:`);
    expect(error.keys).toEqual(['sync.url']);
  });

  it('is taken apart the way libpq reads it', () => {
    expect(parseSyncUrl('postgres://alice@DB.example:6543/team?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x')).toEqual({
      ok: true,
      url: { user: 'alice', host: 'DB.example', port: 6543, database: 'team', sslmode: 'verify-full', parameters: { sslrootcert: '/ca.pem', application_name: 'x' } },
    });
    // Defaults: port 5432, database = user, sslmode prefer (libpq's default).
    expect(parseSyncUrl('postgresql://bob@db')).toEqual({ ok: true, url: { user: 'bob', host: 'db', port: 5432, database: 'bob', sslmode: 'prefer', parameters: {} } });
    // A Unix socket directory in ?host=.
    const socket = parseSyncUrl('postgres://carol@/team?host=/var/run/postgresql');
    expect(socket.ok && socket.url.host).toBe('/var/run/postgresql');
    expect(parseSyncUrl('postgres://carol@/team')).toMatchObject({ ok: true, url: { user: 'carol', host: 'localhost', database: 'team' } });
    expect(parseSyncUrl('postgres://dave@[::1]:5433/team')).toMatchObject({ ok: true, url: { host: '::1', port: 5433 } });
  });
});

describe('sync from an editor layer', () => {
  const sync = { url: URL_OK };

  it.each(['initializationOptions', 'workspace/didChangeConfiguration settings.codebench'])('is refused from %s, naming the key and the source', (source) => {
    const error = errorOf(() => parseConfigLayer({ review: 'auto', sync }, source));
    expect(error.keys).toEqual(['sync']);
    expect(error.message).toBe(
      `Invalid codebench config in ${source}: sync: is read only from the user's config file (\`codebench config path\`), never from editor settings, which a cloned repository can supply; move it there`,
    );
  });

  it('is refused even when its value is broken or empty (the key alone is enough)', () => {
    expect(errorOf(() => parseConfigLayer({ sync: null }, 'initializationOptions')).keys).toEqual(['sync']);
    expect(errorOf(() => parseConfigLayer({ sync: {} }, 'initializationOptions')).keys).toEqual(['sync']);
  });

  it('leaves the other keys of editor layers alone, and is accepted from the user file', () => {
    expect(parseConfigLayer({ review: 'auto' }, 'initializationOptions')).toEqual({ review: 'auto' });
    expect(parseConfigLayer({ sync }, '/home/me/.config/codebench/config.json', 'user-file')).toEqual({ sync });
  });

  it('cannot reach the running configuration through the agent runtime', () => {
    const file = configFile({ sync: { url: URL_OK, share: ['github.com/acme/*'] } });
    const reported: string[] = [];
    const runtime = new AgentRuntime({
      env: { CODEBENCH_CONFIG: file, CODEBENCH_DATA_DIR: join(file, '..', 'data') },
      documents: { get: () => undefined } as never,
      log: () => undefined,
      reportConfigError: (message) => reported.push(message),
    });
    expect(runtime.config().sync?.url).toBe(URL_OK);
    const hostile = { sync: { url: 'postgres://mallory@evil.example/loot', share: ['**'] } };
    expect(runtime.setLayer('initializationOptions', hostile)).toBe(false);
    expect(runtime.setLayer('settings', hostile)).toBe(false);
    expect(runtime.config().sync).toEqual({ url: URL_OK, share: ['github.com/acme/*'], intervalSeconds: 30 });
    expect(reported).toHaveLength(2);
    expect(reported[0]).toMatch(/^Invalid codebench config in initializationOptions: sync: is read only from the user's config file/);
    expect(reported[1]).toMatch(/^Invalid codebench config in workspace\/didChangeConfiguration settings\.codebench: sync:/);
  });
});
