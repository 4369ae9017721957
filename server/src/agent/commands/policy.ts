import path from 'node:path';
import { hasGlob, type ParsedCommand, type SimpleCommand } from './parse.js';

/**
 * The command policy: rules match the *parsed* command, one simple command at a time, never a
 * string prefix, so `npm test && curl … | sh` is not allowed by an `npm test` rule.
 *
 * - any simple command (including ones inside substitutions) matching a deny rule ⇒ deny;
 * - a hazard (substitution, heredoc, background, sudo, PATH/LD_* prefix, redirect outside the
 *   workspace, look-alike characters, parse failure…) ⇒ ask, whatever the allow rules say;
 * - every simple command matching an allow rule ⇒ allow;
 * - otherwise ⇒ ask.
 */

export interface CommandRule {
  kind: 'allow' | 'deny';
  /** Literal words compared with the argv; a trailing "*" matches any further arguments (or none). */
  argv: string[];
}

export type Verdict =
  | { verdict: 'allow' }
  | { verdict: 'deny'; reason: string; rule: CommandRule }
  | { verdict: 'ask'; reason: string };

export interface PolicyContext {
  /** Absolute working directory the command runs in. */
  cwd: string;
  /**
   * Whether a redirection target (absolute, symlinks resolved by the caller) stays in the workspace
   * and out of `.git`. Given the raw target and cwd; returns a refusal or undefined.
   */
  checkRedirectTarget(target: string, cwd: string): string | undefined;
}

/** Programs that change who runs the rest: always ask, even under an allow rule for them. */
const PRIVILEGE = new Set(['sudo', 'doas', 'su', 'pkexec', 'run0', 'runas', 'sudoedit']);

/** Environment names that change which program runs or what it loads. */
const DANGEROUS_ENV = /^(PATH|IFS|ENV|BASH_ENV|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|HOME|ZDOTDIR|CDPATH|NODE_OPTIONS|NODE_PATH|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5OPT|PERL5LIB|RUBYOPT|RUBYLIB|LD_.*|DYLD_.*|GIT_.*|npm_config_.*|NPM_CONFIG_.*|GCONV_PATH)$/;

/** Targets of output redirection that write nowhere in particular. */
const HARMLESS_DEVICES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty']);

export function evaluateCommand(parsed: ParsedCommand, rules: readonly CommandRule[], context: PolicyContext): Verdict {
  if (!parsed.ok) return { verdict: 'ask', reason: parsed.error };
  const denies = rules.filter((rule) => rule.kind === 'deny');
  const allows = rules.filter((rule) => rule.kind === 'allow');
  for (const command of parsed.commands) {
    const rule = denies.find((candidate) => matchesDeny(candidate.argv, command.argv));
    if (rule) return { verdict: 'deny', rule, reason: `\`${rule.argv.join(' ')}\` is denied by this workspace's command policy` };
  }
  const reasons = [...parsed.hazards];
  for (const command of parsed.commands) reasons.push(...commandHazards(command, context));
  if (reasons.length > 0) return { verdict: 'ask', reason: `the command ${unique(reasons).join('; ')}` };
  for (const command of parsed.commands) {
    if (!allows.some((rule) => matchesAllow(rule.argv, command.argv))) {
      return { verdict: 'ask', reason: `no allow rule matches \`${command.argv.join(' ')}\`` };
    }
  }
  return { verdict: 'allow' };
}

/** What "Always allow this command" stores: each simple command's exact argv. */
export function rulesFor(parsed: ParsedCommand): string[][] | undefined {
  if (!parsed.ok || parsed.hazards.length > 0) return undefined;
  const argvs = parsed.commands.filter((command) => !command.nested).map((command) => command.argv);
  // A rule for sudo, an env prefix or a glob would allow more than the user saw.
  if (argvs.some((argv) => argv.length === 0 || argv.some((word) => PRIVILEGE.has(word) || word === '*'))) return undefined;
  if (parsed.commands.some((command) => command.assignments.length > 0)) return undefined;
  return argvs;
}

function commandHazards(command: SimpleCommand, context: PolicyContext): string[] {
  const reasons: string[] = [];
  if (command.argv.length === 0) reasons.push('only sets variables');
  if (command.argv.some((word) => PRIVILEGE.has(path.basename(word)))) reasons.push(`runs ${command.argv.find((word) => PRIVILEGE.has(path.basename(word)))} (privilege change)`);
  for (const { name } of command.assignments) {
    if (DANGEROUS_ENV.test(name)) reasons.push(`sets ${name}, which changes what runs`);
  }
  for (const redirection of command.redirections) {
    const refusal = redirectionHazard(redirection.op, redirection.target, context);
    if (refusal) reasons.push(refusal);
  }
  return reasons;
}

function redirectionHazard(op: string, target: string, context: PolicyContext): string | undefined {
  if (op === '<<' || op === '<<-') return 'uses a heredoc';
  // fd duplication and closing (`2>&1`, `>&-`) touch no file.
  if ((op === '>&' || op === '<&') && /^(\d+|-)$/.test(target)) return undefined;
  if (target === '') return 'redirects to an empty target';
  if (HARMLESS_DEVICES.has(target)) return undefined;
  return context.checkRedirectTarget(target, context.cwd);
}

/** A rule's literal words must equal the argv word for word; a trailing "*" takes the rest. */
export function matchesAllow(ruleArgv: readonly string[], argv: readonly string[]): boolean {
  const wildcard = ruleArgv[ruleArgv.length - 1] === '*';
  const literal = wildcard ? ruleArgv.slice(0, -1) : ruleArgv;
  if (literal.length === 0) return false;
  if (wildcard ? argv.length < literal.length : argv.length !== literal.length) return false;
  // A glob in a literal position could expand to anything; only the "*" tail may hold globs.
  return literal.every((word, index) => word === argv[index] && !hasGlob(argv[index]!));
}

/**
 * Deny rules are read generously: the program is compared by its base name (a deny of `curl` also
 * catches `/usr/bin/curl`), and the remaining words as a prefix.
 */
export function matchesDeny(ruleArgv: readonly string[], argv: readonly string[]): boolean {
  const literal = ruleArgv[ruleArgv.length - 1] === '*' ? ruleArgv.slice(0, -1) : ruleArgv;
  if (literal.length === 0 || argv.length < literal.length) return false;
  return literal.every((word, index) => (index === 0 ? path.basename(argv[0]!) === path.basename(word) : argv[index] === word));
}

/** Parses `npm test *`-style rule text from the CLI into words (whitespace-separated, no quoting). */
export function ruleWords(words: string[]): string[] {
  return words.flatMap((word) => word.split(/\s+/)).filter((word) => word !== '');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
