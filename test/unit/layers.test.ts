import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SOURCE = join(import.meta.dirname, '..', '..', 'server', 'src');

function files(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1]!);
}

/** The architecture invariants of ARCHITECTURE.md, checked rather than hoped for. */
describe('layering', () => {
  const all = files(SOURCE).map((path) => ({ path: relative(SOURCE, path), imports: importsOf(path) }));

  it('only server/src/lsp imports vscode-languageserver', () => {
    const offenders = all.filter((file) => !file.path.startsWith('lsp/') && file.imports.some((name) => name.startsWith('vscode-languageserver')));
    expect(offenders.map((file) => file.path)).toEqual([]);
  });

  it('the agent core, tools, providers, store and config never reach up into a front-end', () => {
    const core = all.filter((file) => /^(agent|providers|store|config|protocol)\//.test(file.path));
    const offenders = core.filter((file) => file.imports.some((name) => /(^|\/)(lsp|cli)\//.test(name)));
    expect(offenders.map((file) => file.path)).toEqual([]);
  });

  it('providers and store do not depend on the agent', () => {
    const lower = all.filter((file) => /^(providers|store)\//.test(file.path));
    const offenders = lower.filter((file) => file.imports.some((name) => name.includes('/agent/')));
    expect(offenders.map((file) => file.path)).toEqual([]);
  });

  it('nothing in the server writes to stdout with console.log', () => {
    // connection.console.log is window/logMessage, and comments may mention the hazard.
    const code = (path: string) => readFileSync(join(SOURCE, path), 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '');
    const offenders = all.filter((file) => /(?<!connection\.)console\.log\(/.test(code(file.path)));
    expect(offenders.map((file) => file.path)).toEqual([]);
  });
});
