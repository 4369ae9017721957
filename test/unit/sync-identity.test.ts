import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normaliseRemote, readWorkspaceIdentity, shareMatches } from '../../server/src/sync/workspace-identity.js';

const TOKEN = 'ghp_S3cretT0ken4711';

/** Every way a user part can be spelled, with and without a token in it. */
const USER_PARTS = ['', 'git@', 'alice@', `${TOKEN}@`, `x-access-token:${TOKEN}@`, `oauth2:${TOKEN}@`, `alice:${TOKEN}@`, `al@ice:${TOKEN}@`, `alice:p@ss:${TOKEN}@`];
const HOSTS = ['github.com', 'GitHub.COM', 'gitlab.acme.internal', '192.168.1.20'];
const PATHS = ['acme/api', 'acme/group/sub/api', 'Acme/My-API_2'];
const SUFFIXES = ['', '.git', '.GIT'];
const SLASHES = ['', '/', '//'];

interface Case {
  remote: string;
  expected: string;
}

function generated(): Case[] {
  const cases: Case[] = [];
  for (const user of USER_PARTS)
    for (const host of HOSTS)
      for (const path of PATHS)
        for (const suffix of SUFFIXES)
          for (const slash of SLASHES) {
            const expected = `${host}/${path}`.toLowerCase();
            const tail = `${path}${suffix}${slash}`;
            for (const [scheme, ports] of [
              ['https', ['', ':443', ':8443']],
              ['http', ['', ':80', ':8080']],
              ['ssh', ['', ':22', ':2222']],
              ['git+ssh', ['', ':22']],
              ['git', ['', ':9418']],
              ['HTTPS', ['']],
            ] as const) {
              for (const port of ports) cases.push({ remote: `${scheme}://${user}${host}${port}/${tail}`, expected });
            }
            // scp-like: no port, path with or without a leading slash.
            cases.push({ remote: `${user}${host}:${tail}`, expected });
            cases.push({ remote: `${user}${host}:/${tail}`, expected });
            // Whitespace around it, as `git config --get` prints it.
            cases.push({ remote: `  https://${user}${host}/${tail}\n`, expected });
          }
  return cases;
}

describe('normaliseRemote', () => {
  const cases = generated();

  it(`maps ${cases.length} spellings of a remote to host/path, never keeping a token or a user part`, () => {
    const wrong = cases.filter(({ remote, expected }) => normaliseRemote(remote) !== expected).map(({ remote }) => `${remote} → ${normaliseRemote(remote)}`);
    expect(wrong).toEqual([]);
    for (const { remote } of cases) {
      const identity = normaliseRemote(remote) ?? '';
      expect(identity).not.toContain(TOKEN);
      expect(identity).not.toContain('@');
      expect(identity).not.toMatch(/ss:|alice|x-access-token|oauth2/);
    }
  });

  it('gives one identity for the ways teammates clone the same repository', () => {
    const spellings = [
      'git@github.com:acme/api.git',
      'https://github.com/acme/api',
      'https://github.com/acme/api.git',
      'https://github.com/acme/api/',
      `https://x-access-token:${TOKEN}@github.com/acme/api.git`,
      'ssh://git@github.com:22/acme/api',
      'ssh://git@GITHUB.com/acme/api.git/',
      'git://github.com/acme/api.git',
    ];
    expect(new Set(spellings.map(normaliseRemote))).toEqual(new Set(['github.com/acme/api']));
  });

  it('keeps an IPv6 host in brackets and drops its port', () => {
    expect(normaliseRemote('ssh://git@[2001:DB8::1]:2222/acme/api.git')).toBe('[2001:db8::1]/acme/api');
    expect(normaliseRemote('https://[::1]/acme/api')).toBe('[::1]/acme/api');
  });

  it('drops a query or fragment, where a token can also hide', () => {
    expect(normaliseRemote(`https://github.com/acme/api.git?access_token=${TOKEN}#x`)).toBe('github.com/acme/api');
  });

  it.each([
    ['/srv/git/api.git'],
    ['./api'],
    ['../api.git'],
    ['~/repos/api'],
    ['api'],
    ['C:\\repos\\api'],
    ['C:/repos/api'],
    ['file:///srv/git/api.git'],
    ['file://host/srv/git/api.git'],
    ['codecommit::us-east-1://api'],
    ['persistent-https::github.com/acme/api'],
    ['ftp://github.com/acme/api'],
    ['https://github.com'],
    ['https://github.com/'],
    ['git@github.com:'],
    ['github.com/acme/api'],
    [`x-access-token:${TOKEN}@github.com/acme/api`],
    // A "/" in a password ends the authority early; the rest must not become an identity.
    [`https://alice:pa/ss${TOKEN}@github.com/acme/api`],
    [`alice:pa/ss${TOKEN}@github.com:acme/api`],
    // An "@" anywhere in what is left may be the end of a user part: refused, not guessed at.
    ['https://github.com/acme/x@y'],
    ['https://github.com/acme/../api'],
    [''],
    ['   '],
  ])('%j is no team identity', (remote) => {
    expect(normaliseRemote(remote)).toBeUndefined();
  });
});

describe('shareMatches', () => {
  it.each([
    ['github.com/acme/api', ['github.com/acme/*'], true],
    ['github.com/acme/api', ['GitHub.COM/acme/*'], true],
    ['github.com/acme/api', ['github.com/acme/api/'], true],
    ['github.com/acme/.github', ['github.com/acme/*'], true],
    ['github.com/acme/api', ['github.com/other/*', 'github.com/acme/api'], true],
    ['gitlab.com/acme/group/api', ['gitlab.com/acme/*'], false],
    ['gitlab.com/acme/group/api', ['gitlab.com/acme/**'], true],
    ['gitlab.com/acme/group/api', ['gitlab.com/**/api'], true],
    ['github.com/acme/api', ['**'], true],
    ['github.com/acme/api', ['*'], false],
    ['github.com/acme/api', ['github.com/acme'], false],
    ['github.com/acme-evil/api', ['github.com/acme*'], false],
    ['github.com/acme-evil/api', ['github.com/acme/*'], false],
    ['evil.com/github.com/acme/api', ['github.com/acme/*'], false],
    // Case never matters: identities are lower case (forges' paths are case-insensitive).
    ['github.com/acme/api', ['github.com/ACME/*'], true],
    ['github.com/acme/api', [], false],
    ['github.com/acme/api', ['', '  '], false],
  ] as const)('%s against %j → %s', (identity, globs, expected) => {
    expect(shareMatches(identity, [...globs])).toBe(expected);
  });
});

describe('readWorkspaceIdentity (a real git repository)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'codebench-identity-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  // No user or system git config may change what the fixture says.
  const env = { ...process.env, HOME: scratch, XDG_CONFIG_HOME: scratch, GIT_CEILING_DIRECTORIES: scratch };
  const repository = (name: string, origin?: string): string => {
    const root = join(scratch, name);
    mkdirSync(root);
    execFileSync('git', ['init', '-q', root], { env });
    if (origin !== undefined) execFileSync('git', ['-C', root, 'remote', 'add', 'origin', origin], { env });
    return root;
  };

  it('reads origin and strips the credentials in it', async () => {
    const root = repository('with-token', `https://x-access-token:${TOKEN}@github.com/Acme/API.git`);
    mkdirSync(join(root, 'src', 'deep'), { recursive: true });
    expect(await readWorkspaceIdentity(root, env)).toBe('github.com/acme/api');
    // A folder inside the repository has the repository's identity.
    expect(await readWorkspaceIdentity(join(root, 'src', 'deep'), env)).toBe('github.com/acme/api');
  });

  it('reads origin, not another remote', async () => {
    const root = repository('two-remotes', 'git@gitlab.com:team/app.git');
    execFileSync('git', ['-C', root, 'remote', 'add', 'upstream', 'git@github.com:other/app.git'], { env });
    expect(await readWorkspaceIdentity(root, env)).toBe('gitlab.com/team/app');
  });

  it('is undefined without origin, for a local origin, outside a repository, and without git', async () => {
    expect(await readWorkspaceIdentity(repository('no-remote'), env)).toBeUndefined();
    expect(await readWorkspaceIdentity(repository('local-origin', '/srv/git/app.git'), env)).toBeUndefined();
    const plain = join(scratch, 'not-a-repository');
    mkdirSync(plain);
    expect(await readWorkspaceIdentity(plain, env)).toBeUndefined();
    expect(await readWorkspaceIdentity(join(scratch, 'missing'), env)).toBeUndefined();
    const withToken = join(scratch, 'with-token');
    expect(await readWorkspaceIdentity(withToken, { ...env, PATH: join(scratch, 'no-bin') })).toBeUndefined();
  });

  it('ignores a GIT_DIR in the environment that points at another repository', async () => {
    const root = repository('own', 'https://github.com/acme/own.git');
    const other = repository('other', 'https://github.com/acme/other.git');
    expect(await readWorkspaceIdentity(root, { ...env, GIT_DIR: join(other, '.git') })).toBe('github.com/acme/own');
  });
});
