import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError, type CliContext } from './context.js';
import { arrayElements, scanToml, TomlScanError, tomlString, tomlStringArray, unquote, type TomlSection } from './helix-toml.js';
import type { Register } from './subcommand.js';

/**
 * `codebench helix-config`: Helix has no wildcard language, and a user's `language-servers` list
 * REPLACES Helix's default one, so attaching codebench to a language means re-listing that
 * language's servers plus codebench. This writes those lists, keeping whatever the user has.
 */

/** `language-servers` of Helix 25.01.1's built-in languages.toml (embedded in the `hx` binary). */
export const HELIX_DEFAULT_SERVERS: Record<string, readonly string[]> = {
  typescript: ['typescript-language-server'],
  tsx: ['typescript-language-server'],
  javascript: ['typescript-language-server'],
  jsx: ['typescript-language-server'],
  python: ['ruff', 'jedi', 'pylsp'],
  rust: ['rust-analyzer'],
  go: ['gopls', 'golangci-lint-lsp'],
  c: ['clangd'],
  cpp: ['clangd'],
  'c-sharp': ['omnisharp'],
  java: ['jdtls'],
  kotlin: ['kotlin-language-server'],
  scala: ['metals'],
  swift: ['sourcekit-lsp'],
  dart: ['dart'],
  lua: ['lua-language-server'],
  ruby: ['solargraph'],
  php: ['intelephense'],
  elixir: ['elixir-ls'],
  haskell: ['haskell-language-server'],
  ocaml: ['ocamllsp'],
  zig: ['zls'],
  nix: ['nil', 'nixd'],
  bash: ['bash-language-server'],
  html: ['vscode-html-language-server', 'superhtml'],
  css: ['vscode-css-language-server'],
  scss: ['vscode-css-language-server'],
  svelte: ['svelteserver'],
  vue: ['vuels'],
  json: ['vscode-json-language-server'],
  jsonc: ['vscode-json-language-server'],
  yaml: ['yaml-language-server', 'ansible-language-server'],
  toml: ['taplo'],
  markdown: ['marksman', 'markdown-oxide'],
  dockerfile: ['docker-langserver'],
};

const ALIASES: Record<string, readonly string[]> = {
  ts: ['typescript', 'tsx'],
  js: ['javascript', 'jsx'],
  py: ['python'],
  rs: ['rust'],
  golang: ['go'],
  'c++': ['cpp'],
  cs: ['c-sharp'],
  csharp: ['c-sharp'],
  kt: ['kotlin'],
  rb: ['ruby'],
  ex: ['elixir'],
  hs: ['haskell'],
  ml: ['ocaml'],
  sh: ['bash'],
  shell: ['bash'],
  yml: ['yaml'],
  md: ['markdown'],
  docker: ['dockerfile'],
};

/** What codebench serves, as Helix feature names; the other features stay with the user's servers. */
export const CODEBENCH_FEATURES = ['code-action', 'workspace-command', 'diagnostics'] as const;

/**
 * Helix's per-request timeout, in seconds. codebench answers every request at once (a run goes on
 * in the background and reports through $/progress), so Helix's own default of 20 s is ample; it
 * is written out so a slow first start (opening the database) is visibly accounted for.
 */
export const TIMEOUT_SECONDS = 20;

const CHAT_LANGUAGE = 'markdown';
const ENTRY = `{ name = "codebench", only-features = ${tomlStringArray(CODEBENCH_FEATURES)} }`;

export function resolveLanguages(list: string | undefined): string[] {
  if (list === undefined) return Object.keys(HELIX_DEFAULT_SERVERS);
  const names = list.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) throw new CliError('--languages: give a comma-separated list, e.g. ts,py,rust', 2);
  const languages = new Set<string>();
  for (const name of names) {
    const resolved = ALIASES[name] ?? (HELIX_DEFAULT_SERVERS[name] ? [name] : undefined);
    if (!resolved) throw new CliError(`--languages: unknown language "${name}" (known: ${[...Object.keys(HELIX_DEFAULT_SERVERS), ...Object.keys(ALIASES)].join(', ')})`, 2);
    for (const language of resolved) languages.add(language);
  }
  // The chat transcript file is Markdown: without codebench there, "Send to agent" is missing.
  languages.add(CHAT_LANGUAGE);
  return [...languages];
}

export function defaultLanguagesPath(env: NodeJS.ProcessEnv): string {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(configHome, 'helix', 'languages.toml');
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function keyValue(src: string, section: TomlSection, key: string): string | undefined {
  const found = section.keys.find((candidate) => candidate.key === key);
  return found ? src.slice(found.valueStart, found.valueEnd) : undefined;
}

function isCodebench(element: string): boolean {
  return /^["']codebench["']$/.test(element) || (element.startsWith('{') && /[{,\s]name\s*=\s*["']codebench["']/.test(element));
}

/** Adds (or refreshes) the codebench entry in one `language-servers = [...]` value. */
function editServerList(src: string, valueStart: number, valueEnd: number): Edit[] {
  const value = src.slice(valueStart, valueEnd);
  const elements = arrayElements(value);
  const existing = elements.find((element) => isCodebench(value.slice(element.start, element.end)));
  if (existing) return [{ start: valueStart + existing.start, end: valueStart + existing.end, text: ENTRY }];
  if (elements.length === 0) return [{ start: valueStart, end: valueEnd, text: `[ ${ENTRY} ]` }];
  const last = elements.at(-1)!;
  const close = value.lastIndexOf(']');
  const afterLast = value.slice(last.end, close);
  const comma = trailingComma(afterLast);
  const at = comma === undefined ? last.end : last.end + comma;
  const prefix = comma !== undefined ? '' : ',';
  if (!value.includes('\n')) return [{ start: valueStart + at, end: valueStart + at, text: `${prefix} ${ENTRY}` }];
  // Multi-line list: the new entry goes on its own line, indented like the last element.
  const lineStart = value.lastIndexOf('\n', last.start) + 1;
  const indent = /^[ \t]*/.exec(value.slice(lineStart))![0];
  const newline = value.indexOf('\n', at);
  if (newline === -1 || newline > close) return [{ start: valueStart + at, end: valueStart + at, text: `${prefix}\n${indent}${ENTRY}${comma !== undefined ? ',' : ''}` }];
  const edits: Edit[] = [];
  if (prefix) edits.push({ start: valueStart + at, end: valueStart + at, text: prefix });
  edits.push({ start: valueStart + newline + 1, end: valueStart + newline + 1, text: `${indent}${ENTRY}${comma !== undefined ? ',' : ''}\n` });
  return edits;
}

/** Offset just after a comma that follows only whitespace and comments, if there is one. */
function trailingComma(text: string): number | undefined {
  let i = 0;
  while (i < text.length) {
    if (text[i] === '#') while (i < text.length && text[i] !== '\n') i++;
    else if (text[i] === ',') return i + 1;
    else if (/\s/.test(text[i]!)) i++;
    else return undefined;
  }
  return undefined;
}

function endOfLine(src: string, offset: number): number {
  const newline = src.indexOf('\n', offset);
  return newline === -1 ? src.length : newline + 1;
}

export interface Generated {
  text: string;
  /** One line per change, for the user. */
  notes: string[];
}

/** The user's file with codebench attached to `languages`; everything else kept byte for byte. */
export function generateLanguagesToml(src: string, languages: readonly string[], command?: string): Generated {
  const sections = scanToml(src);
  if (sections[0]!.keys.some((key) => key.key === 'language' || key.key.startsWith('language.'))) {
    throw new TomlScanError('languages written as a top-level `language = [...]` array are not supported; use [[language]] tables');
  }
  const edits: Edit[] = [];
  const appended: string[] = [];
  const notes: string[] = [];
  for (const language of languages) {
    const matches = sections.filter((section) => section.arrayOfTables && section.name === 'language' && unquote(keyValue(src, section, 'name') ?? '') === language);
    if (matches.length === 0) {
      const servers = HELIX_DEFAULT_SERVERS[language] ?? [];
      appended.push(`[[language]]\nname = ${tomlString(language)}\nlanguage-servers = [ ${[...servers.map(tomlString), ENTRY].join(', ')} ]\n`);
      notes.push(`${language}: Helix's default servers (${servers.join(', ') || 'none'}) + codebench`);
      continue;
    }
    for (const section of matches) {
      const list = section.keys.find((key) => key.key === 'language-servers');
      if (list) {
        edits.push(...editServerList(src, list.valueStart, list.valueEnd));
        notes.push(`${language}: your servers kept + codebench`);
        continue;
      }
      const name = section.keys.find((key) => key.key === 'name')!;
      const servers = HELIX_DEFAULT_SERVERS[language] ?? [];
      const at = endOfLine(src, name.valueEnd);
      edits.push({ start: at, end: at, text: `${at === src.length && !src.endsWith('\n') ? '\n' : ''}language-servers = [ ${[...servers.map(tomlString), ENTRY].join(', ')} ]\n` });
      notes.push(`${language}: your table kept, Helix's default servers (${servers.join(', ')}) + codebench`);
    }
  }

  const server = sections.find((section) => !section.arrayOfTables && section.name === 'language-server.codebench');
  const inline = sections.some((section) => section.name === 'language-server' && section.keys.some((key) => key.key === 'codebench' || key.key.startsWith('codebench.')));
  if (server) {
    const wanted: Array<[string, string, boolean]> = [
      ['command', tomlString(command ?? 'codebench'), command !== undefined],
      ['args', tomlStringArray(['lsp']), false],
      ['timeout', String(TIMEOUT_SECONDS), false],
    ];
    const missing: string[] = [];
    for (const [key, value, override] of wanted) {
      const found = server.keys.find((candidate) => candidate.key === key);
      if (!found) missing.push(`${key} = ${value}\n`);
      else if (override) edits.push({ start: found.valueStart, end: found.valueEnd, text: value });
    }
    if (missing.length > 0) {
      // After the section's last key, not after trailing blank lines or the next table's comments.
      const lastKey = server.keys.at(-1);
      const at = lastKey ? endOfLine(src, lastKey.valueEnd) : endOfLine(src, server.start);
      edits.push({ start: at, end: at, text: `${at === src.length && !src.endsWith('\n') ? '\n' : ''}${missing.join('')}` });
    }
    notes.push('[language-server.codebench]: your settings kept');
  } else if (inline) {
    notes.push('language-server.codebench is defined inline under [language-server]: left as it is');
  } else {
    appended.unshift(
      [
        '[language-server.codebench]',
        `command = ${tomlString(command ?? 'codebench')}`,
        'args = [ "lsp" ]',
        '# codebench answers every request at once (agent runs report through $/progress), so this',
        '# per-request limit is only ever approached by a slow first start.',
        `timeout = ${TIMEOUT_SECONDS}`,
        '',
      ].join('\n'),
    );
  }

  let text = src;
  for (const edit of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  if (appended.length > 0) {
    const separator = text === '' ? '' : text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    text += `${separator}# Added by \`codebench helix-config\`: codebench serves only ${CODEBENCH_FEATURES.join(', ')};\n# the other servers keep every other feature.\n\n${appended.join('\n')}`;
  }
  return { text, notes };
}

/** Statusline text needs this Helix option; without it Helix shows only a spinner. */
function progressAdvice(languagesPath: string): string {
  const configPath = join(dirname(languagesPath), 'config.toml');
  const current = existsSync(configPath) ? readFileSync(configPath, 'utf8') : '';
  if (/^\s*display-progress-messages\s*=\s*true/m.test(current)) return `${configPath}: display-progress-messages is already on.\n`;
  return `To see what the agent is doing in the statusline (not only a spinner), add to ${configPath}:\n\n[editor.lsp]\ndisplay-progress-messages = true\n`;
}

interface HelixConfigOptions {
  languages?: string;
  config?: string;
  command?: string;
  write?: boolean;
  print?: boolean;
}

function run(context: CliContext, options: HelixConfigOptions): void {
  const languages = resolveLanguages(options.languages);
  if (options.command !== undefined && options.command.trim() === '') throw new CliError('--command: must not be empty', 2);
  if (options.config !== undefined && options.config.trim() === '') throw new CliError('--config: must not be empty', 2);
  const path = options.config !== undefined ? resolve(options.config) : defaultLanguagesPath(context.env);
  if (existsSync(path) && statSync(path).isDirectory()) throw new CliError(`--config: ${path} is a directory; give the languages.toml file`, 2);
  const src = existsSync(path) ? readFileSync(path, 'utf8') : '';
  let generated: Generated;
  try {
    generated = generateLanguagesToml(src, languages, options.command);
  } catch (error) {
    if (error instanceof TomlScanError) throw new CliError(`${path}: ${error.message}`, 1);
    throw error;
  }
  const { stdout, stderr } = context.io;
  if (options.print || !options.write) stdout.write(generated.text);
  if (options.write) {
    mkdirSync(dirname(path), { recursive: true });
    if (src !== '') copyFileSync(path, `${path}.bak`);
    writeFileSync(path, generated.text);
    const out = options.print ? stderr : stdout;
    out.write(`Wrote ${path}${src !== '' ? ` (previous version: ${path}.bak)` : ''}.\n`);
    for (const note of generated.notes) out.write(`  ${note}\n`);
    out.write(`\n${progressAdvice(path)}`);
  } else {
    stderr.write(`# Printed only; \`--write\` updates ${path}.\n${progressAdvice(path).replace(/^/gm, '# ')}\n`);
  }
}

export const registerHelixConfig: Register = (program, context) => {
  program
    .command('helix-config')
    .description("attach codebench to Helix's languages, keeping the language servers you have")
    .option('--languages <list>', `comma-separated, e.g. ts,py,rust (default: ${Object.keys(HELIX_DEFAULT_SERVERS).length} common languages; markdown is always added for the chat file)`)
    .option('--config <path>', 'the languages.toml to start from and write (default: $XDG_CONFIG_HOME/helix/languages.toml)')
    .option('--command <path>', 'how Helix starts codebench (default: "codebench" on PATH)')
    .option('--write', 'update the file (the old one is kept as languages.toml.bak)')
    .option('--print', 'print the result to stdout (the default without --write)')
    .action((options: HelixConfigOptions) => run(context, options));
};
