import { sedScripts, splitOption } from './option-words.js';
import { launches, programName } from './programs.js';

/**
 * What the `*` of an allow rule may stand for. A wildcard allows operands (file names, script
 * names, test filters), not options that execute, write or redirect: `find *` must not allow
 * `-exec`, `npm run *` must not allow `--script-shell=…`.
 *
 * Every program is judged by one of three modes:
 * - `read-only`: no option of it executes or writes (ls, cat, wc…): any option is fine;
 * - `listed`: options are fine unless named in `dangerous` or their name looks like one that
 *   loads, executes or writes (`--*-config`, `--*exec*`, `--output`…) — for git, whose options are
 *   too many to list but whose executing ones are few and known;
 * - `known` (the default for modelled programs): only the options in `safe` are fine;
 * and a program not in the table at all: any option asks.
 * Long options are matched in full, so an abbreviation (`--script-sh`, which npm and GNU getopt
 * accept) is not "known safe" and asks.
 *
 * `--` does not end the checking: after it, npm/npx/yarn hand the words to another program whose
 * options we cannot know, and programs disagree on what `--` means, so a word after `--` that
 * starts with `-` is judged exactly as before it. `--` itself is fine.
 *
 * A word with an unquoted glob that begins with `*`, `?` or `[` may expand to a file named like an
 * option (`-rf`, `--script-shell=…`): it asks unless the program is read-only.
 */

interface ProgramOptions {
  mode: 'read-only' | 'listed' | 'known';
  /** Options that execute, write or redirect (named in the reason; short ones also inside clusters). */
  dangerous?: string[];
  /** Options known to be harmless (`known` mode). */
  safe?: string[];
  /** Options whose value is the rest of the cluster or the next word (`-j4`, `-n 5`): not more flags. */
  valued?: string[];
  /** find-style: every `-word` is one option, never a cluster. */
  singleDash?: boolean;
  /** First operands (subcommands) that execute or write configuration: `git config`, `npm exec`. */
  dangerousSubcommands?: string[];
  /** Judges the script operand (sed, awk): a reason, or undefined when harmless. */
  script?: (argv: readonly string[], index: number) => string | undefined;
  /** make: `NAME=value` operands override variables (`SHELL=…`, `CC=…`) and run them. */
  assignmentOperands?: boolean;
  /** tar: the first operand without a dash is an option cluster (`tar xvf`). */
  bundledFirst?: boolean;
}

const READ_ONLY = ['ls', 'cat', 'head', 'tail', 'wc', 'echo', 'pwd', 'grep', 'egrep', 'fgrep', 'diff', 'cmp', 'stat', 'file', 'du', 'df', 'basename', 'dirname', 'realpath', 'readlink', 'true', 'false', 'which', 'uname', 'whoami', 'id', 'nl', 'cut', 'tr', 'rev', 'tac', 'md5sum', 'sha1sum', 'sha256sum', 'sha512sum', 'base64', 'jq', 'seq', 'printf'];

const NPM_SAFE = ['--silent', '-s', '--if-present', '--workspaces', '--ws', '--workspace', '-w', '--loglevel', '--json', '--parseable', '--color', '--no-color', '--ignore-scripts', '--verbose', '-d', '--dry-run', '--long', '-l', '--all', '-a', '--depth', '--omit', '--include-workspace-root', '--foreground-scripts', '--no-fund', '--no-audit', '--quiet', '-q', '--version', '-v', '--help', '-h', '--offline', '--prefer-offline', '--frozen-lockfile', '--filter', '--recursive', '-r', '--stream', '--reporter'];
const NPM_DANGEROUS = ['--script-shell', '--node-options', '--prefix', '-C', '--dir', '--userconfig', '--globalconfig', '-c', '--call', '--cache', '--init-module', '--shell', '--editor', '--git', '--browser', '--viewer', '--registry', '--global', '-g', '--location', '--npmrc', '--rcfile', '--cwd', '--exec', '--package', '-p', '--yes', '-y'];
const NPM_SUBCOMMANDS = ['exec', 'x', 'explore', 'config', 'c', 'set', 'init', 'create', 'innit', 'edit', 'pkg', 'dlx', 'link', 'ln', 'publish', 'unpublish', 'adduser', 'login', 'logout', 'token', 'owner', 'access', 'deprecate', 'dist-tag', 'hook', 'org', 'profile', 'team', 'env', 'node', 'bin'];
const INTERPRETER: ProgramOptions = {
  mode: 'known',
  safe: ['--version', '-V', '--no-warnings', '--enable-source-maps', '--trace-warnings', '--test', '--test-reporter', '--test-name-pattern', '-u', '-B', '-W', '-w'],
  dangerous: ['-e', '-E', '--eval', '-p', '--print', '-c', '-r', '--require', '--import', '--loader', '--experimental-loader', '-m', '-i', '-x', '--inspect', '-I', '-M', '--env-file', '--run', '--watch', '-n'],
  valued: ['-W', '--test-reporter', '--test-name-pattern'],
};

export const PROGRAM_OPTIONS: Record<string, ProgramOptions> = {
  ...Object.fromEntries(READ_ONLY.map((name) => [name, { mode: 'read-only' } satisfies ProgramOptions])),
  find: {
    mode: 'known',
    singleDash: true,
    dangerous: ['-exec', '-execdir', '-ok', '-okdir', '-fprint', '-fprint0', '-fprintf', '-fls', '-delete', '-files0-from'],
    safe: ['-name', '-iname', '-path', '-ipath', '-wholename', '-iwholename', '-regex', '-iregex', '-regextype', '-type', '-xtype', '-maxdepth', '-mindepth', '-print', '-print0', '-printf', '-ls', '-newer', '-anewer', '-cnewer', '-mtime', '-mmin', '-atime', '-amin', '-ctime', '-cmin', '-used', '-size', '-empty', '-not', '-o', '-a', '-or', '-and', '-prune', '-quit', '-true', '-false', '-user', '-group', '-uid', '-gid', '-nouser', '-nogroup', '-perm', '-depth', '-d', '-xdev', '-mount', '-follow', '-L', '-H', '-P', '-samefile', '-links', '-inum', '-lname', '-ilname', '-readable', '-writable', '-executable', '-noleaf', '-daystart', '-fstype'],
  },
  npm: { mode: 'known', safe: NPM_SAFE, dangerous: NPM_DANGEROUS, valued: ['-w', '--workspace', '--loglevel', '--depth', '--omit', '--filter', '--reporter'], dangerousSubcommands: NPM_SUBCOMMANDS },
  pnpm: { mode: 'known', safe: NPM_SAFE, dangerous: NPM_DANGEROUS, valued: ['-w', '--workspace', '--loglevel', '--depth', '--omit', '--filter', '--reporter'], dangerousSubcommands: NPM_SUBCOMMANDS },
  yarn: { mode: 'known', safe: NPM_SAFE, dangerous: NPM_DANGEROUS, valued: ['-w', '--workspace', '--loglevel', '--depth', '--omit', '--filter', '--reporter'], dangerousSubcommands: [...NPM_SUBCOMMANDS, 'run-script'] },
  npx: { mode: 'known', safe: ['--version', '--help'], dangerous: NPM_DANGEROUS },
  git: {
    mode: 'listed',
    dangerous: ['-c', '--config-env', '--exec-path', '-C', '--git-dir', '--work-tree', '--namespace', '--super-prefix', '--upload-pack', '-u', '--receive-pack', '--output', '-o', '--output-directory', '--ext-diff', '--textconv', '--exec', '-x', '--extcmd', '--tool', '--open-files-in-pager', '-O', '--template', '--config', '--global', '--system', '--file', '-f', '--remote', '--run'],
    dangerousSubcommands: ['config', 'submodule', 'bisect', 'filter-branch', 'filter-repo', 'daemon', 'instaweb', 'send-email', 'difftool', 'mergetool', 'credential', 'credential-store', 'credential-cache', 'hook', 'fsmonitor--daemon', 'web--browse', 'p4', 'svn', 'cvsimport', 'archimport', 'quiltimport', 'remote-ext', 'upload-pack', 'receive-pack', 'shell', 'alias', 'var', 'worktree', 'clone', 'init'],
  },
  sed: { mode: 'known', safe: ['-n', '--quiet', '--silent', '-E', '-r', '--regexp-extended', '-e', '--expression', '--posix', '-s', '--separate', '-u', '--unbuffered', '-z', '--null-data', '--debug', '--sandbox'], dangerous: ['-i', '--in-place', '-f', '--file', '-c', '--copy'], valued: ['-e', '--expression'], script: sedHazard },
  awk: { mode: 'known', safe: ['-F', '--field-separator', '-v', '--assign', '--posix', '-P', '--traditional'], dangerous: ['-f', '--file', '-E', '--exec', '-i', '--include', '-l', '--load', '-o', '--pretty-print', '-p', '--profile', '-D', '--debug'], valued: ['-F', '-v', '--field-separator', '--assign'], script: awkHazard },
  tar: {
    mode: 'known',
    bundledFirst: true,
    safe: ['-t', '--list', '-v', '--verbose', '-z', '--gzip', '-j', '--bzip2', '-J', '--xz', '-f', '--file', '--exclude', '--wildcards', '-O', '--to-stdout'],
    dangerous: ['--to-command', '--checkpoint-action', '--use-compress-program', '-I', '-F', '--info-script', '--new-volume-script', '--rsh-command', '--rmt-command', '-x', '--extract', '--get', '-c', '--create', '-r', '--append', '-u', '--update', '-C', '--directory', '--delete', '-A', '--catenate'],
    valued: ['-f', '--file', '--exclude'],
  },
  rsync: {
    mode: 'known',
    safe: ['-a', '--archive', '-v', '--verbose', '-r', '--recursive', '-n', '--dry-run', '-z', '--compress', '-h', '--human-readable', '-P', '--progress', '--stats', '-c', '--checksum', '-i', '--itemize-changes', '--exclude', '--include', '-l', '-p', '-t', '-g', '-o', '-D', '--list-only'],
    dangerous: ['-e', '--rsh', '--rsync-path', '--remove-source-files', '--delete', '--log-file', '--write-batch', '--only-write-batch', '--read-batch', '--backup-dir', '--temp-dir', '-T', '--partial-dir', '--daemon', '--config', '--password-file', '-M', '--remote-option'],
    valued: ['--exclude', '--include'],
  },
  make: {
    mode: 'known',
    assignmentOperands: true,
    safe: ['-j', '--jobs', '-k', '--keep-going', '-s', '--silent', '--quiet', '-n', '--dry-run', '--just-print', '-B', '--always-make', '-q', '--question', '-w', '--no-print-directory', '-r', '-R', '-O', '--output-sync', '-l', '--load-average'],
    dangerous: ['-f', '--file', '--makefile', '-E', '--eval', '-C', '--directory', '-I', '--include-dir', '-e', '--environment-overrides', '-o', '-W', '--what-if', '--new-file', '--old-file'],
    valued: ['-j', '-l', '-O'],
  },
  sort: { mode: 'listed', dangerous: ['-o', '--output', '--compress-program', '-T', '--temporary-directory', '--files0-from'] },
  rg: { mode: 'listed', dangerous: ['--pre', '--pre-glob', '-z', '--search-zip', '--ignore-file'] },
  fd: { mode: 'listed', dangerous: ['-x', '--exec', '-X', '--exec-batch'] },
  tree: { mode: 'listed', dangerous: ['-o', '--fromfile'] },
  node: INTERPRETER,
  python: INTERPRETER,
  ruby: INTERPRETER,
  perl: INTERPRETER,
  php: INTERPRETER,
  deno: INTERPRETER,
  bun: INTERPRETER,
};
for (const alias of ['gawk', 'mawk', 'nawk']) PROGRAM_OPTIONS[alias] = PROGRAM_OPTIONS.awk!;
PROGRAM_OPTIONS.gsed = PROGRAM_OPTIONS.sed!;
PROGRAM_OPTIONS.gmake = PROGRAM_OPTIONS.make!;
PROGRAM_OPTIONS.nodejs = INTERPRETER;

/**
 * Parts of long option names (`--upload-pack` → upload, pack) that load, execute, write or
 * redirect, for `listed` programs: an option of git no one listed (`--foo-config`) still asks.
 */
const DANGEROUS_PARTS = new Set(['exec', 'command', 'cmd', 'program', 'shell', 'script', 'pack', 'config', 'hook', 'hooks', 'editor', 'pager', 'prefix', 'path', 'dir', 'tree', 'output', 'file', 'load', 'require', 'import', 'eval', 'plugin', 'module', 'tool', 'template', 'remote', 'helper', 'askpass', 'proxy']);
const dangerousName = (option: string) => option.slice(2).toLowerCase().split(/[-_]/).some((part) => DANGEROUS_PARTS.has(part));

/**
 * Why the words `argv[from…]` (the part an allow rule's `*` matched) must be asked about, or
 * undefined when they are operands and harmless options only. `globbed[i]`: argv[i] had an
 * unquoted glob character.
 */
export function wildcardHazard(argv: readonly string[], from: number, globbed: readonly boolean[] = []): string | undefined {
  // A launcher (env, xargs, timeout, find -exec, sh -c, npx…) whose program falls under the
  // wildcard runs a program no rule named.
  const launched = launches(argv).programs.filter((program) => program.start > 0);
  const under = launched.find((program) => program.start >= from);
  if (under) return `runs another program (${under.argv[0]}) where the rule has a wildcard`;
  const inner = launched.filter((program) => !program.possible).sort((a, b) => b.start - a.start)[0];
  if (inner && inner.start + inner.argv.length === argv.length) {
    // `timeout 5 npm run *`: the wildcard words belong to the launched program.
    return wildcardHazard(inner.argv, from - inner.start, globbed.slice(inner.start));
  }
  if (launches(argv).shellCode.length > 0) return 'runs shell code where the rule has a wildcard';

  const name = programName(argv[0]!);
  const spec = PROGRAM_OPTIONS[name];
  // Checked for every word, option values included: `tar tf *` may expand to `tar tf a -x b`.
  for (let index = from; index < argv.length; index++) {
    if (globbed[index] && /^[*?[]/.test(argv[index]!) && spec?.mode !== 'read-only') {
      return `has a glob (${argv[index]}) where the rule has a wildcard; it could expand to a file named like an option`;
    }
  }
  let operands = 0;
  for (let index = 1; index < argv.length; index++) {
    const word = argv[index]!;
    const judged = index >= from;
    const bundled = spec?.bundledFirst && index === 1 && !word.startsWith('-');
    if (word === '--' || (!word.startsWith('-') && !bundled) || word === '-') {
      if (word !== '--' && word !== '-') {
        operands++;
        if (judged && operands === 1 && spec?.dangerousSubcommands?.includes(word)) return `runs \`${name} ${word}\`, which executes or configures programs, where the rule has a wildcard`;
        if (judged && spec?.assignmentOperands && /^[A-Za-z_][A-Za-z0-9_.-]*[+:?!]?=/.test(word)) return `sets ${word.slice(0, word.indexOf('='))} for ${name} (it can run anything) where the rule has a wildcard`;
      }
      if (judged && spec?.script) {
        const reason = spec.script(argv, index);
        if (reason) return reason;
      }
      continue;
    }
    const { reason, skipNext } = optionVerdict(name, spec, bundled ? `-${word}` : word);
    if (judged && reason) return reason;
    // The value of `-e SCRIPT` may fall under the wildcard even when `-e` does not.
    if (skipNext && index + 1 >= from && spec?.script && index + 1 < argv.length) {
      const scriptReason = spec.script(argv, index + 1);
      if (scriptReason) return scriptReason;
    }
    if (skipNext) index++;
  }
  return undefined;
}

function optionVerdict(name: string, spec: ProgramOptions | undefined, word: string): { reason?: string; skipNext: boolean } {
  if (spec === undefined) return { reason: `passes the option ${word} to ${name}, which codebench does not model, where the rule has a wildcard`, skipNext: false };
  if (spec.mode === 'read-only') return { skipNext: false };
  const dangerous = (option: string) => spec.dangerous?.includes(option) ?? false;
  const unsafe = (option: string) => `passes ${option} to ${name} (it can execute, write or redirect) where the rule has a wildcard`;
  const unknown = (option: string) => `passes ${option}, an option of ${name} codebench does not know to be harmless, where the rule has a wildcard`;
  const valued = spec.valued ?? [];
  if (spec.singleDash || word.startsWith('--')) {
    const [option, inline] = spec.singleDash ? [word, undefined] : splitOption(word);
    if (dangerous(option)) return { reason: unsafe(option), skipNext: false };
    if (spec.mode === 'listed') {
      // git and GNU getopt accept any unambiguous abbreviation: `--exe` is `--exec-path`.
      const abbreviates = option.startsWith('--') && option.length >= 4 && (spec.dangerous ?? []).some((name) => name.startsWith(option));
      if (abbreviates || (option.startsWith('--') && dangerousName(option))) return { reason: unsafe(option), skipNext: false };
      return { skipNext: false };
    }
    if (!spec.safe?.includes(option)) return { reason: unknown(option), skipNext: false };
    return { skipNext: inline === undefined && valued.includes(option) };
  }
  // A short cluster: -xvf. Digits alone (-5, git log -3) are counts.
  if (/^-\d+$/.test(word)) return spec.mode === 'listed' ? { skipNext: false } : spec.safe?.includes('-#') ? { skipNext: false } : { reason: unknown(word), skipNext: false };
  for (let index = 1; index < word.length; index++) {
    const option = `-${word[index]}`;
    if (dangerous(option)) return { reason: unsafe(option), skipNext: false };
    if (spec.mode === 'known' && !spec.safe?.includes(option)) return { reason: unknown(option), skipNext: false };
    // The rest of the cluster is this option's value (-j4, -W error): it names no more flags.
    if (valued.includes(option)) return { skipNext: index === word.length - 1 };
  }
  return { skipNext: false };
}

/**
 * A sed script may run commands (`e`, the `e` flag of `s`) or write files (`w`, `W`, the `w`
 * flag). This reads the script command by command; anything it does not recognise asks.
 */
function sedHazard(argv: readonly string[], index: number): string | undefined {
  const word = argv[index]!;
  if (!sedScripts(argv).includes(word)) return undefined;
  const script = word;
  let at = 0;
  const fail = (what: string) => `gives sed a script that ${what} where the rule has a wildcard`;
  const skipDelimited = (delimiter: string) => {
    for (; at < script.length && script[at] !== delimiter; at++) if (script[at] === '\\') at++;
    at++;
  };
  while (at < script.length) {
    const char = script[at]!;
    if (/[\s;{}!,~0-9$]/.test(char)) {
      at++;
      continue;
    }
    if (char === '/' || char === '\\') {
      at = char === '\\' ? at + 1 : at;
      const delimiter = script[at]!;
      at++;
      skipDelimited(delimiter);
      while (script[at] === 'I' || script[at] === 'M') at++;
      continue;
    }
    at++;
    if (char === 's' || char === 'y') {
      const delimiter = script[at];
      if (delimiter === undefined || delimiter === '\n' || delimiter === '\\') return fail('cannot be read');
      at++;
      skipDelimited(delimiter);
      skipDelimited(delimiter);
      const flags = /^[a-zA-Z0-9]*/.exec(script.slice(at))![0];
      if (char === 's' && /[ew]/.test(flags)) return fail(`uses the ${flags.includes('e') ? 'e (execute)' : 'w (write)'} flag`);
      at += flags.length;
      continue;
    }
    if ('eEwW'.includes(char)) return fail(char === 'e' ? 'executes a command (e)' : 'writes a file (w)');
    if ('aic'.includes(char) || 'rRbtT:'.includes(char)) {
      // Text or a label/file name up to the end of the line.
      while (at < script.length && script[at] !== '\n') at++;
      continue;
    }
    if ('dDgGhHlnNpPqQxz=F'.includes(char)) continue;
    return fail(`uses a sed command codebench does not know (${char})`);
  }
  return undefined;
}

/** awk can run commands (`system(`, `| "cmd"`, `"cmd" | getline`) and write files (`>`, `>>`). */
function awkHazard(argv: readonly string[], index: number): string | undefined {
  const program = launches(argv).code[0];
  if (program === undefined || argv[index] !== program) return undefined;
  if (/system\s*\(|\||>|@load|@include|\bgetline\b/.test(program)) return 'gives awk a program that can run commands or write files where the rule has a wildcard';
  return undefined;
}
