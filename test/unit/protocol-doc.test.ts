import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REQUEST_METHODS } from '../../server/src/lsp/server.js';
import { Commands, Notifications, Requests } from '../../server/src/protocol/methods.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'protocol.md'), 'utf8');
const headings = new Set([...doc.matchAll(/^### `([^`]+)`/gm)].map((match) => match[1]));

describe('protocol.md stays in sync with the code', () => {
  it.each(Object.values(Commands))('documents command %s with a heading, a shape and an example', (command) => {
    expect(headings.has(command)).toBe(true);
    const section = doc.slice(doc.indexOf(`### \`${command}\``)).split(/^### /m)[1]!;
    expect(section).toMatch(/```json/);
  });

  it.each([...Object.values(Requests), ...Object.values(Notifications)])('documents %s with TypeScript shapes and an example', (method) => {
    expect(headings.has(method)).toBe(true);
    const section = doc.slice(doc.indexOf(`### \`${method}\``)).split(/^### /m)[1]!;
    expect(section).toMatch(/```ts/);
    expect(section).toMatch(/```json/);
  });

  it('documents every request the server binds', () => {
    for (const method of REQUEST_METHODS) {
      if (method.startsWith('codebench/')) expect(headings.has(method), method).toBe(true);
      else expect(doc, method).toContain(`\`${method}\``);
    }
  });

  it('has no heading for a method or command the code does not have', () => {
    const known = new Set<string>([...Object.values(Commands), ...Object.values(Requests), ...Object.values(Notifications)]);
    for (const heading of headings) expect(known.has(heading!), heading).toBe(true);
  });
});
