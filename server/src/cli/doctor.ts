import { InvalidArgumentError } from 'commander';
import { join } from 'node:path';
import { configFilePath, configFileVariable, dataDirectory } from '../config/load.js';
import type { CliContext } from './context.js';
import {
  checkConfigFile,
  checkConfigPermissions,
  checkDatabase,
  checkDataDirectory,
  checkEditors,
  checkNode,
  checkProvider,
  keyEnvOf,
  type Check,
  type CheckStatus,
} from './doctor-checks.js';
import { checkTeamSync } from './doctor-sync.js';
import { checkEmbeddedRuntime } from './doctor-llama.js';
import type { Register } from './subcommand.js';
import { colorsFor, type Colors } from './render.js';

const DEFAULT_TIMEOUT_SECONDS = 3;

function seconds(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || number > 600) throw new InvalidArgumentError('must be a number of seconds between 0 and 600');
  return number;
}

export const registerDoctor: Register = (program, context) => {
  program
    .command('doctor')
    .description('check Node, the config, each provider, the history database and editor set-up')
    .option('--json', 'print { checks: [{ name, status, message, fix? }] }')
    .option('--timeout <seconds>', 'time limit for each provider request', seconds, DEFAULT_TIMEOUT_SECONDS)
    .action(async (options: { json?: boolean; timeout: number }) => {
      process.exitCode = await runDoctor(context, options);
    });
};

async function runDoctor(context: CliContext, options: { json?: boolean; timeout: number }): Promise<number> {
  const checks = await runChecks(context.env, options.timeout * 1000);
  if (options.json) {
    context.io.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`);
  } else {
    const colors = colorsFor(context.io.stdout, context.env);
    for (const check of checks) context.io.stdout.write(`${formatCheck(check, colors)}\n`);
    context.io.stderr.write(`${summary(checks)}\n`);
  }
  return checks.some((check) => check.status === 'error') ? 1 : 0;
}

/**
 * The paths are AgentRuntime's (configPath, databaseFile), computed without building one: the CLI
 * context's runtime refuses a broken config, and a broken config is what doctor must get past.
 */
export async function runChecks(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Check[]> {
  const configPath = configFilePath(env);
  const directory = dataDirectory(env);
  const { check: configCheck, config } = checkConfigFile(configPath, configFileVariable(env));
  const providers = Object.entries(config?.providers ?? {});
  const checks: Check[] = [checkNode(), configCheck];
  pushDefined(checks, checkConfigPermissions(configPath));
  // Network and subprocess checks overlap; their lines still come out in a fixed order.
  const [providerChecks, editorChecks, syncCheck, llamaCheck] = await Promise.all([
    Promise.all(providers.map(([name, provider]) => checkProvider(name, provider, env, timeoutMs))),
    checkEditors(env),
    checkTeamSync(config, env),
    checkEmbeddedRuntime(config, env),
  ]);
  checks.push(...providerChecks.flat());
  checks.push(llamaCheck);
  pushDefined(checks, syncCheck);
  checks.push(...(await checkDatabase(join(directory, 'codebench.db'))));
  checks.push(...checkDataDirectory(directory));
  checks.push(...editorChecks);
  return redactKeys(checks, env, [...providers.map(([, provider]) => keyEnvOf(provider)), config?.sync?.passwordEnv]);
}

function pushDefined(checks: Check[], check: Check | undefined): void {
  if (check) checks.push(check);
}

/**
 * A last guard: no check prints a key on purpose, but an error text could echo one (a URL, a
 * server message), so every value of a key variable is blanked out before anything is shown.
 */
function redactKeys(checks: Check[], env: NodeJS.ProcessEnv, keyEnvs: Array<string | undefined>): Check[] {
  const names = new Set(['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', ...keyEnvs.filter((name): name is string => Boolean(name))]);
  const secrets = [...names].map((name) => env[name]?.trim()).filter((value): value is string => Boolean(value && value.length >= 4));
  const redact = (text: string) => secrets.reduce((result, secret) => result.split(secret).join('[redacted]'), text);
  return checks.map((check) => ({
    ...check,
    message: redact(check.message),
    ...(check.fix !== undefined ? { fix: redact(check.fix) } : {}),
  }));
}

const LABEL_WIDTH = 'warning'.length;

export function formatCheck(check: Check, colors: Colors): string {
  const paint: Record<CheckStatus, (text: string) => string> = { ok: colors.green, warning: colors.yellow, error: colors.red };
  const label = paint[check.status](check.status.padEnd(LABEL_WIDTH));
  const fix = check.fix ? ` — ${colors.cyan('fix:')} ${check.fix}` : '';
  return `${label} ${colors.bold(check.name)}: ${check.message}${fix}`;
}

function summary(checks: Check[]): string {
  const count = (status: CheckStatus) => checks.filter((check) => check.status === status).length;
  const errors = count('error');
  const warnings = count('warning');
  if (errors === 0 && warnings === 0) return 'doctor: all checks passed';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `doctor: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}
