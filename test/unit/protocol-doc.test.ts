import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REQUEST_METHODS } from '../../server/src/lsp/server.js';
import { Commands, Limits, Notifications, Requests } from '../../server/src/protocol/methods.js';
import { MAX_FACT_CHARS } from '../../server/src/agent/tools/remember.js';
import { MAX_SEARCH_LIMIT } from '../../server/src/store/messages.js';
import { DEFAULT_SESSION_LIMIT, MAX_SESSION_LIMIT } from '../../server/src/store/sessions.js';

/**
 * protocol.md against protocol/: every declared method and command has a section; every params
 * and result interface the declarations name is in protocol.md, and the compiler finds it the
 * same type as shapes.ts's (same members, same optionality, same literal types) and as what the
 * params schema lets through; every limit in protocol/limits.ts is the number protocol.md states.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'protocol.md'), 'utf8');
const headings = new Set([...doc.matchAll(/^### `([^`]+)`/gm)].map((match) => match[1]!));
const commandNames = Object.values(Commands).map((declaration) => declaration.command);
const methodNames = [...Object.values(Requests), ...Object.values(Notifications)].map((declaration) => declaration.method);

function section(name: string): string {
  return doc.slice(doc.indexOf(`### \`${name}\``)).split(/^### /m)[1]!;
}

/** The TypeScript blocks of the Commands, Requests and Notifications chapters. */
function protocolTypeScript(): string {
  const chapters = doc.split(/^## /m).filter((chapter) => /^(Commands|Requests|Notifications)\b/.test(chapter));
  return chapters.flatMap((chapter) => [...chapter.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)).join('\n');
}

/** Type-checks `source` as a file in test/unit, with the project's compiler options. */
function typeErrors(source: string): string[] {
  const fileName = join(ROOT, 'test', 'unit', '__protocol_doc_check__.ts');
  const options: ts.CompilerOptions = { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  host.fileExists = ((exists) => (name: string) => name === fileName || exists(name))(host.fileExists.bind(host));
  host.getSourceFile = (name, language, ...rest) => (name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 : 0;
    const line = diagnostic.file?.fileName === fileName ? source.split('\n')[where - 1]?.trim() : diagnostic.file?.fileName;
    return `${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')} (at: ${line})`;
  });
}

describe('protocol.md stays in sync with protocol/', () => {
  it.each(commandNames)('documents command %s with a heading and an example', (command) => {
    expect(headings.has(command)).toBe(true);
    expect(section(command)).toMatch(/```json/);
  });

  it.each(methodNames)('documents %s with TypeScript shapes and an example', (method) => {
    expect(headings.has(method)).toBe(true);
    expect(section(method)).toMatch(/```ts/);
    expect(section(method)).toMatch(/```json/);
  });

  it('documents every request the server binds', () => {
    for (const method of REQUEST_METHODS) {
      if (method.startsWith('codebench/')) expect(headings.has(method), method).toBe(true);
      else expect(doc, method).toContain(`\`${method}\``);
    }
  });

  it('has no heading for a method or command the code does not have', () => {
    const known = new Set<string>([...commandNames, ...methodNames]);
    for (const heading of headings) expect(known.has(heading), heading).toBe(true);
  });

  it("names each declaration's params and result type in its section", () => {
    for (const declaration of [...Object.values(Commands), ...Object.values(Requests)]) {
      const name = declaration.kind === 'command' ? declaration.command : declaration.method;
      const text = section(name);
      // A section may show the interface or refer to it ("params: ProposalRef").
      expect(text, `${name} params`).toContain(declaration.paramsName);
      expect(text, `${name} result`).toContain(declaration.resultName);
    }
    for (const declaration of Object.values(Notifications)) expect(section(declaration.method)).toContain(declaration.paramsName);
  });

  it('every documented shape is the declared type, member for member, and the params schema accepts exactly it', () => {
    const protocol = (file: string) => JSON.stringify(join(ROOT, 'server', 'src', 'protocol', file));
    const lines = [
      `import type * as Code from ${protocol('shapes.js')};`,
      `import type { Commands, Requests, ParamsOf, ResultOf } from ${protocol('methods.js')};`,
      `import type { requestSchemas, commandSchemas } from ${protocol('params.js')};`,
      // Mutual assignability plus equal key sets: an optional member missing on one side fails too.
      'type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;',
      'type Output<S> = S extends { _zod: { output: infer O } } ? O : never;',
      'declare namespace Doc {',
      protocolTypeScript(),
      '}',
    ];
    const checks = [
      ...Object.entries(Requests).map(([key, declaration]) => ({ group: 'Requests', schemas: 'requestSchemas', key, declaration })),
      ...Object.entries(Commands).map(([key, declaration]) => ({ group: 'Commands', schemas: 'commandSchemas', key, declaration })),
    ];
    for (const { group, schemas, key, declaration } of checks) {
      const declared = `typeof ${group}['${key}']`;
      lines.push(
        `const ${group}_${key}_params_doc: Exact<ParamsOf<${declared}>, Doc.${declaration.paramsName}> = true;`,
        `const ${group}_${key}_params_code: Exact<ParamsOf<${declared}>, Code.${declaration.paramsName}> = true;`,
        `const ${group}_${key}_params_schema: Exact<Output<(typeof ${schemas})['${key}']>, ParamsOf<${declared}>> = true;`,
        `const ${group}_${key}_result_doc: Exact<ResultOf<${declared}>, Doc.${declaration.resultName}> = true;`,
        `const ${group}_${key}_result_code: Exact<ResultOf<${declared}>, Code.${declaration.resultName}> = true;`,
      );
    }
    for (const declaration of Object.values(Notifications)) {
      lines.push(`const notification_${declaration.paramsName}: Exact<Doc.${declaration.paramsName}, Code.${declaration.paramsName}> = true;`);
    }
    expect(typeErrors(lines.join('\n'))).toEqual([]);
  });

  it('the shape check itself fails on a wrong member (a check that cannot fail proves nothing)', () => {
    const wrong = `import type * as Code from ${JSON.stringify(join(ROOT, 'server', 'src', 'protocol', 'shapes.js'))};
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;
interface SearchParams { query: string; limit?: number; offset?: number }
const check: Exact<SearchParams, Code.SearchParams> = true;`;
    expect(typeErrors(wrong).length).toBe(1);
  });

  it('states every limit of protocol/limits.ts, and the store honours the same ones', () => {
    const range = (field: string, limits: { min: number; max: number; default: number }) =>
      expect(doc, field).toContain(`${field} /* ${limits.min}..${limits.max}, default ${limits.default} */`);
    range('limit?: number', Limits.sessions);
    expect(section('codebench/search')).toContain(`limit?: number /* ${Limits.search.min}..${Limits.search.max}, default ${Limits.search.default} */`);
    expect(section('codebench/sessions')).toContain(`limit?: number /* ${Limits.sessions.min}..${Limits.sessions.max}, default ${Limits.sessions.default} */`);
    for (const method of ['messages', 'proposals'] as const) {
      expect(section(`codebench/${method}`)).toContain(`limit?: number /* ${Limits[method].min}..${Limits[method].max}; omitted: all */`);
    }
    range('timeoutMs?: number', Limits.healthTimeoutMs);
    expect(section('codebench/runEvents')).toContain(`at most one notification per ${Limits.runEventsIntervalMs} ms per run`);
    expect(doc).toContain(`\`report\`s at most every ${Limits.progressReportIntervalMs} ms`);
    expect(section('codebench.ask')).toContain(`at most ${Limits.askDiagnostics.max}`);
    expect(section('codebench/memory/add')).toContain(`text: string /* 1..${Limits.memoryFact.maxChars} characters */`);
    expect(section('codebench/memory/add')).toContain(`longer than ${Limits.memoryFact.maxChars} characters`);
    expect([MAX_SEARCH_LIMIT, MAX_SESSION_LIMIT, DEFAULT_SESSION_LIMIT, MAX_FACT_CHARS]).toEqual([Limits.search.max, Limits.sessions.max, Limits.sessions.default, Limits.memoryFact.maxChars]);
  });
});
