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

/**
 * Invariants of ARCHITECTURE.md that are not about imports (those are .dependency-cruiser.cjs,
 * run by dependency-rules.test.ts).
 */
describe('server invariants', () => {
  const all = files(SOURCE).map((path) => ({ path: relative(SOURCE, path) }));

  it('nothing in the server writes to stdout with console.log', () => {
    // connection.console.log is window/logMessage, and comments may mention the hazard.
    const code = (path: string) => readFileSync(join(SOURCE, path), 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '');
    const offenders = all.filter((file) => /(?<!connection\.)console\.log\(/.test(code(file.path)));
    expect(offenders.map((file) => file.path)).toEqual([]);
  });
});
