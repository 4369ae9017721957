import { describe, expect, it } from 'vitest';
import { PLACEHOLDER_REFUSAL, placeholderIn, SecretScrubber, SensitiveFiles } from '../../server/src/agent/workspace/secrets.js';
import { redactSecretText } from '../../server/src/providers/secret-patterns.js';

// Fake credentials in the real formats, assembled so this file itself holds no scannable token.
const GH = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const PAT = 'github_pat_' + '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz';
const OPENAI = 'sk-proj-' + 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34';
const ANTHROPIC = 'sk-ant-api03-' + 'Xy12Zw34Vu56Ts78Rq90Po12';
const SLACK = 'xoxb-' + '123456789012-1234567890123-AbCdEfGhIjKl';
const AWS = 'AKIA' + 'IOSFODNN7EXAMPLE';
const GOOGLE = 'AIza' + 'SyA1234567890abcdefghijklmnopqrstuv';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.' + 'eyJzdWIiOiIxMjM0NTY3ODkwIn0.' + 'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const PEM = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA1234abcd', 'abcdEFGH5678', '-----END RSA PRIVATE KEY-----'].join('\n');

function kinds(text: string): string[] {
  return redactSecretText(text).findings.map((finding) => finding.kind);
}

describe('secret patterns: true positives', () => {
  it.each([
    ['github token', `const token = "${GH}";`],
    ['github token', `export GH=${PAT}`],
    ['api key', `OPENAI_API_KEY=${OPENAI}`],
    ['anthropic key', `key: ${ANTHROPIC}`],
    ['slack token', `url?t=${SLACK}`],
    ['aws access key', `aws_access_key_id = ${AWS}`],
    ['google api key', `maps(${GOOGLE})`],
    ['jwt', `cookie: session=${JWT}`],
    ['private key', PEM],
    ['bearer token', 'curl -H "Authorization: Bearer abcdef0123456789abcdef0123"'],
    ['url password', 'DATABASE_URL=postgres://admin:S3cr3tPassw0rd@db.internal:5432/app'],
    ['secret assignment', 'DB_PASSWORD=Zq8!xR2mK9vL'],
    ['secret assignment', '"client_secret": "a8f3k2m9x7q1w5e4r6t0"'],
  ])('finds a %s', (kind, text) => {
    const result = redactSecretText(text);
    expect(result.findings.map((finding) => finding.kind)).toContain(kind);
    expect(result.text).toContain(`[redacted:${kind}]`);
    for (const finding of result.findings) expect(result.text).not.toContain(finding.value);
  });

  it('keeps the name of an assignment so the line still reads', () => {
    expect(redactSecretText('API_TOKEN=9f8e7d6c5b4a3f2e1d0c').text).toBe('API_TOKEN=[redacted:secret assignment]');
  });

  it('redacts a private key whose END line was cut off (a partial read)', () => {
    const text = '   1\t-----BEGIN OPENSSH PRIVATE KEY-----\n   2\tb3BlbnNzaC1rZXktdjEAAAAA';
    expect(redactSecretText(text).text).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
  });
});

describe('secret patterns: no false positives on ordinary code', () => {
  it.each([
    ['lockfile integrity hash', '"integrity": "sha512-Qw8rsVlKzmUmL1Xkk3mYqQa5b1x2Hc3EjkX6Yp5VZKz5BqS0Ykz2N7y5p3t2o1w0r9q8x7c6v5b4n3m2l1k0j9h8g=="'],
    ['git sha', 'resolved "https://registry.npmjs.org/x/-/x-1.0.0.tgz#9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e"'],
    ['uuid', 'const id = "123e4567-e89b-12d3-a456-426614174000";'],
    ['kebab-case identifier', 'class="task-list-item-container-wrapper"'],
    ['sk- without digits', 'const name = "sk-learn-pipeline-transformer";'],
    ['token read from the environment', 'const token = process.env.GITHUB_TOKEN2;'],
    ['member chain', 'password = config.auth.password2'],
    ['template variable', 'API_KEY=${OPENAI_API_KEY}'],
    ['placeholder', 'SECRET_KEY=changeme123'],
    ['i18n key', '{ "key": "welcome_message_title" }'],
    ['type annotation', 'function login(token: string, password: string) {}'],
    ['max tokens', 'const maxTokens = 4096;'],
    ['empty assignment followed by another line', 'GITHUB_TOKEN=\nsrc/config.ts:2: export const retries = 3;'],
    ['base64 image', 'src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="'],
  ])('leaves a %s alone', (_what, text) => {
    expect(kinds(text)).toEqual([]);
    expect(redactSecretText(text).text).toBe(text);
  });
});

describe('SecretScrubber', () => {
  it('counts distinct secrets across a run and summarises their kinds', () => {
    const scrubber = new SecretScrubber();
    scrubber.scrub(`a ${GH}`);
    scrubber.scrub(`again ${GH}`);
    scrubber.scrub(`OPENAI_API_KEY=${OPENAI}`);
    expect(scrubber.count).toBe(2);
    expect(scrubber.summary()).toBe('redacted 2 secrets (github token, api key) before sending to the model');
    expect(new SecretScrubber().summary()).toBeUndefined();
  });

  it('spots placeholders in tool arguments, however deep', () => {
    expect(placeholderIn({ path: 'a', new_string: 'x = [redacted:github token]' })).toBe(true);
    expect(placeholderIn({ edits: [{ text: '[redacted:jwt]' }] })).toBe(true);
    expect(placeholderIn({ path: 'a', new_string: 'plain' })).toBe(false);
    expect(PLACEHOLDER_REFUSAL).toContain('placeholder');
  });
});

describe('SensitiveFiles', () => {
  const policy = new SensitiveFiles();

  it.each([
    '.env',
    'config/.env.production',
    '.env.local',
    'certs/server.pem',
    'tls/private.key',
    'id_rsa',
    'home/.ssh/id_ed25519',
    '.ssh/config',
    '.npmrc',
    '.netrc',
    '.pypirc',
    'credentials',
    'gcp/credentials.json',
    '.aws/credentials',
    'nested/.aws/credentials',
    'store.p12',
    'cert.pfx',
  ])('protects %s', (path) => {
    expect(policy.isProtected(path)).toBe(true);
    expect(policy.reason(path)).toContain('protected file');
  });

  it.each(['.env.example', '.env.sample', 'src/.env.template', 'id_rsa.pub', 'src/credentials.ts', 'src/env.ts', 'keys.ts', 'README.md', 'src/token.go'])(
    'leaves %s readable',
    (path) => {
      expect(policy.isProtected(path)).toBe(false);
    },
  );

  it('lets the user deny more and re-allow a built-in pattern', () => {
    const custom = new SensitiveFiles({ deny: ['secrets/**', 'local.settings.json'], allow: ['.npmrc', 'fixtures/*.pem'] });
    expect(custom.isProtected('secrets/prod/db.yaml')).toBe(true);
    expect(custom.isProtected('api/local.settings.json')).toBe(true);
    expect(custom.isProtected('.npmrc')).toBe(false);
    expect(custom.isProtected('fixtures/test.pem')).toBe(false);
    expect(custom.isProtected('other/test.pem')).toBe(true);
    // A user deny beats the built-in allow list.
    expect(new SensitiveFiles({ deny: ['.env.example'] }).isProtected('.env.example')).toBe(true);
  });
});

describe('config: apiKey', () => {
  it('accepts only "keychain" and never echoes a pasted key', async () => {
    const { configSchema } = await import('../../server/src/config/schema.js');
    const pasted = 'sk-proj-' + 'abc123def456ghi789jkl';
    const bad = configSchema.safeParse({ providers: { x: { kind: 'openai', model: 'm', apiKey: pasted } } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).not.toContain(pasted);
    expect(configSchema.safeParse({ providers: { x: { kind: 'openai', model: 'm', apiKey: 'keychain' } }, sensitiveFiles: { deny: ['*.secret'] } }).success).toBe(true);
  });
});
