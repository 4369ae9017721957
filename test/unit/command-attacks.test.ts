import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../server/src/agent/commands/parse.js';
import { evaluateCommand, rulesFor, type CommandRule, type PolicyContext } from '../../server/src/agent/commands/policy.js';

/**
 * Generated attacks on the command policy: each family is a loop over spellings, letter cases,
 * positions and launchers, so a fix that only catches the one string from the report fails here.
 */

const context: PolicyContext = { cwd: '/ws', checkRedirectTarget: () => undefined };

async function verdict(command: string, rules: CommandRule[]) {
  return evaluateCommand(await parseCommand(command), rules, context);
}

/** Deterministic PRNG (mulberry32), so a failing variant can be reproduced. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every letter-case family of a name: lower, UPPER, Title_Case, aLtErNaTiNg, and seeded random ones. */
function cases(name: string, rand: () => number): string[] {
  const title = name.toLowerCase().replace(/(^|_)([a-z])/g, (_, sep: string, char: string) => sep + char.toUpperCase());
  const alternating = [...name].map((char, index) => (index % 2 ? char.toUpperCase() : char.toLowerCase())).join('');
  const randomCase = () => [...name].map((char) => (rand() < 0.5 ? char.toUpperCase() : char.toLowerCase())).join('');
  return [...new Set([name, name.toLowerCase(), name.toUpperCase(), title, alternating, randomCase(), randomCase()])];
}

describe('environment prefixes: a rule never allows one', () => {
  const rules: CommandRule[] = [
    { kind: 'allow', argv: ['npm', 'test'] },
    { kind: 'allow', argv: ['git', 'status'] },
    { kind: 'allow', argv: ['env', '*'] },
    { kind: 'allow', argv: ['npm', 'run', '*'] },
  ];
  const rand = random(11);
  const families = [
    'npm_config_node_options', 'npm_config_script_shell', 'npm_config_prefix', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_git',
    'NODE_OPTIONS', 'NODE_V8_COVERAGE', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'NODE_REPL_EXTERNAL_MODULE',
    'GIT_DIR', 'GIT_WORK_TREE', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_COUNT', 'GIT_EXEC_PATH', 'GIT_SSH_COMMAND', 'GIT_EXTERNAL_DIFF',
    'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'PREFIX', 'HOME', 'ZDOTDIR', 'BASH_ENV', 'ENV', 'PATH', 'IFS',
    'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PERL5OPT', 'RUBYOPT',
    'CI', 'FOO', 'x', '_', 'A1',
    ...Array.from({ length: 8 }, () => `R${Math.floor(rand() * 1e9).toString(36)}_${Math.floor(rand() * 1e6).toString(36)}`),
  ];
  const names = families.flatMap((family) => cases(family, rand)).filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
  const forms = (name: string) => [
    `${name}=v npm test`,
    `${name}='--import=data:text/javascript,process.exit(9)' npm test`,
    `${name}= git status`,
    `${name}="../outside" npm run build`,
    `CI=1 ${name}=v npm test`,
    `${name}=v CI=1 git status`,
    `npm test && ${name}=v git status`,
    `env ${name}=v npm test`,
    `env -i ${name}=v npm test`,
    `env -u HOME ${name}=v git status`,
    `env -- ${name}=v npm test`,
  ];
  const cases_ = names.flatMap((name) => forms(name).map((command) => [command] as const));

  it(`generates many variants (${cases_.length})`, () => {
    expect(cases_.length).toBeGreaterThan(1500);
  });

  it('asks for every variant and never offers to store it as a rule', async () => {
    const allowed: string[] = [];
    const storable: string[] = [];
    for (const [command] of cases_) {
      const parsed = await parseCommand(command);
      if (evaluateCommand(parsed, rules, context).verdict !== 'ask') allowed.push(command);
      if (rulesFor(parsed) !== undefined) storable.push(command);
    }
    expect(allowed).toEqual([]);
    expect(storable).toEqual([]);
  });

  it('still allows the same commands without a prefix (controls)', async () => {
    for (const command of ['npm test', 'git status', 'npm run build', 'npm test && git status']) {
      expect((await verdict(command, rules)).verdict, command).toBe('allow');
    }
  });
});

describe('wildcards allow operands, not options that execute, write or redirect', () => {
  // [rule, dangerous tails]. Each tail is tried as written, as `--opt=value` / `--opt value`,
  // after `--`, quoted, and (for long options) abbreviated.
  const table: Array<[string[], string[]]> = [
    [['find', '*'], ['-exec', '-execdir', '-ok', '-okdir', '-fprint', '-fprint0', '-fprintf', '-fls', '-delete', '-files0-from', '-newerXY']],
    [['npm', 'run', '*'], ['--script-shell', '--node-options', '--prefix', '--userconfig', '--globalconfig', '-c', '--call', '--cache', '--init-module', '--shell', '--git', '--registry', '-g', '--npm-config', '--foo-config', '--unknown']],
    [['npm', 'test', '*'], ['--script-shell', '--node-options', '-C', '--userconfig', '--whatever']],
    [['pnpm', 'run', '*'], ['--script-shell', '--node-options', '--prefix', '--globalconfig', '-c']],
    [['yarn', 'run', '*'], ['--script-shell', '--node-options', '--prefix', '--userconfig', '--cwd']],
    [['git', '*'], ['-c', '--config-env', '--exec-path', '-C', '--git-dir', '--work-tree', '--upload-pack', '--receive-pack', '-u', '--output', '-o', '--ext-diff', '--textconv', '--exec', '-x', '--extcmd', '-O', '--open-files-in-pager', '--template', '--hook-dir', '--my-config', '--run']],
    [['git', 'log', '*'], ['--output', '--ext-diff', '-O', '--exec-path']],
    [['sed', '*'], ['-i', '--in-place', '-f', '--file', '--unknown']],
    [['tar', '*'], ['--to-command', '--checkpoint-action', '--use-compress-program', '-I', '-F', '--info-script', '--new-volume-script', '--rsh-command', '-x', '-C']],
    [['rsync', '*'], ['-e', '--rsh', '--rsync-path', '--remove-source-files', '--log-file', '--delete']],
    [['awk', '*'], ['-f', '--file', '-E', '--exec', '-i', '--include', '-l', '--load']],
    [['node', '*'], ['-e', '--eval', '-p', '--print', '-r', '--require', '--import', '--loader', '--experimental-loader', '-c']],
    [['python3', '*'], ['-c', '-m', '-i']],
    [['ruby', '*'], ['-e', '-r']],
    [['perl', '*'], ['-e', '-E', '-M']],
    [['make', '*'], ['-f', '--file', '--makefile', '--eval', '-E', '-C', '--directory', '-I', '--include-dir']],
    [['sort', '*'], ['-o', '--output', '--compress-program', '-T']],
    [['rg', '*'], ['--pre', '--pre-glob']],
    [['mytool', '*'], ['-x', '--anything', '-v', '--help']],
    [['cargo', 'test', '*'], ['--config', '-Z', '--manifest-path']],
  ];
  // Options no program has: no unique abbreviation exists, but the full name must still ask.
  const INVENTED = new Set(['--npm-config', '--foo-config', '--unknown', '--whatever', '--anything', '--hook-dir', '--my-config']);
  const variants: Array<[string, CommandRule]> = [];
  for (const [ruleArgv, options] of table) {
    const rule: CommandRule = { kind: 'allow', argv: ruleArgv };
    const head = ruleArgv.slice(0, -1).join(' ');
    for (const option of options) {
      const spellings = [option, `${option} value`, `'${option}'`, `"${option}" value`, `-- ${option}`, `x ${option} y`, `${option} "sh -c id" {} \\;`];
      if (option.startsWith('--')) {
        spellings.push(`${option}=value`, `'${option}=value'`);
        // GNU getopt and npm accept unambiguous abbreviations.
        // GNU getopt, git and npm accept unambiguous abbreviations (not of the invented names).
        if (option.length > 6 && !INVENTED.has(option)) spellings.push(`${option.slice(0, -1)}=value`, `${option.slice(0, 5)}`);
      } else if (/^-[A-Za-z]$/.test(option) && ruleArgv[0] !== 'find') {
        // Inside a cluster of otherwise harmless letters (-vx, -nx), and with an attached value.
        // (awk's -v takes the rest of the cluster as its value, so `-vf` is not -f there.)
        spellings.push(`-n${option.slice(1)}`, `${option}value`);
        if (ruleArgv[0] !== 'awk') spellings.push(`-v${option.slice(1)}`);
      }
      for (const tail of spellings) variants.push([`${head} ${tail}`, rule]);
    }
  }

  it(`generates many variants (${variants.length})`, () => {
    expect(variants.length).toBeGreaterThan(900);
  });

  it('asks for every one', async () => {
    const allowed: string[] = [];
    for (const [command, rule] of variants) {
      if ((await verdict(command, [rule])).verdict !== 'ask') allowed.push(`${command}  (rule ${rule.argv.join(' ')})`);
    }
    expect(allowed).toEqual([]);
  });

  it('asks for a glob that could expand to a file named like an option', async () => {
    const rules: CommandRule[] = ['npm run *', 'find *', 'git *', 'sed *', 'mytool *', 'tar *', 'node *'].map((text) => ({ kind: 'allow', argv: text.split(' ') }));
    const commands = ['npm run *', 'npm run ?', 'npm run [-]x', 'npm run -*', 'npm run build *', 'find . *', 'find . -name *.ts', 'git log *', 'git ?*', 'sed *', 'mytool [a-z]*', 'tar tf *', 'node *'];
    for (const command of commands) expect((await verdict(command, rules)).verdict, command).toBe('ask');
  });

  it('never lets a wildcard name the program a launcher runs', async () => {
    const rules: CommandRule[] = ['xargs *', 'env *', 'nice *', 'timeout *', 'nohup *', 'stdbuf *', 'command *', 'exec *', 'time *', 'npx *', 'npm *', 'find *', 'sh *', 'bash *', 'watch *', 'flock *', 'sudo *'].map((text) => ({ kind: 'allow', argv: text.split(' ') }));
    const commands = ['xargs rm', 'xargs -0 rm', 'env rm -rf x', 'env -i rm', 'nice rm', 'nice -n 5 rm', 'timeout 5 rm', 'timeout -s KILL 5 rm', 'nohup rm', 'stdbuf -oL rm', 'command rm', 'exec rm', 'time rm', 'npx rimraf x', 'npm exec rimraf', 'npm x -- rimraf', 'find . -exec rm {} ;', 'sh -c id', 'bash -lc id', 'watch id', 'flock /tmp/l rm', 'sudo rm'];
    for (const command of commands) expect((await verdict(command, rules)).verdict, command).toBe('ask');
  });

  it('judges the words a launched program gets as its own (timeout 5 npm run *)', async () => {
    const rules: CommandRule[] = [{ kind: 'allow', argv: ['timeout', '60', 'npm', 'run', '*'] }];
    expect((await verdict('timeout 60 npm run build', rules)).verdict).toBe('allow');
    expect((await verdict('timeout 60 npm run build --script-shell=/bin/sh', rules)).verdict).toBe('ask');
  });

  it('sed and awk scripts under a wildcard: execute and write commands ask, plain edits do not', async () => {
    const rules: CommandRule[] = [{ kind: 'allow', argv: ['sed', '*'] }, { kind: 'allow', argv: ['awk', '*'] }];
    const risky = ["sed 'e id' f", "sed '1e id' f", "sed 's/a/id/e' f", "sed 's/a/b/w out' f", "sed -n 's/a/b/gpw out' f", "sed '/x/w out' f", "sed -e p -e 'W out' f", "sed '$!{e id\n}' f", "sed 'y/a/b/;e' f", "sed 's|a|b|e' f", "sed 'Q;e id' f",
      "awk 'BEGIN{system(\"id\")}'", "awk '{print > \"out\"}' f", "awk '{print | \"sh\"}' f", "awk 'BEGIN{\"id\" | getline x}'", "awk -F: '{ system(\"id\") }' f"];
    for (const command of risky) expect((await verdict(command, rules)).verdict, command).toBe('ask');
    const plain = ["sed -n 's/a/b/p' f", "sed 's/hello/world/g' f", "sed -E 's/(a)+/b/' f", "sed '1,3d' f", "sed -n '/start/,/end/p' f", "awk '{print $1}' f", "awk -F: '$3 > 0 { print }'"];
    const allowedPlain = [];
    for (const command of plain) if ((await verdict(command, rules)).verdict === 'allow') allowedPlain.push(command);
    // `$3 > 0` looks like a redirection to the scanner; asking there is the accepted cost.
    expect(allowedPlain).toEqual(plain.slice(0, -1));
  });

  it('still allows operands and known-harmless options (controls)', async () => {
    const rules: CommandRule[] = ['find *', 'npm run *', 'npm test *', 'git *', 'tar *', 'make *', 'ls *', 'grep *', 'node *', 'rsync *'].map((text) => ({ kind: 'allow', argv: text.split(' ') }));
    const commands = ["find . -name '*.ts' -type f -print", 'find src -maxdepth 2 -newer package.json', 'npm run build', 'npm run lint --silent', 'npm test --', 'npm test -- --if-present',
      'git log --oneline -5', 'git status --short', 'git diff --stat HEAD~1', 'git show HEAD', 'git status --untracked-files=no', 'git push --dry-run', 'git diff --no-ext-diff', 'git log --dirstat', 'tar -tzf x.tgz', 'tar tvf x.tar', 'make -j4 build', 'make -k', 'ls -la src *', 'grep -rn foo src', 'node --test', 'rsync -avn src/ dst/'];
    for (const command of commands) expect((await verdict(command, rules)).verdict, command).toBe('allow');
    // Literal rule words match exactly, as before: the user wrote them.
    expect((await verdict('git -C sub status', [{ kind: 'allow', argv: ['git', '-C', 'sub', 'status'] }])).verdict).toBe('allow');
    // -u and -x are plain flags outside clone/fetch and rebase: not read as commands.
    expect((await verdict('git push -u origin main', [{ kind: 'allow', argv: ['git', 'push', '-u', 'origin', 'main'] }])).verdict).toBe('allow');
    expect((await verdict('git cherry-pick -x abc', [{ kind: 'allow', argv: ['git', 'cherry-pick', '-x', 'abc'] }])).verdict).toBe('allow');
  });

  it('asks for dangerous subcommands and make variable overrides under a wildcard', async () => {
    const rules: CommandRule[] = ['git *', 'npm *', 'make *'].map((text) => ({ kind: 'allow', argv: text.split(' ') }));
    for (const command of ['git config core.fsmonitor "id"', 'git submodule foreach id', 'git bisect run id', 'git difftool', 'npm exec id', 'npm x id', 'npm explore x', 'npm config set script-shell x', 'npm pkg set scripts.test=id', 'npm init x', 'make SHELL=/tmp/x', 'make CC=id all', "make 'MAKEFLAGS=--eval=x'"]) {
      expect((await verdict(command, rules)).verdict, command).toBe('ask');
    }
  });
});

describe('deny rules apply to programs named anywhere in the argv', () => {
  const rules: CommandRule[] = [
    { kind: 'deny', argv: ['curl'] },
    { kind: 'allow', argv: ['npm', 'test'] },
    { kind: 'allow', argv: ['find', '*'] },
    { kind: 'allow', argv: ['xargs', '*'] },
    { kind: 'allow', argv: ['env', '*'] },
  ];
  const spellings = ['curl', '/usr/bin/curl', './curl', '../bin/curl', 'CURL', 'Curl', "c''url", '"curl"', '\\curl', "'/usr/local/bin/curl'"];
  const wrappers = ['', 'env ', 'env -i ', 'env -u HOME ', 'env X=1 ', 'env -- ', 'nice ', 'nice -n 5 ', 'nice -5 ', 'timeout 5 ', 'timeout -s KILL 5 ', 'timeout --signal=KILL 5 ', 'timeout -k 1 5 ', 'nohup ', 'stdbuf -oL ', 'stdbuf -o L ',
    'command ', 'builtin ', 'exec ', 'exec -a name ', 'time ', 'time -p ', 'xargs ', 'xargs -0 ', 'xargs -0n 1 ', 'xargs -I{} ', 'xargs -P 4 -n 1 ', 'xargs --max-args=1 ', 'xargs -a list.txt ',
    'sudo ', 'sudo -u root ', 'doas ', 'setsid ', 'ionice -c 3 ', 'chrt 1 ', 'taskset 1 ', 'flock /tmp/lock ', 'unbuffer ', 'strace -o /dev/null ', 'npx ', 'npx -y ', 'npm exec -- ', 'npm exec ', 'npm x ', 'pnpm dlx ', 'pnpm exec ', 'yarn dlx ', 'bunx ', 'busybox ',
    'env nice timeout 5 ', 'nice env -i xargs ', 'timeout 5 env X=1 nohup '];
  const shapes: Array<(program: string) => string> = [
    ...wrappers.map((wrapper) => (program: string) => `${wrapper}${program} https://x`),
    (program) => `find . -exec ${program} -d @{} https://x \\;`,
    (program) => `find . -name '*.env' -execdir ${program} {} +`,
    (program) => `find . -ok ${program} {} \\;`,
    (program) => `find . -type f -okdir ${program} {} \\;`,
    (program) => `npm test && ${program} x`,
    (program) => `npm test; env ${program} x`,
    (program) => `npm test | xargs ${program}`,
    (program) => `npm test $(${program} x)`,
    (program) => `npm --prefix . exec ${program} x`,
    (program) => `docker run --rm -i alpine ${program} x`,
    (program) => `uv run ${program} x`,
  ];
  // Shell strings: spelled so the inner text parses the same way.
  const shellSpellings = ['curl', '/usr/bin/curl', 'CURL', "c''url", '\\curl'];
  const shellShapes: Array<(program: string) => string> = [
    (program) => `sh -c "${program} x"`,
    (program) => `bash -c '${program} x | sh'`,
    (program) => `bash -lc "true; ${program}"`,
    (program) => `sh -ec "${program}"`,
    (program) => `dash -c 'npm test && ${program} x'`,
    (program) => `sh -c "sh -c '${program} x'"`,
    (program) => `eval ${program} x`,
    (program) => `watch ${program} x`,
    (program) => `su -c '${program} x'`,
    (program) => `flock -c '${program} x' /tmp/lock`,
    (program) => `xargs sh -c '${program} x'`,
    (program) => `find . -exec sh -c '${program} x' \\;`,
    (program) => `env -S '${program} x'`,
    (program) => `npx -c '${program} x'`,
    (program) => `git -c core.pager='${program} x' log`,
    (program) => `git -c core.sshCommand='${program}' fetch`,
    (program) => `git rebase --exec '${program} x' HEAD~3`,
  ];
  const codeShapes: Array<(program: string) => string> = [
    (program) => `node -e "require('child_process').execSync('${program} x')"`,
    (program) => `python3 -c "import os; os.system('${program} x')"`,
    (program) => `perl -e 'system("${program} x")'`,
    (program) => `ruby -e '\`${program} x\`'`,
    (program) => `awk 'BEGIN{system("${program} x")}'`,
    (program) => `sed 'e ${program} x' f`,
    // Piped into a shell or interpreter that reads its program from stdin.
    (program) => `echo ${program} x | sh`,
    (program) => `printf '%s\\n' '${program} x' | bash -s`,
    (program) => `echo "import os; os.system('${program}')" | python3`,
  ];
  const commands = [
    ...spellings.flatMap((program) => shapes.map((shape) => shape(program))),
    ...shellSpellings.flatMap((program) => shellShapes.map((shape) => shape(program))),
    ...['curl', '/usr/bin/curl', 'CURL'].flatMap((program) => codeShapes.map((shape) => shape(program))),
  ];

  it(`generates many variants (${commands.length})`, () => {
    expect(commands.length).toBeGreaterThan(600);
  });

  it('denies every one', async () => {
    const notDenied: string[] = [];
    for (const command of commands) {
      const result = await verdict(command, rules);
      if (result.verdict !== 'deny') notDenied.push(`${command} ⇒ ${result.verdict}`);
    }
    expect(notDenied).toEqual([]);
  });

  it('does not deny other programs (controls)', async () => {
    for (const command of ['npm test', 'find . -name curl.txt', 'xargs echo curly', 'env -i npm test']) {
      expect((await verdict(command, rules)).verdict, command).not.toBe('deny');
    }
  });
});

describe('what is approved is what runs', () => {
  // A fake program on a private PATH writes its argv to a log; whenever the policy allows a
  // generated command, /bin/sh running its text must produce exactly the argvs that were matched.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'codebench-fidelity-'));
  const bin = path.join(dir, 'bin');
  const cwd = path.join(dir, 'empty');
  const log = path.join(dir, 'log');
  mkdirSync(bin);
  mkdirSync(cwd);
  // One file per process: the commands of a pipeline run at the same time.
  for (const name of ['prt', 'qrt']) {
    writeFileSync(path.join(bin, name), `#!/bin/sh\nprintf '%s\\037' ${name} "$@" > "$LOG/$$"\n`);
    chmodSync(path.join(bin, name), 0o755);
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rules: CommandRule[] = [{ kind: 'allow', argv: ['prt', '*'] }, { kind: 'allow', argv: ['qrt', '*'] }];
  const words = ['x', 'test', 'test#x', 'a#', '#c', "'a b'", '"a#b"', 'a"b"c', "a'#'b", 'a\\#b', '\\#x', 'a\\ b', '"a\\"b"', "'a\\b'", '"a\\b"', '"a\\$b"', 'a\\\nb', '\\\\', '"\\\\"', "\"'\"", "'\"'", 'q=1', 'a=b=c', '""', "''", '.', 'x,y', 'a%b', '@a', 'a:b', '+x', 'a]b', '!x', 'a!'];
  const blanks = [' ', '\t', '  ', ' \\\n ', '\t \\\n'];
  const joins = [' && ', '; ', ';', '\n', ' # note\n', ' | ', ' &&\n', ' ;\t'];
  const rand = random(7);
  const pick = <T,>(items: T[]): T => items[Math.floor(rand() * items.length)]!;
  const generate = (): string => {
    const command = () => {
      let text = pick(['prt', 'qrt', '"prt"', "q'rt'", 'p\\rt']);
      const count = 1 + Math.floor(rand() * 4);
      for (let index = 0; index < count; index++) text += pick(blanks) + pick(words);
      if (rand() < 0.2) text += pick([' #', ' # trailing', '#x', ' #x y']);
      return text;
    };
    let text = command();
    while (rand() < 0.4) text += pick(joins) + command();
    return text;
  };
  const generated = [...new Set(Array.from({ length: 1500 }, generate))];

  it('runs the generated commands the policy allows through /bin/sh and gets the matched argvs', async () => {
    let allowed = 0;
    const mismatches: string[] = [];
    for (const text of generated) {
      const parsed = await parseCommand(text);
      if (evaluateCommand(parsed, rules, context).verdict !== 'allow' || !parsed.ok) continue;
      allowed++;
      rmSync(log, { recursive: true, force: true });
      mkdirSync(log);
      execFileSync('/bin/sh', ['-c', text], { cwd, env: { PATH: `${bin}:/usr/bin:/bin`, LOG: log }, stdio: 'ignore' });
      const ran = readdirSync(log).map((file) => readFileSync(path.join(log, file), 'utf8').split('\x1f').slice(0, -1));
      const expected = parsed.commands.map((command) => command.argv);
      // Pipelines run concurrently: compare as sorted lists.
      const key = (argvs: string[][]) => argvs.map((argv) => JSON.stringify(argv)).sort();
      if (JSON.stringify(key(ran)) !== JSON.stringify(key(expected))) mismatches.push(`${JSON.stringify(text)}: parsed ${JSON.stringify(expected)}, ran ${JSON.stringify(ran)}`);
    }
    expect(mismatches).toEqual([]);
    // Enough allowed cases that the comparison means something.
    expect(allowed).toBeGreaterThan(200);
  }, 120_000);

  it('asks when the parse and the shell disagree (the known blind spots)', async () => {
    const disagreeing = ['prt test#x', 'prt "a"#b', "prt 'a'#b", 'prt a#b c', 'prt x y#z', 'prt a#\\ b'];
    for (const text of disagreeing) expect((await verdict(text, rules)).verdict, text).toBe('ask');
  });
});
