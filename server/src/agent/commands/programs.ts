import path from 'node:path';
import { firstOperand, optionValue, sedScripts, splitOption } from './option-words.js';

/**
 * Which programs one argv runs besides its own: `env curl`, `nice -n 5 curl`, `timeout 5 curl`,
 * `xargs curl`, `find . -exec curl {} \;`, `npx curl`, `sh -c "curl …"`, `eval curl`,
 * `git -c core.pager='curl …' log`, `node -e "…"`. Deny rules are checked against every program
 * found here, and an allow rule ending in `*` never lets its wildcard name one of them.
 *
 * This is a model of the common launchers, not of every program: a launcher it does not know
 * is just a program whose arguments are judged by the option table (command-options.ts), where
 * unknown options ask.
 */

export interface Launches {
  /**
   * Programs run by this argv (itself first), with the index where each starts in it (a suffix, or
   * a slice for find). `possible`: a launcher operand that might be the program if an unknown
   * option took a value; deny rules check these too, nothing else does.
   */
  programs: Array<{ argv: string[]; start: number; possible?: boolean }>;
  /** Text a shell will run (`sh -c TEXT`, `eval …`, `su -c`, git's command-valued config): parsed recursively. */
  shellCode: string[];
  /** Text another interpreter runs (`node -e`, `python -c`, an awk or sed program): scanned for denied names. */
  code: string[];
  /** `NAME=value` words an `env` puts into the environment of the program it runs. */
  assignments: string[];
}

/**
 * Launchers whose own options come first, then (after `operands` fixed operands) the program.
 * `values` lists the options that take a value (short letters and long names), so that value is
 * not mistaken for the program.
 */
interface Launcher {
  values: string[];
  /** Operands before the program: timeout's duration, chrt's priority, flock's lock file. */
  operands?: number;
  /** env: `NAME=value` words before the program. */
  assigns?: boolean;
  /** Options whose value is shell code (`su -c`, `flock -c`, `npx -c`). */
  shellValues?: string[];
  /** `watch` and `eval`: the words after the options are joined and given to a shell. */
  joinsShell?: boolean;
}

const LAUNCHERS: Record<string, Launcher> = {
  env: { values: ['-u', '--unset', '-C', '--chdir', '-S', '--split-string'], assigns: true, shellValues: ['-S', '--split-string'] },
  nice: { values: ['-n', '--adjustment'] },
  nohup: { values: [] },
  timeout: { values: ['-s', '--signal', '-k', '--kill-after'], operands: 1 },
  stdbuf: { values: ['-i', '-o', '-e', '--input', '--output', '--error'] },
  command: { values: [] },
  builtin: { values: [] },
  exec: { values: ['-a'] },
  time: { values: ['-f', '--format', '-o', '--output'] },
  xargs: { values: ['-a', '--arg-file', '-d', '--delimiter', '-E', '-I', '-L', '-n', '--max-args', '-P', '--max-procs', '-s', '--max-chars', '--process-slot-var'] },
  sudo: { values: ['-u', '--user', '-g', '--group', '-C', '--close-from', '-D', '--chdir', '-h', '--host', '-p', '--prompt', '-r', '--role', '-t', '--type', '-U', '--other-user', '-T', '--command-timeout'] },
  doas: { values: ['-u', '-C'] },
  su: { values: ['-c', '--command', '-s', '--shell', '-g', '--group', '-G'], shellValues: ['-c', '--command'], operands: 99 },
  setsid: { values: [] },
  ionice: { values: ['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid'] },
  chrt: { values: [], operands: 1 },
  taskset: { values: [], operands: 1 },
  flock: { values: ['-w', '--timeout', '-E', '--conflict-exit-code', '-c', '--command'], operands: 1, shellValues: ['-c', '--command'] },
  unbuffer: { values: [] },
  caffeinate: { values: ['-t', '-w'] },
  strace: { values: ['-o', '-e', '-p', '-u', '-s', '-E', '-I', '-a', '-b', '-P', '-S', '-X'] },
  ltrace: { values: ['-o', '-e', '-p', '-u', '-s', '-E', '-n', '-a', '-A', '-D', '-F', '-l', '-x'] },
  valgrind: { values: [] },
  watch: { values: ['-n', '--interval', '-d', '--differences', '-q', '--equexit'], joinsShell: true },
  eval: { values: [], joinsShell: true },
  npx: { values: ['-p', '--package', '-c', '--call', '-w', '--workspace'], shellValues: ['-c', '--call'] },
  bunx: { values: ['-p', '--package'] },
  pnpx: { values: [] },
  uvx: { values: ['--from', '--with', '-p', '--python'] },
  pipx: { values: [] },
  busybox: { values: [] },
};

/** `npm exec …`, `pnpm dlx …`: a subcommand that runs the program after it. */
const SUBCOMMAND_LAUNCHERS: Record<string, string[]> = {
  npm: ['exec', 'x'],
  pnpm: ['exec', 'dlx'],
  yarn: ['exec', 'dlx'],
  bun: ['x', 'exec'],
  pipx: ['run'],
  uv: ['run', 'tool'],
  poetry: ['run'],
  pdm: ['run'],
  cargo: ['run'],
  nix: ['run', 'shell', 'develop'],
  docker: ['run', 'exec'],
  podman: ['run', 'exec'],
};

export const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'fish', 'csh', 'tcsh', 'pwsh', 'powershell', 'cmd']);

/** Interpreters and the options whose value is code. */
const INTERPRETERS: Record<string, string[]> = {
  node: ['-e', '--eval', '-p', '--print'],
  nodejs: ['-e', '--eval', '-p', '--print'],
  deno: ['eval'],
  bun: ['-e', '--eval', '-p', '--print'],
  python: ['-c'],
  perl: ['-e', '-E'],
  ruby: ['-e'],
  php: ['-r'],
  lua: ['-e'],
  Rscript: ['-e'],
  osascript: ['-e'],
  tclsh: [],
  jshell: [],
};

const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);
const AWKS = new Set(['awk', 'gawk', 'mawk', 'nawk', 'busybox-awk']);
/** git configuration keys whose value git runs with a shell. */
const GIT_COMMAND_KEY = /(command|editor|pager|program|fsmonitor|sshcommand|askpass|proxy|helper|textconv|driver|cmd|tool|hook|exec|shell|browser|path)/i;

/** A program's name for the tables: its base name, without a version suffix (python3.12 → python). */
export function programName(word: string): string {
  const base = path.basename(word);
  const versioned = /^(python|pip|perl|ruby|node|php|lua)[\d.]*$/.exec(base);
  return versioned ? versioned[1]! : base;
}

export function launches(argv: readonly string[], depth = 0): Launches {
  const result: Launches = { programs: [{ argv: [...argv], start: 0 }], shellCode: [], code: [], assignments: [] };
  if (argv.length === 0 || depth > 8) return result;
  const add = (inner: string[], start: number) => {
    if (inner.length === 0) return;
    const nested = launches(inner, depth + 1);
    for (const program of nested.programs) result.programs.push({ ...program, start: start + program.start });
    result.shellCode.push(...nested.shellCode);
    result.code.push(...nested.code);
    result.assignments.push(...nested.assignments);
  };
  const name = programName(argv[0]!);

  const launcher = LAUNCHERS[name];
  if (launcher) {
    const start = launchedProgram(argv, 1, launcher, result);
    if (start !== undefined) {
      if (launcher.joinsShell) result.shellCode.push(argv.slice(start).join(' '));
      else add(argv.slice(start), start);
    }
    return result;
  }
  const subcommands = SUBCOMMAND_LAUNCHERS[name];
  if (subcommands) {
    // The first launching subcommand anywhere (`npm --prefix . exec curl`): a script that happens
    // to be called `exec` (`npm run exec`) is read as launching too, which only errs toward asking.
    const at = argv.findIndex((word, index) => index > 0 && subcommands.includes(word));
    if (at > 0) {
      // `docker run IMAGE curl`, `cargo run --bin x -- …`: any later operand may be the program.
      for (let index = at + 1; index < argv.length; index++) {
        if (!argv[index]!.startsWith('-')) result.programs.push({ argv: argv.slice(index), start: index, possible: true });
      }
      let start = at + 1;
      // npm exec -c 'cmd' / --call=cmd: shell code; `--` ends the launcher's options.
      for (; start < argv.length && argv[start]!.startsWith('-'); start++) {
        const word = argv[start]!;
        if (word === '--') {
          start++;
          break;
        }
        const [option, inline] = splitOption(word);
        if (option === '-c' || option === '--call') {
          const value = inline ?? argv[++start];
          if (value !== undefined) result.shellCode.push(value);
        } else if (inline === undefined && (option === '-p' || option === '--package' || option === '-w' || option === '--workspace')) start++;
      }
      add(argv.slice(start), start);
    }
    if (name !== 'bun') return result;
  }
  if (SHELLS.has(name)) {
    for (let index = 1; index < argv.length; index++) {
      const word = argv[index]!;
      if (!/^[-+]/.test(word) || word === '-' || word === '--') break;
      // -c anywhere in a cluster (-c, -ec, -lc): the first operand is the command string.
      if (/^-[A-Za-z]*c[A-Za-z]*$/.test(word) || word === '--command') {
        const text = argv.slice(index + 1).find((candidate) => !/^[-+]/.test(candidate));
        if (text !== undefined) result.shellCode.push(text);
        break;
      }
      if (/^[-+]o$|^[-+]O$|^--(rcfile|init-file)$/.test(word)) index++;
    }
    return result;
  }
  if (name === 'find') {
    for (let index = 1; index < argv.length; index++) {
      if (!FIND_EXEC.has(argv[index]!)) continue;
      const end = argv.findIndex((word, at) => at > index && (word === ';' || word === '+'));
      add(argv.slice(index + 1, end === -1 ? undefined : end), index + 1);
    }
    return result;
  }
  if (name === 'git') {
    let subcommand: string | undefined;
    for (let index = 1; index < argv.length; index++) {
      const word = argv[index]!;
      const [option, inline] = splitOption(word);
      const value = () => inline ?? argv[++index];
      // -u and -x are ordinary flags of most subcommands (`push -u`, `cherry-pick -x`); only
      // `clone -u` / `fetch -u` (upload-pack) and `rebase -x` run them as commands.
      const runs =
        ['--exec', '--extcmd', '--upload-pack', '--receive-pack'].includes(option) ||
        (option === '-u' && ['clone', 'fetch', 'pull', 'ls-remote', 'archive'].includes(subcommand ?? '')) ||
        (option === '-x' && subcommand === 'rebase');
      if (option === '-c') {
        const setting = value() ?? '';
        const equals = setting.indexOf('=');
        if (equals > 0 && GIT_COMMAND_KEY.test(setting.slice(0, equals))) result.shellCode.push(setting.slice(equals + 1));
      } else if (runs) {
        const text = value();
        if (text !== undefined) result.shellCode.push(text);
      } else if (subcommand === undefined && ['-C', '--git-dir', '--work-tree', '--namespace', '--config-env', '--exec-path'].includes(option) && inline === undefined) {
        index++;
      } else if (subcommand === undefined && !word.startsWith('-')) {
        subcommand = word;
      }
    }
    return result;
  }
  if (AWKS.has(name)) {
    const program = firstOperand(argv, ['-F', '-v', '-f', '--file', '--field-separator', '--assign', '-E', '--exec', '-i', '--include', '-l', '--load']);
    if (program !== undefined) result.code.push(program);
    return result;
  }
  if (name === 'sed' || name === 'gsed') {
    result.code.push(...sedScripts(argv));
    return result;
  }
  const codeOptions = INTERPRETERS[name];
  if (codeOptions) {
    for (let index = 1; index < argv.length; index++) {
      const word = argv[index]!;
      const [option, inline] = splitOption(word);
      if (codeOptions.includes(option)) {
        const text = inline ?? argv[index + 1];
        if (text !== undefined) result.code.push(text);
      } else if (/^-[A-Za-z]+$/.test(word) && codeOptions.some((code) => code.length === 2 && word.slice(1).includes(code[1]!))) {
        // python -Ic "…", perl -ne '…': a cluster ending in a code option takes the next word.
        result.code.push(argv[index + 1] ?? '');
      }
    }
  }
  return result;
}

/**
 * Skips a launcher's options and fixed operands; returns where the launched program starts. Every
 * later operand is also recorded as a possible program (for deny rules only), in case an option
 * this table does not know takes a value and shifts where the program really starts.
 */
function launchedProgram(argv: readonly string[], from: number, launcher: Launcher, result: Launches): number | undefined {
  let operands = launcher.operands ?? 0;
  let start: number | undefined;
  let optionsEnded = false;
  for (let index = from; index < argv.length && start === undefined; index++) {
    const word = argv[index]!;
    // After `--` no more options, but env still reads NAME=value words (`env -- X=1 cmd`).
    if (word === '--' && !optionsEnded) {
      optionsEnded = true;
      continue;
    }
    if (!optionsEnded && word.startsWith('-') && word !== '-') {
      const { option, value, next } = optionValue(word, launcher.values);
      if (option !== undefined && launcher.shellValues?.includes(option)) {
        const text = value ?? argv[index + 1];
        if (text !== undefined) result.shellCode.push(text);
      }
      if (next) index++;
      continue;
    }
    if (launcher.assigns && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
      result.assignments.push(word.slice(0, word.indexOf('=')));
      continue;
    }
    if (operands > 0) {
      operands--;
      continue;
    }
    start = index;
  }
  if (start === undefined) return undefined;
  for (let index = from; index < start; index++) {
    const word = argv[index]!;
    if (word !== '--' && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) result.programs.push({ argv: argv.slice(index), start: index, possible: true });
  }
  return start;
}

/**
 * A shell or interpreter that takes its program from stdin (`… | sh`, `… | python3`): then the
 * words piped into it are code, and deny rules look for program names among them.
 */
export function readsProgramFromStdin(argv: readonly string[]): boolean {
  const name = programName(argv[0] ?? '');
  if (!SHELLS.has(name) && !(name in INTERPRETERS) && !AWKS.has(name)) return false;
  const launched = launches(argv);
  if (launched.shellCode.length > 0 || launched.code.length > 0) return false;
  return argv.slice(1).every((word) => word.startsWith('-'));
}
