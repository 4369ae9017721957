import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfigFile, resolveConfig } from '../../server/src/config/load.js';
import { createCliSandbox, runInSandbox, type CliSandbox } from './run-cli.js';

const KEY = 'sk-abcdefghijklmnop1234';

describe('codebench config', () => {
  let sandbox: CliSandbox;

  beforeEach(() => {
    sandbox = createCliSandbox('codebench-config-');
  });
  afterEach(() => sandbox.cleanup());

  it('path prints the path on stdout and whether it exists on stderr', async () => {
    const missing = await runInSandbox(sandbox, ['config', 'path']);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toBe(`${sandbox.configPath}\n`);
    expect(missing.stderr).toMatch(/does not exist/);

    writeFileSync(sandbox.configPath, '{}');
    const present = await runInSandbox(sandbox, ['config', 'path']);
    expect(present.stdout).toBe(`${sandbox.configPath}\n`);
    expect(present.stderr).toBe('exists\n');

    // Without CODEBENCH_CONFIG the XDG location applies.
    const xdg = await runInSandbox(sandbox, ['config', 'path'], { env: { CODEBENCH_CONFIG: '' } });
    expect(xdg.stdout).toBe(`${join(sandbox.env.XDG_CONFIG_HOME!, 'codebench', 'config.json')}\n`);
  });

  it('init writes a private, annotated file the loader accepts, and will not overwrite it without --force', async () => {
    const configPath = join(sandbox.root, 'fresh', 'codebench', 'config.json');
    const env = { CODEBENCH_CONFIG: configPath };
    const first = await runInSandbox(sandbox, ['config', 'init'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${configPath}\n`);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(configPath)).mode & 0o777).toBe(0o700);
    const text = readFileSync(configPath, 'utf8');
    expect(text).toMatch(/^\s*\/\/ /m);
    expect(text).toContain('// "claude": { "kind": "anthropic"');
    const config = resolveConfig([{ source: configPath, config: readConfigFile(configPath) }]);
    expect(config.defaultProvider).toBe('local');
    expect(Object.keys(config.providers)).toEqual(['local']);
    expect(config.providers.local).toMatchObject({ kind: 'ollama', model: 'qwen2.5-coder:7b', baseURL: 'http://127.0.0.1:11434' });

    writeFileSync(configPath, '{ "review": "auto" }');
    const second = await runInSandbox(sandbox, ['config', 'init'], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already exists.*--force/);
    expect(readFileSync(configPath, 'utf8')).toBe('{ "review": "auto" }');

    chmodSync(configPath, 0o644);
    const forced = await runInSandbox(sandbox, ['config', 'init', '--force', '--provider', 'anthropic'], { env });
    expect(forced.code).toBe(0);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    const claude = resolveConfig([{ source: configPath, config: readConfigFile(configPath) }]);
    expect(claude.defaultProvider).toBe('claude');
    expect(claude.providers.claude).toMatchObject({ kind: 'anthropic', apiKeyEnv: 'ANTHROPIC_API_KEY' });
  });

  it.each(['ollama', 'openai', 'anthropic', 'openai-compatible'])('init --provider %s parses with the real loader', async (kind) => {
    const result = await runInSandbox(sandbox, ['config', 'init', '--provider', kind]);
    expect(result.code).toBe(0);
    const config = resolveConfig([{ source: sandbox.configPath, config: readConfigFile(sandbox.configPath) }]);
    expect(config.providers[config.defaultProvider]?.kind).toBe(kind);
  });

  it('init refuses an unknown provider kind with status 2', async () => {
    const result = await runInSandbox(sandbox, ['config', 'init', '--provider', 'gemini']);
    expect(result.code).toBe(2);
    expect(existsSync(sandbox.configPath)).toBe(false);
  });

  it('show prints the effective config with key status and secrets masked', async () => {
    writeFileSync(
      sandbox.configPath,
      `{
        // JSONC is fine here too
        "providers": {
          "gpt": { "kind": "openai", "model": "gpt-5", "apiKeyEnv": "TEST_KEY" },
          "claude": { "kind": "anthropic", "model": "claude-sonnet-4-5" },
          "proxy": { "kind": "openai-compatible", "model": "m", "baseURL": "https://bob:hunter2secret@proxy.example/v1?api_key=querysecret99&x=1" },
        },
      }`,
    );
    const result = await runInSandbox(sandbox, ['config', 'show'], { env: { TEST_KEY: KEY } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('# an editor can override any of this per workspace');
    expect(result.stdout).toContain('key: TEST_KEY set (sk-…1234)');
    expect(result.stdout).toContain('key: ANTHROPIC_API_KEY not set');
    expect(result.stdout).toContain('defaultProvider: gpt');
    expect(result.stdout).toContain('baseURL: https://api.openai.com/v1 (default)');
    expect(result.stdout).toContain('baseURL: https://***@proxy.example/v1?api_key=***&x=1');
    for (const secret of [KEY, 'abcdefghijklmnop', 'hunter2secret', 'querysecret99', 'bob:']) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }

    const json = await runInSandbox(sandbox, ['config', 'show', '--json'], { env: { TEST_KEY: KEY } });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain(KEY);
    const shown = JSON.parse(json.stdout);
    expect(shown).toMatchObject({
      path: sandbox.configPath,
      exists: true,
      config: { defaultProvider: 'gpt', review: 'ask', maxSteps: 25 },
      keys: { gpt: { env: 'TEST_KEY', set: true, preview: 'sk-…1234' }, claude: { env: 'ANTHROPIC_API_KEY', set: false } },
    });
    expect(shown.config.providers.proxy.baseURL).toBe('https://***@proxy.example/v1?api_key=***&x=1');
  });

  it('show without a file prints the built-in local Ollama', async () => {
    const result = await runInSandbox(sandbox, ['config', 'show']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('does not exist');
    expect(result.stdout).toMatch(/local \(default\):\n {4}kind: ollama\n {4}model: qwen2\.5-coder:7b/);
  });

  it('show fails with status 1 naming the file and the key of a broken config', async () => {
    writeFileSync(sandbox.configPath, '{ "providers": { "local": { "kind": "ollama", "model": "m" } }, "reveiw": "ask" }');
    const result = await runInSandbox(sandbox, ['config', 'show']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(sandbox.configPath);
    expect(result.stderr).toContain('reveiw');

    writeFileSync(sandbox.configPath, '{\n  "review": ,\n}');
    const syntax = await runInSandbox(sandbox, ['config', 'show']);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain(`Invalid JSON in codebench config ${sandbox.configPath} at 2:13: ValueExpected`);
  });

  it('an unknown flag is one line on stderr and status 2; --help is status 0', async () => {
    const unknown = await runInSandbox(sandbox, ['config', 'show', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain('--bogus');

    for (const args of [['config', '--help'], ['config', 'init', '--help'], ['--help']]) {
      const help = await runInSandbox(sandbox, args);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Usage:/);
    }
  });
});
