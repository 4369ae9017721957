import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ZED = join(import.meta.dirname, '..', '..', 'clients', 'zed');
const manifest = readFileSync(join(ZED, 'extension.toml'), 'utf8');
const library = readFileSync(join(ZED, 'src', 'lib.rs'), 'utf8');
const cargo = readFileSync(join(ZED, 'Cargo.toml'), 'utf8');

/** The few TOML shapes the manifest uses, read without a TOML dependency. */
function value(key: string): string | undefined {
  return new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, 'm').exec(manifest)?.[1];
}

describe('Zed extension (cannot be compiled here, so its manifest is checked)', () => {
  it('has the fields Zed requires', () => {
    expect(value('id')).toBe('codebench');
    expect(value('version')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(/^schema_version\s*=\s*1$/m.test(manifest)).toBe(true);
  });

  it('declares the codebench language server for the common languages', () => {
    const section = /\[language_servers\.([a-z-]+)\]([\s\S]*)/.exec(manifest);
    expect(section?.[1]).toBe('codebench');
    const languages = [...(/languages\s*=\s*\[([\s\S]*?)\]/.exec(section![2]!)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((match) => match[1]);
    for (const language of ['TypeScript', 'TSX', 'JavaScript', 'Python', 'Rust', 'Go', 'C', 'C++']) expect(languages).toContain(language);
    expect(new Set(languages).size).toBe(languages.length);
  });

  it('starts `codebench lsp` and honours a user binary path', () => {
    expect(library).toContain('const SERVER: &str = "codebench";');
    expect(library).toContain('LspSettings::for_worktree(language_server_id.as_ref(), worktree)');
    expect(library).toMatch(/vec!\["lsp"\.to_string\(\)\]/);
    expect(library).toContain('zed::register_extension!(Codebench);');
    expect(cargo).toMatch(/crate-type = \["cdylib"\]/);
    expect(cargo).toMatch(/zed_extension_api = "\d+\.\d+\.\d+"/);
  });
});
