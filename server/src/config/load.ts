import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as JsoncParser from 'jsonc-parser';
import type { z } from 'zod';
import { builtInConfig, configSchema, DEFAULT_SYNC_INTERVAL_SECONDS, type Config, type ConfigFile } from './schema.js';

/** A configuration problem, phrased for the user: which file, which key, what is wrong. */
export class ConfigError extends Error {
  constructor(
    message: string,
    /** The keys the message names (dotted paths); empty when it names none (JSON syntax, a missing file). */
    readonly keys: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function configFilePath(env: NodeJS.ProcessEnv): string {
  if (env.CODEBENCH_CONFIG) return env.CODEBENCH_CONFIG;
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(configHome, 'codebench', 'config.json');
}

/**
 * The environment variable that chose the config file, when one did: a file named on purpose must
 * exist (a typo in it would otherwise fall back to the defaults without a word).
 */
export function configFileVariable(env: NodeJS.ProcessEnv): string | undefined {
  return env.CODEBENCH_CONFIG ? 'CODEBENCH_CONFIG' : undefined;
}

export function dataDirectory(env: NodeJS.ProcessEnv): string {
  if (env.CODEBENCH_DATA_DIR) return env.CODEBENCH_DATA_DIR;
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(dataHome, 'codebench');
}

function describeIssues(source: string, error: z.ZodError): ConfigError {
  const where = (issue: z.core.$ZodIssue) => (issue.path.length > 0 ? issue.path.join('.') : '(top level)');
  const lines = error.issues.map((issue) => `${where(issue)}: ${issue.message}`);
  // The keys to fix: an unknown key is named itself, not the object that holds it.
  const keys = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key].join('.')) : issue.path.length > 0 ? [issue.path.join('.')] : [],
  );
  return new ConfigError(`Invalid codebench config in ${source}: ${lines.join('; ')}`, keys);
}

/**
 * Where a layer comes from. Editor layers (initializationOptions, didChangeConfiguration) can be
 * written by a repository the user cloned (Helix `.helix/languages.toml`, a project `.nvim.lua`),
 * so keys that send data somewhere are honoured only from the user's own config file.
 */
export type ConfigLayerOrigin = 'user-file' | 'editor';

/** Keys an editor layer may not set; see ConfigLayerOrigin. */
const USER_FILE_ONLY_KEYS = ['sync'] as const;

/** Validates one layer (file, initializationOptions, didChangeConfiguration) on its own. */
export function parseConfigLayer(value: unknown, source: string, origin: ConfigLayerOrigin = 'editor'): ConfigFile {
  if (origin !== 'user-file' && typeof value === 'object' && value !== null) {
    for (const key of USER_FILE_ONLY_KEYS) {
      if (Object.hasOwn(value, key)) {
        // A repository must never be able to point history sync at its own server.
        throw new ConfigError(
          `Invalid codebench config in ${source}: ${key}: is read only from the user's config file (\`codebench config path\`), never from editor settings, which a cloned repository can supply; move it there`,
          [key],
        );
      }
    }
  }
  const result = configSchema.safeParse(value ?? {});
  if (!result.success) throw describeIssues(source, result.error);
  return result.data;
}

/**
 * Reads the config file. A missing file is not an error (the built-in local default applies)
 * unless `namedBy`, the environment variable that named it (configFileVariable), says it must exist.
 */
export function readConfigFile(path: string, namedBy?: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (namedBy) throw new ConfigError(`${namedBy} names ${path}, which does not exist: create it (codebench config init) or unset ${namedBy}`);
      return {};
    }
    throw new ConfigError(`Cannot read codebench config ${path}: ${(error as Error).message}`);
  }
  // Editors on Windows may save a byte-order mark, which is not JSON.
  return parseConfigLayer(parseJsonc(text.replace(/^\uFEFF/, ''), path), path, 'user-file');
}

/**
 * jsonc-parser's "main" is a UMD build whose inner require() calls esbuild cannot follow, and its
 * ESM build uses extensionless imports plain Node refuses; Node's own require loads the UMD build
 * correctly both from the bundle in dist/ and under the tests (and caches it).
 */
function loadJsonc(): typeof JsoncParser {
  return createRequire(import.meta.url)('jsonc-parser') as typeof JsoncParser;
}

/** The config is hand-edited: comments and trailing commas are allowed, anything else is reported. */
function parseJsonc(text: string, path: string): unknown {
  const { parse, printParseErrorCode } = loadJsonc();
  const errors: JsoncParser.ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineColumn(text, first.offset);
    throw new ConfigError(`Invalid JSON in codebench config ${path} at ${line}:${column}: ${printParseErrorCode(first.error)}`);
  }
  return value;
}

/** 1-based, as editors show it, so `vim +3` / "Go to line 3:7" lands on the problem. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index++) {
    if (text[index] === '\n') {
      line++;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Later layers win key by key; `providers` merge by name so a workspace can add one provider
 * without restating the user's others.
 */
export function resolveConfig(layers: Array<{ source: string; config: ConfigFile }>): Config {
  const merged: Config = {
    ...builtInConfig,
    providers: { ...builtInConfig.providers },
    presets: [...builtInConfig.presets],
  };
  let explicitProviders = false;
  for (const { config } of layers) {
    if (config.providers) {
      if (!explicitProviders) {
        // A user who lists providers gets exactly those (plus later layers'), not our default too,
        // unless they name it themselves.
        merged.providers = {};
        explicitProviders = true;
      }
      Object.assign(merged.providers, config.providers);
    }
    if (config.defaultProvider !== undefined) merged.defaultProvider = config.defaultProvider;
    if (config.review !== undefined) merged.review = config.review;
    if (config.presets !== undefined) merged.presets = config.presets;
    if (config.maxSteps !== undefined) merged.maxSteps = config.maxSteps;
    if (config.maxRunSeconds !== undefined) merged.maxRunSeconds = config.maxRunSeconds;
    if (config.commands !== undefined) merged.commands = { ...merged.commands, ...config.commands };
    if (config.provenance !== undefined) merged.provenance = { ...merged.provenance, ...config.provenance };
    if (config.sync !== undefined) {
      const sync = { ...merged.sync, ...config.sync };
      merged.sync = { ...sync, share: sync.share ?? [], intervalSeconds: sync.intervalSeconds ?? DEFAULT_SYNC_INTERVAL_SECONDS };
    }
    // Patterns accumulate across layers: a workspace can add to the user's lists, not erase them.
    if (config.sensitiveFiles !== undefined) {
      merged.sensitiveFiles = {
        deny: [...(merged.sensitiveFiles?.deny ?? []), ...(config.sensitiveFiles.deny ?? [])],
        allow: [...(merged.sensitiveFiles?.allow ?? []), ...(config.sensitiveFiles.allow ?? [])],
      };
    }
  }
  if (explicitProviders && !layers.some((layer) => layer.config.defaultProvider !== undefined)) {
    const first = Object.keys(merged.providers)[0];
    if (first) merged.defaultProvider = first;
  }
  if (!merged.providers[merged.defaultProvider]) {
    const source = [...layers].reverse().find((layer) => layer.config.defaultProvider !== undefined)?.source;
    const known = Object.keys(merged.providers).join(', ') || '(none)';
    throw new ConfigError(
      `Invalid codebench config in ${source ?? 'defaults'}: defaultProvider: "${merged.defaultProvider}" is not one of the configured providers (${known})`,
      ['defaultProvider'],
    );
  }
  checkFallbacks(merged, layers);
  return merged;
}

/**
 * `providers.<name>.fallback` names providers that exist and can take a turn of the built-in
 * tool loop. CLI datasources cannot: they run their own loop in a shadow copy of the workspace,
 * so they neither hand a turn over nor take one. Cycles are fine (the chain visits each once).
 */
function checkFallbacks(config: Config, layers: Array<{ source: string; config: ConfigFile }>): void {
  const isCli = (kind: string) => kind === 'claude-cli' || kind === 'codex-cli';
  for (const [name, provider] of Object.entries(config.providers)) {
    if (!provider.fallback?.length) continue;
    const source = [...layers].reverse().find((layer) => layer.config.providers?.[name] !== undefined)?.source ?? 'defaults';
    const key = `providers.${name}.fallback`;
    const fail = (why: string): never => {
      throw new ConfigError(`Invalid codebench config in ${source}: ${key}: ${why}`, [key]);
    };
    if (isCli(provider.kind)) fail(`"${name}" is a ${provider.kind} datasource, which runs its own tool loop and cannot hand a turn to another provider; remove "fallback"`);
    for (const next of provider.fallback) {
      const target = config.providers[next];
      if (!target) fail(`"${next}" is not one of the configured providers (${Object.keys(config.providers).join(', ')})`);
      else if (isCli(target.kind)) fail(`"${next}" is a ${target.kind} datasource, which cannot take over a turn of the built-in tool loop; name an HTTP provider (openai, anthropic, ollama, openai-compatible)`);
    }
  }
}
