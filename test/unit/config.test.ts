import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFilePath, dataDirectory, readConfigFile, resolveConfig, parseConfigLayer } from '../../server/src/config/load.js';

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'codebench-config-')), 'config.json');
  writeFileSync(file, content);
  return file;
}

describe('configuration', () => {
  it('finds the file and data directory from the environment', () => {
    expect(configFilePath({ CODEBENCH_CONFIG: '/x/c.json' })).toBe('/x/c.json');
    expect(configFilePath({ XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/codebench/config.json');
    expect(configFilePath({ HOME: '/home/me' })).toBe('/home/me/.config/codebench/config.json');
    expect(dataDirectory({ CODEBENCH_DATA_DIR: '/d' })).toBe('/d');
    expect(dataDirectory({ XDG_DATA_HOME: '/data' })).toBe('/data/codebench');
  });

  it('defaults to a local Ollama when there is no file', () => {
    const config = resolveConfig([{ source: 'f', config: readConfigFile('/nonexistent/config.json') }]);
    expect(config.defaultProvider).toBe('local');
    expect(config.providers.local).toEqual({ kind: 'ollama', model: 'qwen2.5-coder:7b', baseURL: 'http://127.0.0.1:11434' });
    expect(config.review).toBe('ask');
  });

  it('accepts the documented public shape', () => {
    const file = tempFile(JSON.stringify({
      defaultProvider: 'local',
      providers: {
        local: { kind: 'ollama', model: 'qwen2.5-coder:7b', baseURL: 'http://127.0.0.1:11434' },
        claude: { kind: 'anthropic', model: 'claude-sonnet-4-5', apiKeyEnv: 'ANTHROPIC_API_KEY' },
        lmstudio: { kind: 'openai-compatible', model: 'm', baseURL: 'http://127.0.0.1:1234/v1' },
      },
      review: 'ask',
    }));
    const config = resolveConfig([{ source: file, config: readConfigFile(file) }]);
    expect(Object.keys(config.providers)).toEqual(['local', 'claude', 'lmstudio']);
  });

  it('names the file and the key of every problem', () => {
    const file = tempFile(JSON.stringify({ providers: { local: { kind: 'olama', model: 'x' } }, reveiw: 'ask' }));
    expect(() => readConfigFile(file)).toThrow(ConfigError);
    try {
      readConfigFile(file);
    } catch (error) {
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/providers\.local\.kind/);
      expect((error as Error).message).toMatch(/reveiw/);
    }
    const broken = tempFile('{ "review": ');
    expect(() => readConfigFile(broken)).toThrow(new RegExp(`Invalid JSON in codebench config ${broken}`));
  });

  it('rejects a defaultProvider that is not configured, naming the layer', () => {
    expect(() => resolveConfig([{ source: '/c.json', config: { defaultProvider: 'gone' } }])).toThrow(
      /Invalid codebench config in \/c\.json: defaultProvider: "gone" is not one of the configured providers \(local\)/,
    );
  });

  it('lets initializationOptions and settings override the file, merging providers by name', () => {
    const config = resolveConfig([
      { source: 'file', config: { providers: { a: { kind: 'ollama', model: 'one' } }, review: 'ask' } },
      { source: 'init', config: parseConfigLayer({ providers: { b: { kind: 'ollama', model: 'two' } }, defaultProvider: 'b' }, 'init') },
      { source: 'settings', config: parseConfigLayer({ review: 'auto' }, 'settings') },
    ]);
    expect(Object.keys(config.providers)).toEqual(['a', 'b']);
    expect(config.defaultProvider).toBe('b');
    expect(config.review).toBe('auto');
    expect(() => parseConfigLayer({ review: 'never' }, 'initializationOptions')).toThrow(/initializationOptions: review/);
  });
});
