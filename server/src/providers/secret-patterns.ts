/**
 * Recognises strings that look like credentials, so they can be replaced by `[redacted:KIND]`
 * before text reaches a model (agent/workspace/secrets.ts) or an error message (classify.ts). It lives in
 * providers/ because both layers use it and dependencies point from agent to providers.
 *
 * Deliberately not redacted: bare high-entropy strings with no telling prefix or name. Lockfile
 * integrity hashes (`"integrity": "sha512-…"`), git SHAs and UUIDs look just as random as keys;
 * redacting them would corrupt what the model reads and edits. A random value is redacted only
 * after a credential-like name (`api_key=`, `"token": …`, `password:`) or `Authorization: Bearer`.
 */

export interface SecretFinding {
  kind: string;
  value: string;
}

interface Pattern {
  kind: string;
  regex: RegExp;
  /** Which capture group holds the secret (0: the whole match). */
  group?: number;
  /** Extra test on the captured value, for shapes that also occur in ordinary text. */
  accept?: (value: string) => boolean;
}

const hasDigit = (value: string) => /\d/.test(value);

/** Order matters: specific formats first, so `sk-ant-…` is an "anthropic key", not an "api key". */
const PATTERNS: Pattern[] = [
  {
    kind: 'private key',
    regex: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { kind: 'anthropic key', regex: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  // Kebab-case identifiers can start with "sk-"; real keys always contain digits.
  { kind: 'api key', regex: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, accept: hasDigit },
  { kind: 'stripe key', regex: /\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { kind: 'github token', regex: /\bgh[pousr]_[A-Za-z0-9]{36,}/g },
  { kind: 'github token', regex: /\bgithub_pat_[A-Za-z0-9_]{22,}/g },
  { kind: 'gitlab token', regex: /\bglpat-[A-Za-z0-9_-]{20,}/g },
  { kind: 'slack token', regex: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'aws access key', regex: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'google api key', regex: /\bAIza[0-9A-Za-z_-]{35}/g },
  { kind: 'npm token', regex: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { kind: 'jwt', regex: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { kind: 'bearer token', regex: /\b(?:Bearer|Basic)\s+([A-Za-z0-9._~+/=-]{16,})/g, group: 1, accept: hasDigit },
  // scheme://user:password@host — the password only.
  { kind: 'url password', regex: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s/@]{3,})@/gi, group: 1, accept: (value) => !/^\$|^\{|^<|^\*+$/.test(value) },
  {
    kind: 'secret assignment',
    // NAME = value, NAME: "value", "NAME": "value" where NAME ends in key/token/secret/password.
    regex:
      /\b[A-Za-z0-9_.-]*?(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_-]?key|private[_-]?key|credentials?)["']?[ \t]*[:=][ \t]*["'`]?([^\s"'`,;()<>{}[\]]{8,})/gi,
    group: 1,
    accept: looksRandom,
  },
];

/** Values after a credential-like name that are code or placeholders, not secrets. */
function looksRandom(value: string): boolean {
  if (!/\d/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^[$%]|process\.env|os\.environ|getenv|\$\{|\[redacted/i.test(value)) return false;
  if (/^(?:x+|\*+|changeme|example|your[_-]|placeholder)/i.test(value)) return false;
  // a.b.c member chains (config.auth.token2) are code; dots inside random text are rare.
  if (/^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+$/.test(value)) return false;
  return entropy(value) >= 3;
}

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Replaces every recognised secret with `[redacted:KIND]` and reports what it replaced. */
export function redactSecretText(text: string): { text: string; findings: SecretFinding[] } {
  const findings: SecretFinding[] = [];
  let out = text;
  for (const pattern of PATTERNS) {
    out = out.replace(pattern.regex, (match: string, ...rest: unknown[]) => {
      const value = pattern.group ? (rest[pattern.group - 1] as string | undefined) : match;
      if (!value || value.includes('[redacted:') || (pattern.accept && !pattern.accept(value))) return match;
      findings.push({ kind: pattern.kind, value });
      const placeholder = `[redacted:${pattern.kind}]`;
      if (!pattern.group) return placeholder;
      // Keep the name and separator ("api_key=") so the model still understands the line.
      const at = match.lastIndexOf(value);
      return match.slice(0, at) + placeholder + match.slice(at + value.length);
    });
  }
  return { text: out, findings };
}

/** Just the text: for error messages, where nobody needs the count. */
export function redactSecrets(text: string): string {
  return redactSecretText(text).text;
}
