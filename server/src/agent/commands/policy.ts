import path from 'node:path';
import { wildcardHazard } from './options.js';
import { hasGlob, type ParsedCommand, type SimpleCommand } from './parse.js';
import { launches, readsProgramFromStdin } from './programs.js';

/**
 * The command policy: rules match the *parsed* command, one simple command at a time, never a
 * string prefix, so `npm test && curl … | sh` is not allowed by an `npm test` rule.
 *
 * - any program a command runs matching a deny rule ⇒ deny: the simple commands, those inside
 *   substitutions and `sh -c "…"` strings, and the programs they launch (`env curl`, `xargs curl`,
 *   `find -exec curl`, `timeout 5 curl`, `npx curl`; see command-programs.ts); a denied name in
 *   code handed to an interpreter (`node -e`, `python -c`, an awk or sed program) too;
 * - a hazard (substitution, heredoc, background, sudo, any `NAME=value` prefix, `env NAME=value`,
 *   a shell command string, redirect outside the workspace or into .git, look-alike characters,
 *   text the parser and the shell read differently, parse failure…) ⇒ ask, whatever the allow
 *   rules say;
 * - every simple command matching an allow rule ⇒ allow, where the words an allow rule's
 *   trailing `*` matched hold only operands and harmless options (command-options.ts);
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

/** Targets of output redirection that write nowhere in particular. */
const HARMLESS_DEVICES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty']);

export function evaluateCommand(parsed: ParsedCommand, rules: readonly CommandRule[], context: PolicyContext): Verdict {
  if (!parsed.ok) return { verdict: 'ask', reason: parsed.error };
  const denies = rules.filter((rule) => rule.kind === 'deny');
  const allows = rules.filter((rule) => rule.kind === 'allow');
  for (const command of parsed.commands) {
    const launched = launches(command.argv);
    for (const program of launched.programs) {
      const rule = denies.find((candidate) => matchesDeny(candidate.argv, program.argv));
      if (rule) return { verdict: 'deny', rule, reason: `\`${rule.argv.join(' ')}\` is denied by this workspace's command policy` };
    }
    // `echo curl x | sh`: what a shell reads from stdin is code, and it came from these words.
    const stdinCode = parsed.commands.some((other) => readsProgramFromStdin(other.argv)) ? parsed.commands.flatMap((other) => other.argv) : [];
    for (const code of [...launched.code, ...stdinCode]) {
      const rule = denies.find((candidate) => candidate.argv[0] !== undefined && mentionsProgram(code, candidate.argv[0]));
      if (rule) return { verdict: 'deny', rule, reason: `\`${rule.argv[0]}\` is denied by this workspace's command policy and named in code the command runs` };
    }
  }
  const reasons = [...parsed.hazards];
  for (const command of parsed.commands) reasons.push(...commandHazards(command, context));
  if (reasons.length > 0) return { verdict: 'ask', reason: `the command ${unique(reasons).join('; ')}` };
  for (const command of parsed.commands) {
    let refusal: string | undefined = `no allow rule matches \`${command.argv.join(' ')}\``;
    for (const rule of allows) {
      if (!matchesAllow(rule.argv, command.argv)) continue;
      const wildcard = rule.argv[rule.argv.length - 1] === '*';
      refusal = wildcard ? wildcardHazard(command.argv, rule.argv.length - 1, command.globbed) : undefined;
      if (refusal === undefined) break;
      refusal = `the command ${refusal} (rule \`${rule.argv.join(' ')}\`)`;
    }
    if (refusal !== undefined) return { verdict: 'ask', reason: refusal };
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
  // Any prefix asks (command-parse.ts says so as a hazard too): no list of dangerous names is
  // complete (npm_config_* in any letter case, XDG_CONFIG_HOME, NODE_V8_COVERAGE, PREFIX…).
  if (command.argv.length > 0) for (const { name } of command.assignments) reasons.push(`sets ${name} before the command (a rule never allows an environment prefix)`);
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
 * Deny rules are read generously: the program is compared by its base name, in any letter case
 * (a deny of `curl` also catches `/usr/bin/curl`, `./curl` and `CURL` on a case-insensitive file
 * system), and the rule's further words must appear in the argv in order, not necessarily next to
 * each other (`deny git push` catches `git -C . push`).
 */
export function matchesDeny(ruleArgv: readonly string[], argv: readonly string[]): boolean {
  const literal = ruleArgv[ruleArgv.length - 1] === '*' ? ruleArgv.slice(0, -1) : ruleArgv;
  if (literal.length === 0 || argv.length === 0) return false;
  if (path.basename(argv[0]!).toLowerCase() !== path.basename(literal[0]!).toLowerCase()) return false;
  let at = 1;
  for (const word of literal.slice(1)) {
    while (at < argv.length && argv[at] !== word) at++;
    if (at >= argv.length) return false;
    at++;
  }
  return true;
}

/** Whether code for an interpreter names a program as a word (`system("curl x")`, `'/usr/bin/curl'`). */
export function mentionsProgram(code: string, program: string): boolean {
  const name = path.basename(program).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.-])${name}(?![A-Za-z0-9_-])`, 'i').test(code);
}

/** Parses `npm test *`-style rule text from the CLI into words (whitespace-separated, no quoting). */
export function ruleWords(words: string[]): string[] {
  return words.flatMap((word) => word.split(/\s+/)).filter((word) => word !== '');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
