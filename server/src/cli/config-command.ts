import { Option } from 'commander';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, configFilePath, configFileVariable, readConfigFile, resolveConfig } from '../config/load.js';
import { DEFAULT_OLLAMA_MODEL, DEFAULT_OLLAMA_URL, type Config, type ProviderConfig } from '../config/schema.js';
import { CliError, type CliContext } from './context.js';
import { baseUrlOf, keyEnvOf, maskKey, maskSecrets } from './doctor-checks.js';
import type { Register } from './subcommand.js';

// `config path` and `config init` must work when the file is broken, so nothing here goes
// through context.runtime(), which refuses a broken config.

export const registerConfig: Register = (program, context) => {
  const config = program.command('config').description('show where the config file is, what it resolves to, or create one');
  config
    .command('path')
    .description('print the config file path (stderr says whether it exists)')
    .action(() => {
      const path = configFilePath(context.env);
      context.io.stdout.write(`${path}\n`);
      const variable = configFileVariable(context.env);
      const missing = variable
        ? `does not exist, and ${variable} names it: commands refuse to run until you create it (\`codebench config init\`) or unset ${variable}`
        : 'does not exist: built-in defaults apply (create it with `codebench config init`)';
      context.io.stderr.write(existsSync(path) ? 'exists\n' : `${missing}\n`);
    });
  config
    .command('show')
    .description('print the effective config (built-in defaults + file), secrets masked')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => showConfig(context, options));
  config
    .command('init')
    .description('write an annotated starter config')
    .option('--force', 'overwrite an existing file')
    .addOption(new Option('--provider <kind>', 'the provider to start with').choices(STARTER_KINDS).default('ollama'))
    .action((options: { force?: boolean; provider: StarterKind }) => initConfig(context, options));
};

interface KeyStatus {
  env: string;
  set: boolean;
  /** Prefix and last 4 characters at most. */
  preview?: string;
}

function keyStatus(provider: ProviderConfig, env: NodeJS.ProcessEnv): KeyStatus | undefined {
  const name = keyEnvOf(provider);
  if (!name) return undefined;
  const value = env[name]?.trim();
  return value ? { env: name, set: true, preview: maskKey(value) } : { env: name, set: false };
}

/** Every string value masked: the config holds no keys by design, but a URL or an arg can. */
function masked<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, inner: unknown) => (typeof inner === 'string' ? maskSecrets(inner) : inner)) as T;
}

function loadEffective(path: string, env: NodeJS.ProcessEnv): Config {
  try {
    return resolveConfig([{ source: path, config: readConfigFile(path, configFileVariable(env)) }]);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 1);
    throw error;
  }
}

function showConfig(context: CliContext, options: { json?: boolean }): void {
  const path = configFilePath(context.env);
  const exists = existsSync(path);
  const config = masked(loadEffective(path, context.env));
  const keys = Object.fromEntries(
    Object.entries(config.providers).flatMap(([name, provider]) => {
      const status = keyStatus(provider, context.env);
      return status ? [[name, status]] : [];
    }),
  ) as Record<string, KeyStatus>;
  const out = context.io.stdout;
  if (options.json) {
    out.write(`${JSON.stringify({ path, exists, config, keys }, null, 2)}\n`);
    return;
  }
  out.write(`# ${exists ? `built-in defaults + ${path}` : `built-in defaults (${path} does not exist)`}\n`);
  out.write('# an editor can override any of this per workspace (initializationOptions, didChangeConfiguration); that is not visible here\n');
  out.write(`defaultProvider: ${config.defaultProvider}\nreview: ${config.review}\nmaxSteps: ${config.maxSteps}\n`);
  out.write(`presets:${config.presets.length === 0 ? ' (none)' : ''}\n`);
  for (const preset of config.presets) out.write(`  - ${preset.title}: ${preset.instruction}\n`);
  out.write('providers:\n');
  for (const [name, provider] of Object.entries(config.providers)) {
    out.write(`  ${name}${name === config.defaultProvider ? ' (default)' : ''}:\n`);
    for (const [key, value] of Object.entries(provider)) out.write(`    ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
    const base = baseUrlOf(provider);
    if (!provider.baseURL && base) out.write(`    baseURL: ${base} (default)\n`);
    const key = keys[name];
    if (key) out.write(`    key: ${key.env} ${key.set ? `set (${key.preview})` : 'not set'}\n`);
    else if (provider.kind !== 'claude-cli' && provider.kind !== 'codex-cli') out.write('    key: none (no apiKeyEnv)\n');
  }
}

const STARTER_KINDS = ['ollama', 'openai', 'anthropic', 'openai-compatible'] as const;
type StarterKind = (typeof STARTER_KINDS)[number];

interface StarterProvider {
  name: string;
  comments: string[];
  json: string;
}

const STARTERS: Record<StarterKind, StarterProvider> = {
  ollama: {
    name: 'local',
    comments: [
      'A local Ollama (https://ollama.com): no key, nothing leaves your machine.',
      `Start it with \`ollama serve\`; fetch the model with \`ollama pull ${DEFAULT_OLLAMA_MODEL}\`.`,
    ],
    json: `{ "kind": "ollama", "model": "${DEFAULT_OLLAMA_MODEL}", "baseURL": "${DEFAULT_OLLAMA_URL}" }`,
  },
  anthropic: {
    name: 'claude',
    comments: ['Anthropic. Export ANTHROPIC_API_KEY in the environment your editor starts codebench from.'],
    json: '{ "kind": "anthropic", "model": "claude-sonnet-4-5", "apiKeyEnv": "ANTHROPIC_API_KEY" }',
  },
  openai: {
    name: 'gpt',
    comments: ['OpenAI. Export OPENAI_API_KEY in the environment your editor starts codebench from.'],
    json: '{ "kind": "openai", "model": "gpt-5", "apiKeyEnv": "OPENAI_API_KEY" }',
  },
  'openai-compatible': {
    name: 'lmstudio',
    comments: [
      'Any OpenAI-compatible server (LM Studio, vLLM, llama.cpp server, Gemini\'s compatible endpoint).',
      '"baseURL" is required; add "apiKeyEnv" if the server wants a key.',
    ],
    json: '{ "kind": "openai-compatible", "model": "qwen2.5-coder-7b-instruct", "baseURL": "http://127.0.0.1:1234/v1" }',
  },
};

/** JSONC: the chosen provider live, the other kinds as commented-out examples. */
export function starterConfig(kind: StarterKind): string {
  const active = STARTERS[kind];
  const order: StarterKind[] = [kind, ...STARTER_KINDS.filter((other) => other !== kind)];
  const providers = order.flatMap((each, index) => {
    const starter = STARTERS[each];
    const entry = `"${starter.name}": ${starter.json},`;
    return [...(index > 0 ? [''] : []), ...starter.comments.map((line) => `    // ${line}`), `    ${each === kind ? '' : '// '}${entry}`];
  });
  return [
    '// codebench configuration: JSON with comments; trailing commas are fine.',
    '// `codebench config show` prints what this resolves to, `codebench doctor` checks it.',
    '{',
    '  // The provider an ask uses when it names none: one of the names under "providers".',
    `  "defaultProvider": "${active.name}",`,
    '',
    '  // Named model endpoints. Keys never go in this file: "apiKeyEnv" names the environment',
    '  // variable holding the key, read at call time. Optional per provider: "baseURL",',
    '  // "timeoutSeconds" (default 120: no bytes for this long ends the call), "maxOutputTokens",',
    '  // "temperature", and "streamToolCalls": false for servers that drop streamed tool calls.',
    '  "providers": {',
    ...providers,
    '  },',
    '',
    '  // "ask": accept or discard each proposal; "auto": apply it at once.',
    '  "review": "ask",',
    '',
    '  // Extra code actions shown beside the built-in ones.',
    '  "presets": [',
    '    // { "title": "Add logging", "instruction": "Add debug logging to the selected code." },',
    '  ],',
    '',
    '  // Upper bound on model turns per ask.',
    '  "maxSteps": 25,',
    '}',
    '',
  ].join('\n');
}

function initConfig(context: CliContext, options: { force?: boolean; provider: StarterKind }): void {
  const path = configFilePath(context.env);
  try {
    // Only directories created here get 0700; an existing ~/.config keeps its mode.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, starterConfig(options.provider), { mode: 0o600, flag: options.force ? 'w' : 'wx' });
    // The mode option only applies to a new file; an overwritten one may have been 0644.
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${path} already exists; run \`codebench config init --force\` to overwrite it`, 1);
    }
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`, 1);
  }
  context.io.stdout.write(`${path}\n`);
  context.io.stderr.write(`wrote a starter config (${options.provider}); check it with \`codebench doctor\`\n`);
}
