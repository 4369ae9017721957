import { configFilePath, ConfigError, readConfigFile, resolveConfig } from '../config/load.js';
import type { Config, ProviderConfig } from '../config/schema.js';
import { maskKey } from '../providers/health.js';
import { KeychainUnavailableError, osKeychain, type Keychain } from '../providers/keychain.js';
import { keyEnvFor } from '../providers/keys.js';
import { redactSecretText } from '../providers/secret-patterns.js';
import { CliError, type CliContext } from './context.js';
import type { Register } from './subcommand.js';

/**
 * `codebench keys set|get|delete|list`: API keys in the OS keychain (service "codebench",
 * account = provider name). A key is read from a hidden prompt or stdin, never from argv (argv
 * lands in shell history and `ps`), and is only ever printed masked unless `--reveal` on a TTY.
 */

const ARGV_REFUSAL =
  'keys set takes only the provider name: the key is read from a hidden prompt, or from stdin when piped (e.g. `codebench keys set NAME < keyfile`), never from the command line, where it would end up in shell history and the process list';

/** The name is echoed in messages, so anything that could be a pasted key is refused unechoed. */
function checkName(name: string): string {
  if (redactSecretText(name).findings.length > 0 || name.length > 64) {
    throw new CliError(`the provider name looks like a key. ${ARGV_REFUSAL}`, 2);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new CliError('a provider name has only letters, digits, ".", "_" and "-"', 2);
  return name;
}

/** The effective config from the file, or undefined when it is broken (keys must still work then). */
function loadConfig(context: CliContext): Config | undefined {
  const path = configFilePath(context.env);
  try {
    return resolveConfig([{ source: path, config: readConfigFile(path) }]);
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

/** Keychain failures as one line with the options; anything else is a bug. */
async function keychainCall<T>(what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (error) {
    if (error instanceof KeychainUnavailableError) throw new CliError(error.message, 1);
    throw error;
  }
}

export const registerKeys: Register = (program, context) => {
  const keys = program.command('keys').description('store provider API keys in the OS keychain (never in files)');
  const keychain = (): Keychain => osKeychain();

  keys
    .command('set')
    .description('store the key for PROVIDER: typed at a hidden prompt, or piped on stdin')
    .argument('<provider>', 'provider name from the config')
    .argument('[refused...]')
    .allowExcessArguments(true)
    // `--key=sk-…` must reach our refusal, not commander's "unknown option '--key=sk-…'" echo.
    .allowUnknownOption(true)
    .action(async (provider: string, refused: string[]) => {
      // Checked before anything else, and the extra arguments are never echoed.
      if (refused.length > 0) throw new CliError(ARGV_REFUSAL, 2);
      const name = checkName(provider);
      // "sync" is the team server's password (config key "sync"), not a provider's key.
      const isSync = name === 'sync';
      const secret = context.io.stdin.isTTY ? await promptHidden(context, isSync ? 'Team server password (sync): ' : `API key for ${name}: `) : await readAll(context.io.stdin);
      const key = secret.trim();
      if (key === '') throw new CliError(context.io.stdin.isTTY ? 'no key entered; nothing stored' : 'no key on stdin; nothing stored', 1);
      if (/\s/.test(key)) throw new CliError('the key contains whitespace or several lines; pipe exactly one key', 1);
      await keychainCall(() => keychain().set(name, key));
      context.io.stdout.write(`stored the key for ${name} in the OS keychain (${maskKey(key)})\n`);
      const config = loadConfig(context);
      if (isSync) {
        if (config && !config.sync) context.io.stderr.write('note: team sync is not configured yet (config key "sync")\n');
        const passwordEnv = config?.sync?.passwordEnv;
        if (passwordEnv && context.env[passwordEnv]?.trim()) context.io.stderr.write(`note: ${passwordEnv} is set in this environment and takes precedence over the keychain\n`);
        return;
      }
      const provider_ = config?.providers[name];
      if (config && !provider_) context.io.stderr.write(`note: no provider "${name}" is configured yet (configured: ${Object.keys(config.providers).join(', ')})\n`);
      const env = provider_ ? keyEnvFor(provider_) : undefined;
      if (env && context.env[env]?.trim()) context.io.stderr.write(`note: ${env} is set in this environment and takes precedence over the keychain\n`);
    });

  keys
    .command('get')
    .description('show the stored key for PROVIDER, masked (sk-…abcd)')
    .argument('<provider>')
    .option('--reveal', 'print the whole key (only to a terminal)')
    .action(async (provider: string, options: { reveal?: boolean }) => {
      const name = checkName(provider);
      if (options.reveal && !context.io.stdout.isTTY) {
        throw new CliError('--reveal prints the key only to a terminal, not to a pipe or file', 2);
      }
      const key = await keychainCall(() => keychain().get(name));
      if (!key) throw new CliError(`no key stored for ${name} (store one with \`codebench keys set ${name}\`)`, 1);
      context.io.stdout.write(`${options.reveal ? key : maskKey(key)}\n`);
    });

  keys
    .command('delete')
    .description('remove the stored key for PROVIDER')
    .argument('<provider>')
    .action(async (provider: string) => {
      const name = checkName(provider);
      const removed = await keychainCall(() => keychain().delete(name));
      context.io.stdout.write(removed ? `deleted the key for ${name} from the OS keychain\n` : `no key was stored for ${name}\n`);
    });

  keys
    .command('list')
    .description('show where each configured provider gets its key: env, keychain, or missing (never the key)')
    .argument('[provider]', 'only this provider')
    .option('--json', 'print [{ provider, kind, source, env? }]')
    .action(async (only: string | undefined, options: { json?: boolean }) => {
      const config = loadConfig(context);
      if (!config) throw new CliError(`the config at ${configFilePath(context.env)} is invalid; run \`codebench doctor\``, 1);
      const entries = Object.entries(config.providers).filter(([name]) => only === undefined || name === only);
      if (only !== undefined && entries.length === 0) throw new CliError(`no provider "${only}" is configured`, 1);
      const rows = [];
      let unavailable: string | undefined;
      for (const [name, provider] of entries) {
        const row = await keyRow(name, provider, context.env, keychain());
        if (row.problem) unavailable = row.problem;
        rows.push(row);
      }
      if (options.json) {
        context.io.stdout.write(`${JSON.stringify(rows.map(({ problem: _, ...row }) => row), null, 2)}\n`);
      } else {
        const width = Math.max(...rows.map((row) => row.provider.length), 8);
        for (const row of rows) {
          const where = row.source === 'env' ? `env ${row.env}` : row.source === 'missing' && row.env ? `missing (set ${row.env} or run codebench keys set ${row.provider})` : row.source;
          context.io.stdout.write(`${row.provider.padEnd(width)}  ${row.kind.padEnd(17)}  ${where}\n`);
        }
      }
      if (unavailable) context.io.stderr.write(`codebench: ${unavailable}\n`);
    });
};

interface KeyRow {
  provider: string;
  kind: string;
  source: 'env' | 'keychain' | 'missing' | 'not needed' | 'keychain unavailable';
  env?: string;
  problem?: string;
}

/** Presence only: the value is looked up to know it exists, then dropped. */
async function keyRow(name: string, provider: ProviderConfig, env: NodeJS.ProcessEnv, keychain: Keychain): Promise<KeyRow> {
  const keyEnv = keyEnvFor(provider);
  const base = { provider: name, kind: provider.kind, ...(keyEnv ? { env: keyEnv } : {}) };
  if (keyEnv && env[keyEnv]?.trim()) return { ...base, source: 'env' };
  const needed = keyEnv !== undefined || provider.apiKey === 'keychain';
  try {
    if (await keychain.get(name)) return { ...base, source: 'keychain' };
  } catch (error) {
    if (!(error instanceof KeychainUnavailableError)) throw error;
    return { ...base, source: needed ? 'keychain unavailable' : 'not needed', problem: error.message };
  }
  return { ...base, source: needed ? 'missing' : 'not needed' };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal without echoing it; Ctrl-C aborts with status 130. */
function promptHidden(context: CliContext, question: string): Promise<string> {
  const { stdin, stderr } = context.io;
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: CliError) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (data: Buffer | string) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled; nothing stored', 130));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else if (char >= ' ') value += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
