/**
 * Shell command parsing for the command policy. The parser is @ericcornelissen/bash-parser (the
 * maintained fork of bash-parser): it gives simple commands, pipelines, `&&`/`||` lists,
 * redirections with their fd numbers, and flags command/parameter/arithmetic expansions. Where it
 * is known to be unfaithful (heredocs, `$'…'`, `${x:-$(y)}` nesting, brace expansion, anything
 * non-ASCII), this module does not trust it: it reports a *hazard*, and a hazard can only make the
 * policy ask, never allow. A parse error is a hazard too (fail closed).
 */

import { launches } from './programs.js';
import { shellWordValue, skippedText, unquotedMagic } from './shell-words.js';

export { hasGlob, unquotedMagic } from './shell-words.js';

export interface Redirection {
  /** The operator as written: `>`, `>>`, `<`, `>&`, `<>`, `>|`, `<<`, … */
  op: string;
  /** The target word (a file, or an fd number for `>&`/`<&`). */
  target: string;
  /** The fd being redirected, when written (`2>`). */
  fd?: string;
}

export interface SimpleCommand {
  /** Command name and arguments after quote removal. Empty for an assignment-only command. */
  argv: string[];
  /** `NAME=value` words before the command name. */
  assignments: Array<{ name: string; value: string }>;
  /** Per argv word: it holds an unquoted glob character (`*`, `?`, `[`), so the shell expands it. */
  globbed: boolean[];
  redirections: Redirection[];
  /**
   * Inside a command substitution, a compound construct or a shell command string (`sh -c …`,
   * `find -exec sh -c …`): only ever reaches the policy as a deny candidate.
   */
  nested: boolean;
}

export type ParsedCommand =
  | {
      ok: true;
      source: string;
      commands: SimpleCommand[];
      /** Reasons the policy must ask even if every command matches an allow rule. */
      hazards: string[];
      /** True when running it needs a shell (lists, pipes, redirections, globs, comments, quotes…). */
      needsShell: boolean;
    }
  | { ok: false; source: string; error: string };

interface Loc {
  start: { char: number };
  end: { char: number };
}
interface AstNode {
  type: string;
  text?: string;
  loc?: Loc;
  expansion?: Array<{ type: string; commandAST?: AstNode }>;
  [key: string]: unknown;
}

type Parse = (source: string, options: { mode: 'bash' | 'posix'; insertLOC?: boolean }) => AstNode;
let parser: Promise<Parse> | undefined;

// Loaded on first use: the parser and its arithmetic grammar cost a few ms nobody else should pay.
async function loadParser(): Promise<Parse> {
  parser ??= import('@ericcornelissen/bash-parser').then((module) => (module as unknown as { default: Parse }).default);
  return parser;
}

/** Characters that mean nothing special to a shell: a command made only of these runs without one. */
const PLAIN = /^[A-Za-z0-9_\-+=.,:/@% \t]*$/;

export async function parseCommand(source: string): Promise<ParsedCommand> {
  return parseAt(source, 0);
}

/** How deep `sh -c "sh -c '…'"` is followed before it only asks. */
const MAX_SHELL_DEPTH = 3;

async function parseAt(source: string, depth: number): Promise<ParsedCommand> {
  const hazards = new Set<string>();
  // Look-alike letters (Cyrillic "а", full-width "ｓ"), zero-width and bidi characters make what the
  // user reads differ from what runs; control characters (CR, ESC) can hide text in a terminal.
  if (/[^\x20-\x7e\n\t]/.test(source)) {
    hazards.add(/[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/.test(source)
      ? 'contains invisible or bidirectional-control characters'
      : /[\x00-\x1f\x7f]/.test(source.replace(/[\n\t]/g, ''))
        ? 'contains control characters'
        : 'contains non-ASCII characters (possible look-alikes)');
  }
  if (source.trim() === '') return { ok: false, source, error: 'the command is empty' };
  if (/<</.test(source)) hazards.add('uses a heredoc');
  if (/`|\$\(|[<>]\(/.test(source)) hazards.add('uses command or process substitution');
  if (/\$'/.test(source)) hazards.add("uses $'…' quoting");

  let ast: AstNode;
  try {
    ast = (await loadParser())(source, { mode: 'bash', insertLOC: true });
  } catch (error) {
    return { ok: false, source, error: `it could not be parsed as a shell command (${firstLine(error)})` };
  }
  const commands: SimpleCommand[] = [];
  const covered: Array<[number, number]> = [];
  walk(ast, { source, covered }, false, commands, hazards);
  if (commands.length === 0) hazards.add('contains no command');
  // What runs must be what was parsed: only when nothing else already asks, so the reason stays short.
  if (hazards.size === 0) {
    const skipped = skippedText(source, covered);
    if (skipped !== undefined) hazards.add(`has text the parser did not read as the shell will (${JSON.stringify(skipped)})`);
  }
  const needsShell = !PLAIN.test(source) || commands.length !== 1 || commands[0]!.assignments.length > 0;

  // Environment prefixes: npm reads npm_config_* in any letter case, git reads XDG_CONFIG_HOME,
  // node NODE_V8_COVERAGE… No list of names is complete, so a rule never allows any of them.
  for (const command of commands) {
    for (const { name } of command.assignments) if (command.argv.length > 0) hazards.add(`sets ${name} before the command (a rule never allows an environment prefix)`);
  }
  for (const command of [...commands]) {
    const launched = launches(command.argv);
    for (const name of launched.assignments) hazards.add(`sets ${name} through env (a rule never allows an environment prefix)`);
    for (const text of launched.shellCode) {
      hazards.add('runs a command string with a shell');
      if (depth >= MAX_SHELL_DEPTH) {
        hazards.add('nests shell command strings too deeply to check');
        continue;
      }
      // Parsed like the top level so deny rules reach `sh -c "curl …"` and `find -exec sh -c …`.
      const inner = await parseAt(text, depth + 1);
      if (!inner.ok) hazards.add(`runs a shell command string that ${inner.error.replace(/^it /, '')}`);
      else for (const nested of inner.commands) commands.push({ ...nested, nested: true });
    }
  }
  return { ok: true, source, commands, hazards: [...hazards], needsShell };
}

interface Scan {
  source: string;
  /** Character ranges (inclusive) of the top-level words, operators and fd numbers the parser read. */
  covered: Array<[number, number]>;
}

function walk(node: AstNode, source: Scan, nested: boolean, out: SimpleCommand[], hazards: Set<string>): void {
  switch (node.type) {
    case 'Script':
    case 'CompoundList':
      for (const child of node.commands as AstNode[]) walk(child, source, nested, out, hazards);
      if (node.type === 'CompoundList') hazards.add('uses a command group');
      return;
    case 'Pipeline':
      for (const child of node.commands as AstNode[]) walk(child, source, nested, out, hazards);
      return;
    case 'LogicalExpression':
      walk(node.left as AstNode, source, nested, out, hazards);
      walk(node.right as AstNode, source, nested, out, hazards);
      return;
    case 'Command':
      out.push(simpleCommand(node, source, nested, out, hazards));
      if (node.async === true) hazards.add('runs something in the background (&)');
      return;
    default:
      // if/for/while/case/function/subshell: their bodies would need the same analysis plus
      // control flow; asking is the honest answer.
      hazards.add(`uses a shell ${node.type.toLowerCase()} construct`);
      collectNested(node, source, out, hazards);
  }
}

function simpleCommand(node: AstNode, source: Scan, nested: boolean, out: SimpleCommand[], hazards: Set<string>): SimpleCommand {
  const command: SimpleCommand = { argv: [], assignments: [], redirections: [], globbed: [], nested };
  const words = [...((node.prefix as AstNode[] | undefined) ?? []), ...(node.name ? [node.name as AstNode] : []), ...((node.suffix as AstNode[] | undefined) ?? [])];
  for (const word of words) {
    if (word.type === 'Redirect') {
      const target = word.file as AstNode;
      inspectWord(target, source, nested, out, hazards);
      if (!nested) for (const part of [word.op, word.numberIo] as Array<AstNode | undefined>) if (part?.loc) source.covered.push([part.loc.start.char, part.loc.end.char]);
      command.redirections.push({
        op: (word.op as AstNode).text ?? '?',
        target: target.text ?? '',
        ...(word.numberIo ? { fd: (word.numberIo as AstNode).text } : {}),
      });
      continue;
    }
    if (word.type === 'dless' || word.type === 'dlessdash') {
      hazards.add('uses a heredoc');
      continue;
    }
    inspectWord(word, source, nested, out, hazards);
    if (word.type === 'AssignmentWord' && command.argv.length === 0) {
      const text = word.text ?? '';
      const equals = text.indexOf('=');
      command.assignments.push({ name: text.slice(0, equals), value: text.slice(equals + 1) });
    } else if (word.type === 'Word') {
      command.argv.push(word.text ?? '');
      command.globbed.push(word.loc ? unquotedMagic(source.source.slice(word.loc.start.char, word.loc.end.char + 1)).glob : true);
    } else {
      hazards.add(`contains an unexpected ${word.type} element`);
    }
  }
  return command;
}

/** Expansions and the unquoted shell magic the parser leaves in `text`. */
function inspectWord(word: AstNode, scan: Scan, nested: boolean, out: SimpleCommand[], hazards: Set<string>): void {
  const source = scan.source;
  for (const expansion of word.expansion ?? []) {
    if (expansion.type === 'CommandExpansion') {
      hazards.add('uses command or process substitution');
      if (expansion.commandAST) walk(expansion.commandAST, scan, true, out, hazards);
    } else if (expansion.type === 'ArithmeticExpansion') {
      hazards.add('uses arithmetic expansion');
    } else {
      hazards.add('expands a variable (its value is unknown until it runs)');
    }
  }
  const raw = word.loc ? source.slice(word.loc.start.char, word.loc.end.char + 1) : undefined;
  if (raw === undefined) {
    hazards.add('could not be checked word by word');
    return;
  }
  if (!nested && (word.expansion ?? []).length === 0) {
    scan.covered.push([word.loc!.start.char, word.loc!.end.char]);
    // bash-parser ends `test#x` at the `#` (the shell does not: `#` starts a comment only at the
    // start of a word) and has other blind spots; re-derive the word from its text and compare.
    const value = shellWordValue(raw);
    if (value !== word.text) hazards.add(`has a word the parser read as ${JSON.stringify(word.text ?? '')} but the shell reads as ${value === undefined ? 'something else' : JSON.stringify(value)}`);
  }
  const magic = unquotedMagic(raw);
  if (magic.brace) hazards.add('uses brace expansion');
  if (magic.tilde) hazards.add('uses ~ (home directory) expansion');
  if (magic.dollar) hazards.add('expands a variable (its value is unknown until it runs)');
  if (nested) hazards.add('uses command or process substitution');
}

function collectNested(node: unknown, source: Scan, out: SimpleCommand[], hazards: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectNested(item, source, out, hazards);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const ast = node as AstNode;
  if (ast.type === 'Command') {
    // Commands inside compound constructs still count for deny rules.
    out.push(simpleCommand(ast, source, true, out, hazards));
    return;
  }
  for (const [key, value] of Object.entries(ast)) if (key !== 'loc') collectNested(value, source, out, hazards);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
