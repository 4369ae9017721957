import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, configFileVariable, readConfigFile, resolveConfig } from '../../server/src/config/load.js';

/** What a config error names, so a fix can say "the key X" only when there is one (issue 13). */
describe('config errors name what to fix', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'codebench-config-errors-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  function errorOf(work: () => unknown): ConfigError {
    try {
      work();
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  it('a JSON syntax error names no key', () => {
    const file = join(directory, 'config.json');
    writeFileSync(file, '{\n  "review": ,\n}');
    const error = errorOf(() => readConfigFile(file));
    expect(error.message).toContain('at 2:13');
    expect(error.keys).toEqual([]);
  });

  it('schema errors name their keys, an unknown key by its own name', () => {
    const file = join(directory, 'config.json');
    writeFileSync(file, JSON.stringify({ reveiw: 'ask', providers: { local: { kind: 'ollama' } } }));
    expect(errorOf(() => readConfigFile(file)).keys).toEqual(expect.arrayContaining(['reveiw', 'providers.local.model']));
    expect(errorOf(() => resolveConfig([{ source: file, config: { defaultProvider: 'nope' } }])).keys).toEqual(['defaultProvider']);
  });

  it('commands.sharedDirectories takes directory names, and says so naming the entry', () => {
    const file = join(directory, 'config.json');
    writeFileSync(file, JSON.stringify({ commands: { sharedDirectories: ['build', '../home'] } }));
    const error = errorOf(() => readConfigFile(file));
    expect(error.keys).toEqual(['commands.sharedDirectories.1']);
    expect(error.message).toContain('must be a directory name');
    writeFileSync(file, JSON.stringify({ commands: { sharedDirectories: ['build', '.tox'] } }));
    expect(readConfigFile(file).commands?.sharedDirectories).toEqual(['build', '.tox']);
  });

  it('a missing file is the defaults, unless CODEBENCH_CONFIG named it', () => {
    const missing = join(directory, 'nowhere.json');
    expect(readConfigFile(missing)).toEqual({});
    expect(configFileVariable({})).toBeUndefined();
    expect(configFileVariable({ CODEBENCH_CONFIG: missing })).toBe('CODEBENCH_CONFIG');
    const error = errorOf(() => readConfigFile(missing, 'CODEBENCH_CONFIG'));
    expect(error.message).toBe(`CODEBENCH_CONFIG names ${missing}, which does not exist: create it (codebench config init) or unset CODEBENCH_CONFIG`);
    expect(error.keys).toEqual([]);
  });
});
