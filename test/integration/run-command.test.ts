import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalDecision, ApprovalRequest, Approver } from '../../server/src/agent/commands/approvals.js';
import { commandEnvironment, isCredentialName } from '../../server/src/agent/commands/exec.js';
import { CommandGate, commandLimits } from '../../server/src/agent/commands/gate.js';
import { runCommandTool } from '../../server/src/agent/tools/run-command.js';
import { WorkspaceFiles } from '../../server/src/agent/workspace/workspace-files.js';
import { Store } from '../../server/src/store/store.js';

let tmp: string;
let root: string;
let uri: string;
let store: Store;
let runId: string;
let sessionId: string;

/** An approver that records what it was asked and answers from a script (undefined = never answers). */
function scripted(...answers: Array<ApprovalDecision | undefined>): Approver & { asked: ApprovalRequest[] } {
  const asked: ApprovalRequest[] = [];
  return {
    asked,
    approve(request, signal) {
      asked.push(request);
      const answer = answers.shift();
      if (answer !== undefined) return Promise.resolve(answer);
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('withdrawn'))));
    },
  };
}

function gate(approver?: Approver, limits: Parameters<typeof commandLimits>[0] = {}, env: NodeJS.ProcessEnv = process.env) {
  return new CommandGate({ store, approver, runId, sessionId, workspaceUri: uri, limits: commandLimits(limits), env: commandEnvironment(env, ['MY_PROVIDER_KEY']) });
}

function run(args: Record<string, unknown>, commands?: CommandGate, signal = new AbortController().signal) {
  const workspace = new WorkspaceFiles([root], { get: () => undefined });
  return runCommandTool.execute(args, { workspace, signal, commands });
}

/** Zombies (reparented to a PID 1 that does not reap) count as dead. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

async function auditKinds(): Promise<string[]> {
  return (await store.listAudit({ workspaceUri: uri })).reverse().map((entry) => `${entry.kind}${entry.detail.by ? `:${String(entry.detail.by)}` : ''}`);
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codebench-run-'));
  root = path.join(tmp, 'ws');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await mkdir(path.join(root, '.git'), { recursive: true });
  uri = pathToFileURL(root).href;
  store = await Store.open(path.join(tmp, 'codebench.db'));
  const session = await store.createSession({ workspaceUri: uri, title: 't', provider: 'fake' });
  sessionId = session.id;
  runId = (await store.createRun({ sessionId, provider: 'fake', model: 'm', instruction: 'i' })).id;
});
afterEach(async () => {
  await store.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('run_command', () => {
  it('runs a command allowed by a rule, without a shell, and audits it', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['pwd'] });
    const result = await run({ command: 'pwd', cwd: 'sub' }, gate(scripted()));
    expect(result.isError).toBe(false);
    expect(result.output).toContain('exited with code 0');
    expect(result.output).toContain(path.join(root, 'sub'));
    expect(await auditKinds()).toEqual(['command-approved:rule', 'command-run']);
    const ran = (await store.listAudit({ workspaceUri: uri }))[0]!;
    expect(ran.detail).toMatchObject({ exitCode: 0 });
    expect(typeof ran.detail.durationMs).toBe('number');
  });

  it('reports a failing exit code as an error result', async () => {
    // `node *` no longer allows -e (code under a wildcard); a rule that names -e itself does.
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['node', '-e', '*'] });
    const result = await run({ command: 'node -e "process.exit(3)"' }, gate());
    expect(result.isError).toBe(true);
    expect(result.output).toContain('exited with code 3');
  });

  it('caps output to its head and tail', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['node', '-e', '*'] });
    const script = `node -e "console.log('HEAD'); console.log('x'.repeat(100000)); console.log('TAIL')"`;
    const result = await run({ command: script }, gate(undefined, { outputLimitBytes: 2000 }));
    expect(result.output).toContain('HEAD');
    expect(result.output).toContain('TAIL');
    expect(result.output).toMatch(/… \d+ bytes of output omitted …/);
    expect(result.output.length).toBeLessThan(3000);
  });

  it('stops a command at its time limit', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['sleep', '*'] });
    const started = Date.now();
    const result = await run({ command: 'sleep 30', timeout: 0.5 }, gate());
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.output).toContain('time limit');
  });

  it('kills the whole process group on cancel', async () => {
    const controller = new AbortController();
    const pending = run({ command: 'sleep 60 & echo $! > child.pid; wait' }, gate(scripted('allow-once')), controller.signal);
    const pidFile = path.join(root, 'child.pid');
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    controller.abort();
    const result = await pending;
    expect(result.output).toContain('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alive(pid)).toBe(false);
  });

  it('never runs a command the user denies', async () => {
    const approver = scripted('deny');
    const result = await run({ command: 'touch pwned' }, gate(approver));
    expect(result.isError).toBe(true);
    expect(result.output).toContain('the user denied it');
    expect(approver.asked[0]).toMatchObject({ command: 'touch pwned', cwd: root, workspaceUri: uri, runId, sessionId });
    expect(existsSync(path.join(root, 'pwned'))).toBe(false);
    expect(await auditKinds()).toEqual(['command-asked', 'command-denied:user']);
  });

  it('never runs a command nobody answers', async () => {
    const result = await run({ command: 'touch pwned' }, gate(scripted(undefined), { approvalTimeoutSeconds: 0.3 }));
    expect(result.output).toContain('nobody approved it in time');
    expect(existsSync(path.join(root, 'pwned'))).toBe(false);
    expect(await auditKinds()).toEqual(['command-asked', 'command-denied:timeout']);
  });

  it('never runs an unapproved command without an approver, nor without a gate', async () => {
    expect((await run({ command: 'touch pwned' }, gate(undefined))).output).toContain('no one could be asked');
    expect((await run({ command: 'touch pwned' })).output).toContain('Commands cannot run in this session');
    expect(existsSync(path.join(root, 'pwned'))).toBe(false);
  });

  it('denies by rule without asking, even inside a chain', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['touch', '*'] });
    await store.addCommandRule({ workspaceUri: uri, kind: 'deny', argv: ['curl'] });
    const approver = scripted('allow-once');
    const result = await run({ command: 'touch pwned && curl http://127.0.0.1:9/x' }, gate(approver));
    expect(result.output).toContain('denied by a rule');
    expect(approver.asked).toHaveLength(0);
    expect(existsSync(path.join(root, 'pwned'))).toBe(false);
  });

  it('"always allow" stores a rule so the next run does not ask', async () => {
    const approver = scripted('allow-always');
    await run({ command: 'touch made' }, gate(approver));
    expect(existsSync(path.join(root, 'made'))).toBe(true);
    expect((await store.listCommandRules(uri)).map((rule) => rule.argv)).toEqual([['touch', 'made']]);
    await rm(path.join(root, 'made'));
    await run({ command: 'touch made' }, gate(approver));
    expect(approver.asked).toHaveLength(1);
    expect(existsSync(path.join(root, 'made'))).toBe(true);
    expect(await auditKinds()).toEqual(['command-asked', 'command-approved:user', 'command-run', 'command-approved:rule', 'command-run']);
  });

  it('gives commands an environment without provider keys or tokens', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['env'] });
    const env = { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-1', ANTHROPIC_API_KEY: 'sk-2', MY_PROVIDER_KEY: 'k3', GITHUB_TOKEN: 't4', VISIBLE: 'yes' };
    const result = await run({ command: 'env' }, gate(undefined, {}, env));
    expect(result.output).toContain('VISIBLE=yes');
    for (const hidden of ['sk-1', 'sk-2', 'k3', 't4']) expect(result.output).not.toContain(hidden);
  });

  it('refuses working directories outside the workspace or inside .git', async () => {
    const approver = scripted('allow-once', 'allow-once', 'allow-once', 'allow-once');
    for (const cwd of ['..', '/tmp', path.join(tmp), '.git', '~', '$HOME', 'missing']) {
      const result = await run({ command: 'touch pwned', cwd }, gate(approver));
      expect(result.isError, cwd).toBe(true);
    }
    expect(approver.asked).toHaveLength(0);
    expect(existsSync(path.join(tmp, 'pwned'))).toBe(false);
  });

  it('asks before redirecting outside the workspace even when the command is allowed', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['echo', '*'] });
    const approver = scripted('deny');
    await run({ command: `echo hi > ${path.join(tmp, 'escaped.txt')}` }, gate(approver));
    expect(approver.asked[0]?.reason).toContain('outside the workspace');
    expect(existsSync(path.join(tmp, 'escaped.txt'))).toBe(false);
  });

  it('removes well-known credential variables, in any letter case, and keeps PWD and ordinary ones', async () => {
    const credentials = ['PGPASSWORD', 'PGPASSFILE', 'MYSQL_PWD', 'REDIS_PASSWORD', 'REDISCLI_AUTH', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SESSION_TOKEN', 'GITHUB_TOKEN', 'GH_TOKEN',
      'NPM_TOKEN', 'NODE_AUTH_TOKEN', 'npm_config_//registry.npmjs.org/:_authToken', 'NPM_CONFIG__AUTH', 'DOCKER_PASSWORD', 'DOCKER_AUTH_CONFIG', 'SMTP_PASSWD', 'DB_PWD', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_CREDENTIALS',
      'REGISTRY_AUTH', 'SESSION_COOKIE', 'SECRET_KEY_BASE', 'AZURE_CLIENT_SECRET', 'SSH_PRIVATE_KEY', 'GPG_PASSPHRASE', 'VAULT_TOKEN', 'HF_TOKEN', 'STRIPE_API_KEY', 'SENDGRID_APIKEY', 'NETRC', 'SSHPASS', 'GIT_ASKPASS', 'SSH_ASKPASS'];
    const ordinary = ['PWD', 'OLDPWD', 'PATH', 'HOME', 'LANG', 'TERM', 'NODE_ENV', 'CI', 'TOKENIZERS_PARALLELISM', 'npm_config_cache', 'SHELL', 'USER', 'EDITOR'];
    const variants = (name: string) => [name, name.toLowerCase(), name.toUpperCase(), name.replace(/[A-Za-z]/g, (c, i: number) => (i % 2 ? c.toLowerCase() : c.toUpperCase()))];
    const env: NodeJS.ProcessEnv = {};
    for (const name of credentials.flatMap(variants)) env[name] = 'hunter2-credential';
    for (const name of ordinary) env[name] = `ordinary-${name}`;
    // A URL with a user and password is a credential whatever the variable is called.
    env.DATABASE_URL = 'postgres://app:hunter2-credential@db:5432/app';
    env.SENTRY_DSN = 'https://hunter2-credential@o1.ingest.sentry.io/1';
    env.HTTP_PROXY = 'http://proxy.example:3128';
    const result = commandEnvironment(env, []);
    expect(Object.values(result).filter((value) => value?.includes('hunter2'))).toEqual([]);
    for (const name of ordinary) expect(result[name], name).toBe(`ordinary-${name}`);
    expect(result.HTTP_PROXY).toBe('http://proxy.example:3128');
    for (const name of ['PWD', 'OLDPWD']) expect(isCredentialName(name), name).toBe(false);

    // And through a real process, not just the function.
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['env'] });
    const output = (await run({ command: 'env' }, gate(undefined, {}, { ...env, PATH: process.env.PATH }))).output;
    expect(output).toContain('ordinary-LANG');
    expect(output).not.toContain('hunter2');
  });

  describe('symlinks into .git', () => {
    beforeEach(async () => {
      await mkdir(path.join(root, '.git', 'hooks'), { recursive: true });
      await writeFile(path.join(root, '.git', 'config'), '[core]\n');
      await mkdir(path.join(root, 'a'), { recursive: true });
      await symlink('.git', path.join(root, 'gl'));
      await symlink('../.git', path.join(root, 'a', 'b'));
      await symlink('gl', path.join(root, 'l2')); // a link to a link
      await symlink('.git/hooks', path.join(root, 'hk'));
      await symlink(path.join(root, '.git'), path.join(root, 'abs')); // absolute target
    });

    const targets = ['gl/config', './gl/config', 'gl/../gl/config', 'gl//config', 'a/b/config', 'l2/config', 'hk/pre-commit', 'gl/hooks/post-checkout', 'abs/config', 'sub/../gl/config', 'l2/hooks/x', 'gl', 'a/b'];
    const operators = ['>', '>>', '2>', '1>>', '>|', '&>', '<>'];

    it(`asks before redirecting into .git through any of them (${targets.length * operators.length} variants), even under an allow rule`, async () => {
      await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['echo', '*'] });
      const approver = scripted(...Array<ApprovalDecision>(targets.length * operators.length).fill('deny'));
      for (const target of targets) {
        for (const op of operators) {
          const result = await run({ command: `echo '[core] fsmonitor = touch pwned' ${op} ${target}` }, gate(approver));
          expect(result.output, `${op} ${target}`).toContain('The command was not run');
        }
      }
      expect(approver.asked).toHaveLength(targets.length * operators.length);
      for (const request of approver.asked) expect(request.reason).toMatch(/\.git|outside/);
      expect(await readFile(path.join(root, '.git', 'config'), 'utf8')).toBe('[core]\n');
      expect(existsSync(path.join(root, '.git', 'hooks', 'pre-commit'))).toBe(false);
    });

    it('refuses a working directory inside .git through a symlink, without asking', async () => {
      const approver = scripted('allow-once');
      for (const cwd of ['gl', 'gl/hooks', './gl', 'gl/.', 'a/b', 'a/b/hooks', 'l2', 'l2/hooks', 'hk', 'abs', 'sub/../gl', '.GIT', '.Git/hooks']) {
        const result = await run({ command: 'touch pwned', cwd }, gate(approver));
        expect(result.isError, cwd).toBe(true);
        expect(result.output, cwd).toMatch(/\.git|does not exist/i);
      }
      expect(approver.asked).toHaveLength(0);
      expect(existsSync(path.join(root, '.git', 'pwned'))).toBe(false);
      expect(existsSync(path.join(root, '.git', 'hooks', 'pwned'))).toBe(false);
    });

    it('still runs in and redirects to ordinary directories (control)', async () => {
      await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['echo', '*'] });
      await symlink('sub', path.join(root, 'linked-sub'));
      const result = await run({ command: 'echo hi > out.txt', cwd: 'linked-sub' }, gate(scripted()));
      expect(result.output).toContain('exited with code 0');
      expect(await readFile(path.join(root, 'sub', 'out.txt'), 'utf8')).toBe('hi\n');
    });
  });

  it('runs exactly the approved text: the parse and the shell agree, or it asks', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['touch', '*'] });
    const approver = scripted('deny', 'deny', 'deny');
    for (const command of ['touch made#x', 'touch "a"#b', 'touch a b#c']) {
      await run({ command }, gate(approver));
    }
    expect(approver.asked.map((request) => request.reason)).toEqual(approver.asked.map(() => expect.stringContaining('shell reads')));
    expect(approver.asked).toHaveLength(3);
    expect(existsSync(path.join(root, 'made#x'))).toBe(false);
    expect(existsSync(path.join(root, 'made'))).toBe(false);
  });

  it('a deny rule stops the program however it is launched, without asking', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'deny', argv: ['touch'] });
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['find', '*'] });
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['xargs', '*'] });
    const approver = scripted('allow-once');
    const launchers = ['find . -maxdepth 0 -exec touch pwned \\;', 'echo x | xargs touch pwned', 'env touch pwned', 'env -i /usr/bin/touch pwned', 'nice -n 5 touch pwned', 'timeout 5 touch pwned',
      'sh -c "touch pwned"', "bash -c 'true && touch pwned'", 'find . -maxdepth 0 -exec sh -c "touch pwned" \\;', './touch pwned', 'command touch pwned', 'eval touch pwned'];
    for (const command of launchers) {
      const result = await run({ command }, gate(approver));
      expect(result.output, command).toContain('denied by a rule');
    }
    expect(approver.asked).toHaveLength(0);
    expect(existsSync(path.join(root, 'pwned'))).toBe(false);
  });

  it('a wildcard rule does not run smuggled options: find -exec, npm --script-shell', async () => {
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['find', '*'] });
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ scripts: { build: 'echo built' } }));
    await store.addCommandRule({ workspaceUri: uri, kind: 'allow', argv: ['npm', 'run', '*'] });
    const approver = scripted(...Array<ApprovalDecision>(6).fill('deny'));
    for (const command of ['find . -maxdepth 0 -exec touch pwned ;', 'find . -maxdepth 0 -fprint pwned', 'find . -maxdepth 0 -execdir touch pwned +', 'npm run build --script-shell=./evil.sh', 'npm run build --node-options=--require=./evil.js', 'NPM_Config_Script_Shell=./evil.sh npm run build']) {
      const result = await run({ command }, gate(approver));
      expect(result.output, command).toContain('the user denied it');
    }
    expect(approver.asked).toHaveLength(6);
    expect(existsSync(path.join(root, 'pwned'))).toBe(false);
    // Control: the operand form still runs without asking.
    expect((await run({ command: 'find . -maxdepth 0 -name ws' }, gate(approver))).output).toContain('exited with code 0');
    expect(approver.asked).toHaveLength(6);
  });

  it('keeps the audit log append-only', async () => {
    await run({ command: 'touch pwned' }, gate(scripted('deny')));
    await writeFile(path.join(tmp, 'noop'), '');
    const raw = new Database(path.join(tmp, 'codebench.db'));
    try {
      expect(() => raw.prepare('UPDATE audit_log SET subject = ?').run('x')).toThrow(/append-only/);
      expect(() => raw.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    } finally {
      raw.close();
    }
  });
});
