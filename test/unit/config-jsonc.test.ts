import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfigFile } from '../../server/src/config/load.js';

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'codebench-jsonc-')), 'config.json');
  writeFileSync(file, content);
  return file;
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config file as JSONC', () => {
  it('accepts line and block comments and trailing commas', () => {
    const file = tempFile(`// codebench config
{
  /* the provider used when an ask names none */
  "defaultProvider": "local",
  "providers": {
    "local": { "kind": "ollama", "model": "qwen2.5-coder:7b", }, // trailing comma inside
    // "gpt": { "kind": "openai", "model": "gpt-5" },
  },
  "review": "ask",
}
`);
    expect(readConfigFile(file)).toEqual({
      defaultProvider: 'local',
      providers: { local: { kind: 'ollama', model: 'qwen2.5-coder:7b' } },
      review: 'ask',
    });
  });

  it('reports a syntax error with the file and a 1-based line:column', () => {
    const file = tempFile('{\n  "review": "ask",\n  "maxSteps": ,\n}\n');
    expect(messageOf(() => readConfigFile(file))).toBe(`Invalid JSON in codebench config ${file} at 3:15: ValueExpected`);
  });

  it('reports an unterminated file at its end', () => {
    const file = tempFile('{ "review": ');
    expect(messageOf(() => readConfigFile(file))).toMatch(new RegExp(`^Invalid JSON in codebench config ${file} at 1:13: ValueExpected$`));
  });

  it('still validates the shape after comments are stripped, naming the key', () => {
    const file = tempFile('{\n  // typo below\n  "reveiw": "ask",\n}');
    expect(messageOf(() => readConfigFile(file))).toMatch(new RegExp(`Invalid codebench config in ${file}: .*reveiw`));
  });

  it('ignores a byte-order mark', () => {
    expect(readConfigFile(tempFile('\uFEFF{ "review": "auto" }'))).toEqual({ review: 'auto' });
  });

  it('rejects an empty file instead of treating it as no config', () => {
    const file = tempFile('');
    expect(messageOf(() => readConfigFile(file))).toMatch(/^Invalid JSON in codebench config .* at 1:1: ValueExpected$/);
  });
});
