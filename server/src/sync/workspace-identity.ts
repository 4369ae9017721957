import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import picomatch from 'picomatch';

/**
 * A workspace's team identity: its `origin` remote as `host/path` (`github.com/acme/api`), the
 * same for every teammate whichever way they cloned (ssh, https, scp-like, with or without a
 * token or `.git`). It is stored locally and sent to the team server, so nothing of the remote's
 * user part (a user name, a password, an `x-access-token:ghp_…`) may ever survive in it.
 */

/** Transports that name a host teammates share; file:// and remote helpers (`codecommit::`) do not. */
const NETWORK_SCHEMES = new Set(['ssh', 'git+ssh', 'ssh+git', 'git', 'http', 'https']);

/** Git's own rule: `[user@]host:path` is scp-like when the colon comes before any slash. */
function splitScpLike(remote: string): { host: string; path: string } | undefined {
  const firstSlash = remote.indexOf('/');
  const head = firstSlash === -1 ? remote : remote.slice(0, firstSlash);
  // The last "@" of the head ends the user part, however many "@" and ":" a token put in it.
  const afterUser = remote.slice(head.lastIndexOf('@') + 1);
  const colon = afterUser.indexOf(':');
  const slash = afterUser.indexOf('/');
  if (colon <= 0 || (slash !== -1 && slash < colon)) return undefined;
  const host = afterUser.slice(0, colon);
  // "C:" is a Windows drive, not a host named C.
  if (host.length === 1) return undefined;
  return { host, path: afterUser.slice(colon + 1) };
}

function splitUrl(remote: string): { host: string; path: string } | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(remote)?.[1]?.toLowerCase();
  if (!scheme || !NETWORK_SCHEMES.has(scheme)) return undefined;
  // Taken apart by hand: WHATWG URL keeps the case and port of ssh:// and git:// hosts, and a
  // malformed user part must be dropped, not rejected along with the whole remote.
  const rest = remote.slice(scheme.length + 3).replace(/[?#].*$/s, '');
  const firstSlash = rest.indexOf('/');
  if (firstSlash === -1) return undefined;
  const authority = rest.slice(0, firstSlash);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  // [v6]:port, or host:port. Every port goes: the same repository reached over ssh on 2222 and
  // over https on 443 must be one identity.
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.replace(/:\d*$/, '');
  return { host, path: rest.slice(firstSlash) };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * `git@github.com:acme/api.git`, `https://x-access-token:ghp_…@GitHub.com/Acme/api/`,
 * `ssh://git@github.com:22/acme/api` → `github.com/acme/api`. Local paths and file:// remotes
 * give undefined: a path on one machine is no identity a team shares.
 */
export function normaliseRemote(url: string): string | undefined {
  const remote = url.trim();
  // `transport::address` is a remote helper (codecommit::, persistent-https::): no shared host.
  if (remote === '' || /[\s\\]/.test(remote) || /^[a-z][a-z0-9+.-]*::/i.test(remote)) return undefined;
  const parts = remote.includes('://') ? splitUrl(remote) : splitScpLike(remote);
  if (!parts) return undefined;
  const host = parts.host.toLowerCase();
  if (host === '' || host === '[]' || /[@/:]/.test(host.replace(/^\[.*\]$/, 'ipv6'))) return undefined;
  const segments = parts.path
    .split('/')
    .map(decode)
    .filter((segment) => segment !== '');
  const last = segments.length - 1;
  if (last >= 0 && segments[last]!.toLowerCase().endsWith('.git')) segments[last] = segments[last]!.slice(0, -4);
  if (segments.length === 0 || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return undefined;
  // Lower case throughout: GitHub, GitLab and Bitbucket paths are case-insensitive, and teammates
  // who cloned `Acme/API` and `acme/api` must land on one identity.
  const identity = `${host}/${segments.join('/')}`.toLowerCase();
  // Belt and braces: whatever a malformed remote smuggled past the parsing, an identity with an
  // "@" or a control character is refused rather than stored and sent.
  if (/[@\s\u0000-\u001f\u007f]/.test(identity)) return undefined;
  return identity;
}

/** Variables that would make git read another repository than the workspace's. */
const REDIRECTING_VARIABLES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT'];

/**
 * The identity of the repository holding `workspaceRoot`, from its `origin` remote; undefined when
 * git is missing, the folder is no repository, there is no origin, or origin is a local path.
 */
export function readWorkspaceIdentity(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const childEnv: NodeJS.ProcessEnv = { ...env, GIT_CONFIG_NOSYSTEM: '1' };
  for (const name of REDIRECTING_VARIABLES) delete childEnv[name];
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-C', workspaceRoot, 'config', '--get', 'remote.origin.url'],
      { timeout: 2000, env: childEnv, windowsHide: true, encoding: 'utf8', maxBuffer: 64 * 1024 },
      (error, stdout) => resolve(error ? undefined : normaliseRemote(stdout)),
    );
  });
}

/**
 * Whether a workspace identity is one the user shares. `*` stays inside one path segment, `**`
 * crosses them; case does not matter (identities are lower case).
 */
export function shareMatches(identity: string, globs: readonly string[]): boolean {
  const subject = identity.toLowerCase();
  return globs.some((glob) => {
    const pattern = glob.trim().toLowerCase().replace(/\/+$/, '');
    if (pattern === '') return false;
    // dot: a repository named ".github" is a repository like any other.
    return picomatch(pattern, { dot: true })(subject);
  });
}

/**
 * A workspace's team identity: the one team sync recorded for it, else its git remote read now
 * (sync may be switched off; what was pulled stays readable). Undefined for a non-file URI or a
 * workspace without an `origin`.
 */
export async function teamIdentityOf(shared: ReadonlyArray<{ uri: string; identity: string }>, uri: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const recorded = shared.find((workspace) => workspace.uri === uri)?.identity;
  if (recorded !== undefined || !uri.startsWith('file:')) return recorded;
  return readWorkspaceIdentity(fileURLToPath(uri), env);
}
