import { z } from 'zod';

/**
 * The config file shape is a public contract (README, protocol.md). Unknown keys are rejected so
 * a typo like "defaultProvder" is reported instead of silently ignored.
 */

const providerBase = {
  model: z.string().min(1),
  baseURL: z.string().url().optional(),
  /** Name of the environment variable holding the API key; the key itself never enters config. */
  apiKeyEnv: z.string().min(1).optional(),
  /**
   * Only ever the word "keychain": take the key from the OS keychain (`codebench keys set NAME`).
   * A literal key is refused, and the message does not echo it.
   */
  apiKey: z
    .literal('keychain', { error: 'must be "keychain" (never the key itself: store the key with `codebench keys set <provider>`)' })
    .optional(),
  /** Seconds before a request with no response bytes is abandoned. */
  timeoutSeconds: z.number().positive().max(3600).optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  /**
   * Whether the endpoint streams tool calls reliably. Some local servers drop or split them; with
   * `false` the provider makes a non-streaming call whenever tools are offered.
   */
  streamToolCalls: z.boolean().optional(),
  /**
   * The model's context in tokens. Ollama gets `options.num_ctx` from it (never above what
   * `/api/show` reports); prompts are shrunk to fit it rather than sent to be cut.
   */
  contextWindow: z.number().int().min(512).max(10_000_000).optional(),
  /**
   * How tools reach the model: "native" (the API's tool field), "text" (edit blocks in the reply,
   * for models without tool support), "auto" (native, falling back to text when the server says
   * the model has no tools; remembered per provider and model).
   */
  tools: z.enum(['auto', 'native', 'text']).optional(),
  /** Providers that take the turn, in order, when this one fails before its first token. */
  fallback: z.array(z.string().min(1)).optional(),
  /**
   * USD per million tokens, for `codebench usage`. Local providers (ollama) cost nothing; a CLI's
   * own reported cost wins over this.
   */
  price: z
    .strictObject({ input: z.number().min(0), output: z.number().min(0), cachedInput: z.number().min(0).optional() })
    .optional(),
};

const httpProvider = z.strictObject({
  kind: z.enum(['openai', 'openai-compatible', 'anthropic', 'ollama']),
  ...providerBase,
});

const cliProvider = z.strictObject({
  kind: z.enum(['claude-cli', 'codex-cli']),
  ...providerBase,
  model: z.string().min(1).optional(),
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
});

/**
 * A GGUF model run in process through node-llama-cpp (providers/llama-cpp.ts): `model` names a file
 * from `codebench models list`, or `modelPath` is the absolute path of a .gguf.
 */
const llamaCppProvider = z
  .strictObject({
    kind: z.literal('llama-cpp'),
    ...providerBase,
    model: z.string().min(1).optional(),
    modelPath: z
      .string()
      .min(1)
      .refine((path) => path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path), 'must be an absolute path to a .gguf file')
      .optional(),
    /** Layers offloaded to the GPU: "auto" (as many as fit; none on a CPU-only build) or a count. */
    gpuLayers: z.union([z.literal('auto'), z.number().int().min(0).max(1000)]).optional(),
    /** Seconds an unused model stays in memory after its last turn. */
    idleUnloadSeconds: z.number().min(0).max(86_400).optional(),
    /** CPU threads for generation; node-llama-cpp's default (the machine's cores) when absent. */
    threads: z.number().int().min(1).max(256).optional(),
  })
  .refine((config) => config.model !== undefined || config.modelPath !== undefined, {
    message: 'needs "model" (a name from `codebench models list`) or "modelPath" (an absolute path to a .gguf file)',
  });

export const providerConfigSchema = z.discriminatedUnion('kind', [httpProvider, cliProvider, llamaCppProvider]);

export const presetSchema = z.strictObject({
  title: z.string().min(1),
  instruction: z.string().min(1),
  /** A command to run first (e.g. "npm test"), under the command policy; its output goes to the model with the instruction. */
  run: z.string().trim().min(1).max(8000).optional(),
});

export const sensitiveFilesSchema = z.strictObject({
  deny: z.array(z.string().min(1)).optional(),
  allow: z.array(z.string().min(1)).optional(),
});

export const commandsSchema = z.strictObject({
  /** Default time limit of one command, in seconds (the model may ask for less, or more up to the max). */
  timeoutSeconds: z.number().positive().max(86400).optional(),
  maxTimeoutSeconds: z.number().positive().max(86400).optional(),
  /** Bytes of output the model gets (head and tail); the middle is elided. */
  outputLimitBytes: z.number().int().min(1000).max(10_000_000).optional(),
  /** How long an approval prompt waits before it counts as "deny". */
  approvalTimeoutSeconds: z.number().positive().max(86400).optional(),
  /**
   * Names of ignored dependency directories shared into the private copy commands run in, besides
   * node_modules, .venv, venv, target, vendor and .gradle (agent/workspace/shared-directories.ts).
   */
  sharedDirectories: z
    .array(
      z
        .string()
        .min(1)
        .max(255)
        .refine((name) => !/[\\/]/.test(name) && name !== '.' && name !== '..' && name.toLowerCase() !== '.git', 'must be a directory name (no "/"; not ".", ".." or ".git"), e.g. "build"'),
    )
    .max(100)
    .optional(),
});

/** The libpq sslmode values team sync honours (sync/connection-settings.ts says how each connects). */
export const SYNC_SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SyncSslMode = (typeof SYNC_SSL_MODES)[number];

/** `sync.url` taken apart; the password is never part of it (the config refuses one). */
export interface SyncUrl {
  user: string;
  /** A host name, an IP address, or a Unix socket directory (`?host=/var/run/postgresql`). */
  host: string;
  port: number;
  database: string;
  /** libpq's default, `prefer`, when the URL names none. */
  sslmode: SyncSslMode;
  /** The remaining query parameters (sslrootcert, sslcert, sslkey, options, connect_timeout, …). */
  parameters: Record<string, string>;
}

/** Query parameters that carry a secret; like a password in the user part, refused. */
const SECRET_PARAMETERS = ['password', 'sslpassword'];

export const SYNC_PASSWORD_REFUSAL =
  'contains a password; a password never goes in the config file: name an environment variable in "passwordEnv", or store it with `codebench keys set sync`';

/**
 * Parses `sync.url`, or says what is wrong with it. The reasons never quote the URL: it may hold a
 * password, and a config error is shown in editors and logs.
 */
export function parseSyncUrl(text: string): { ok: true; url: SyncUrl } | { ok: false; reason: string } {
  const fail = (reason: string) => ({ ok: false as const, reason });
  let url: URL;
  let noHost = false;
  try {
    url = new URL(text);
  } catch {
    // `postgres://alice@/db?host=/var/run/postgresql` (a socket) is libpq's, not WHATWG's.
    try {
      url = new URL(text.replace('@/', '@no-host/'));
      noHost = true;
    } catch {
      return fail('is not a URL; write it as postgres://USER@HOST:PORT/DATABASE');
    }
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return fail(`must be a postgres:// or postgresql:// URL, not ${JSON.stringify(url.protocol.slice(0, 20))}; write it as postgres://USER@HOST:PORT/DATABASE`);
  }
  if (url.password !== '' || SECRET_PARAMETERS.some((name) => url.searchParams.has(name))) return fail(SYNC_PASSWORD_REFUSAL);
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  const parameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) parameters[name] = value;
  const user = decode(url.username) || parameters.user || '';
  // The user is the author of every synced record (the server checks author = current_user).
  if (user === '') return fail('names no user; write it as postgres://USER@HOST:PORT/DATABASE (USER is your PostgreSQL role)');
  const host = parameters.host ?? ((noHost ? '' : decode(url.hostname.replace(/^\[(.+)\]$/, '$1'))) || 'localhost');
  const port = Number(parameters.port ?? (url.port || '5432'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail('has a port that is not a number from 1 to 65535');
  const database = decode(url.pathname.replace(/^\//, '')) || parameters.dbname || user;
  const sslmode = parameters.sslmode ?? 'prefer';
  if (!(SYNC_SSL_MODES as readonly string[]).includes(sslmode)) {
    return fail(`has sslmode=${JSON.stringify(sslmode.slice(0, 20))}; use one of ${SYNC_SSL_MODES.join(', ')}`);
  }
  if (sslmode === 'verify-ca' && !parameters.sslrootcert) {
    // Without a CA of its own, verify-ca accepts any certificate a public CA signed for anyone.
    return fail('has sslmode=verify-ca without sslrootcert=FILE (the CA that signed the server certificate); add it, or use sslmode=verify-full');
  }
  for (const name of ['sslmode', 'user', 'host', 'port', 'dbname']) delete parameters[name];
  return { ok: true, url: { user, host, port, database, sslmode: sslmode as SyncSslMode, parameters } };
}

/**
 * Team history sync. Honoured only from the user's config file (config/load.ts says why), and
 * never with a password in it.
 */
export const syncSchema = z.strictObject({
  url: z.string().superRefine((text, context) => {
    const parsed = parseSyncUrl(text);
    if (!parsed.ok) context.addIssue({ code: 'custom', message: parsed.reason });
  }),
  /** Name of the environment variable holding the password (else the keychain account "sync"). */
  passwordEnv: z.string().min(1).optional(),
  /** Globs over workspace identities (`github.com/acme/*`); only matching workspaces sync. */
  share: z.array(z.string().min(1)).optional(),
  /** Seconds between sync rounds. */
  intervalSeconds: z.number().min(5).max(3600).optional(),
});

export const configSchema = z.strictObject({
  defaultProvider: z.string().min(1).optional(),
  providers: z.record(z.string().min(1), providerConfigSchema).optional(),
  review: z.enum(['ask', 'auto']).optional(),
  /** Extra code-action presets shown beside the built-in ones. */
  presets: z.array(presetSchema).optional(),
  /** Upper bound on model turns in one run. */
  maxSteps: z.number().int().min(1).max(200).optional(),
  /** Wall-clock limit of one run in seconds, for HTTP providers and CLI datasources alike. */
  maxRunSeconds: z.number().positive().max(86_400).optional(),
  /** Glob patterns added to / exempted from the built-in sensitive-file denylist (agent/workspace/secrets.ts). */
  sensitiveFiles: sensitiveFilesSchema.optional(),
  /** The run_command tool: time and output limits, and how long an approval prompt waits. */
  commands: commandsSchema.optional(),
  /** Team history on PostgreSQL; read only from the user's config file. */
  sync: syncSchema.optional(),
  /** Who wrote a line: `hover: false` turns the hover off (`codebench/provenance` still answers). */
  provenance: z.strictObject({ hover: z.boolean().optional() }).optional(),
});

export type ProviderConfig = z.infer<typeof providerConfigSchema>;
export type HttpProviderConfig = z.infer<typeof httpProvider>;
export type LlamaCppProviderConfig = z.infer<typeof llamaCppProvider>;
export type Preset = z.infer<typeof presetSchema>;
export type ConfigFile = z.infer<typeof configSchema>;

/** `sync` with its defaults filled in. */
export interface ResolvedSyncConfig {
  url: string;
  passwordEnv?: string;
  share: string[];
  intervalSeconds: number;
}

export const DEFAULT_SYNC_INTERVAL_SECONDS = 30;

/** The effective configuration: every optional knob resolved. */
export interface Config {
  defaultProvider: string;
  providers: Record<string, ProviderConfig>;
  review: 'ask' | 'auto';
  presets: Preset[];
  maxSteps: number;
  maxRunSeconds: number;
  /** User additions to the sensitive-file policy; the built-in denylist always applies. */
  sensitiveFiles?: { deny: string[]; allow: string[] };
  /** run_command limits; defaults in agent/commands/gate.ts. */
  commands?: z.infer<typeof commandsSchema>;
  /** Team history sync; absent unless the user's config file sets it. */
  sync?: ResolvedSyncConfig;
  /** Absent means the defaults (hover on). */
  provenance?: { hover?: boolean };
}

export const DEFAULT_OLLAMA_MODEL = 'qwen2.5-coder:7b';
export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434';

export const builtInConfig: Config = {
  defaultProvider: 'local',
  providers: {
    local: { kind: 'ollama', model: DEFAULT_OLLAMA_MODEL, baseURL: DEFAULT_OLLAMA_URL },
  },
  review: 'ask',
  presets: [],
  maxSteps: 25,
  maxRunSeconds: 600,
};
