import path from 'node:path';
import picomatch from 'picomatch';
import { redactSecretText } from '../../providers/secret-patterns.js';

/**
 * What keeps secrets out of the model's prompt: (1) a sensitive-file policy — files whose content
 * is never read by the tools nor copied into a CLI agent's shadow workspace (their names stay
 * visible), and (2) a scrubber that replaces secret-looking strings in everything sent to the
 * model with `[redacted:KIND]` and counts what it replaced, for the note in the run's history.
 */

/**
 * Built-in denylist. A pattern without "/" matches a file name at any depth; one with "/" matches
 * the end of the workspace-relative path. `credentials.*` is limited to data formats so source
 * files like `credentials.ts` stay readable.
 */
export const DEFAULT_SENSITIVE_DENY: readonly string[] = [
  '.env',
  '.env.*',
  '*.pem',
  '*.key',
  'id_rsa*',
  'id_dsa*',
  'id_ecdsa*',
  'id_ed25519*',
  '.npmrc',
  '.netrc',
  '_netrc',
  '.pypirc',
  '.pgpass',
  '.git-credentials',
  'credentials',
  'credentials.{json,yml,yaml,toml,ini,xml,csv,txt,conf,cfg,properties,env}',
  '*.p12',
  '*.pfx',
  '*.keystore',
  '*.jks',
  '.aws/credentials',
  '.ssh/*',
  '.docker/config.json',
];

/**
 * Built-in exemptions: templates meant to be committed (no values, and the model benefits from
 * knowing which variables exist) and public keys.
 */
export const DEFAULT_SENSITIVE_ALLOW: readonly string[] = ['.env.example', '.env.sample', '.env.template', '.env.dist', '*.pub'];

type Matcher = (relativePath: string) => string | undefined;

function compile(patterns: readonly string[]): Matcher {
  const matchers = patterns.map((pattern) => {
    const anchored = pattern.includes('/');
    const glob = anchored ? (pattern.startsWith('/') ? pattern.slice(1) : `**/${pattern}`) : pattern;
    const test = picomatch(glob, { dot: true, nocase: process.platform === 'win32' || process.platform === 'darwin' });
    return { pattern, anchored, test };
  });
  return (relativePath) =>
    matchers.find(({ anchored, test }) => test(anchored ? relativePath : path.posix.basename(relativePath)))?.pattern;
}

/**
 * Which files are protected. Precedence: the user's allow, the user's deny, the built-in allow,
 * the built-in deny. So a user can re-allow a built-in pattern, and can deny a file the built-in
 * allow list would let through.
 */
export class SensitiveFiles {
  readonly #userAllow: Matcher;
  readonly #userDeny: Matcher;
  readonly #defaultAllow = compile(DEFAULT_SENSITIVE_ALLOW);
  readonly #defaultDeny = compile(DEFAULT_SENSITIVE_DENY);

  constructor(config: { deny?: readonly string[]; allow?: readonly string[] } = {}) {
    this.#userAllow = compile(config.allow ?? []);
    this.#userDeny = compile(config.deny ?? []);
  }

  /** The pattern that protects this workspace-relative path ('/'-separated), or undefined. */
  match(relativePath: string): string | undefined {
    const normalized = relativePath.split(path.sep).join('/').replace(/^\.\//, '');
    if (this.#userAllow(normalized)) return undefined;
    const denied = this.#userDeny(normalized);
    if (denied) return denied;
    if (this.#defaultAllow(normalized)) return undefined;
    return this.#defaultDeny(normalized);
  }

  isProtected(relativePath: string): boolean {
    return this.match(relativePath) !== undefined;
  }

  /** Written for the model: why it cannot see the file, and that it should not try around it. */
  reason(relativePath: string): string | undefined {
    const pattern = this.match(relativePath);
    if (pattern === undefined) return undefined;
    return `${relativePath} is a protected file (it matches the sensitive-file pattern "${pattern}"): its content is never read or changed by the agent or sent to the model. Do not try to read it another way; if the task needs a value from it, ask the user.`;
  }
}

/** Counts distinct secrets across one run; the raw values stay in memory only. */
export class SecretScrubber {
  readonly #seen = new Map<string, string>();

  /** `text` with every secret-looking string replaced by `[redacted:KIND]`. */
  scrub(text: string): string {
    if (text === '') return text;
    const { text: out, findings } = redactSecretText(text);
    for (const finding of findings) if (!this.#seen.has(finding.value)) this.#seen.set(finding.value, finding.kind);
    return out;
  }

  get count(): number {
    return this.#seen.size;
  }

  /** For the run's history, e.g. "redacted 2 secrets (github token, api key) before sending to the model". */
  summary(): string | undefined {
    if (this.#seen.size === 0) return undefined;
    const kinds = [...new Set(this.#seen.values())].join(', ');
    const noun = this.#seen.size === 1 ? 'secret' : 'secrets';
    return `redacted ${this.#seen.size} ${noun} (${kinds}) before sending to the model`;
  }
}

/** What the model wrote back is not allowed to carry a placeholder into the user's files. */
export function placeholderIn(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('[redacted:');
  if (Array.isArray(value)) return value.some(placeholderIn);
  if (value !== null && typeof value === 'object') return Object.values(value).some(placeholderIn);
  return false;
}

export const PLACEHOLDER_REFUSAL =
  'Your arguments contain a "[redacted:…]" placeholder. Secrets in files are hidden from you and replaced by such placeholders; writing one would destroy the real value. Leave lines with secrets unchanged: choose an old_string that does not include them, and never put a placeholder in new content.';
