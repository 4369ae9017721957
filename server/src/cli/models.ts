import { InvalidArgumentError } from 'commander';
import { configFilePath, configFileVariable, readConfigFile, resolveConfig } from '../config/load.js';
import type { ProviderConfig } from '../config/schema.js';
import { pullModel, type PullProgress } from '../providers/model-download.js';
import { formatBytes, isValidModelName, listModels, MODEL_CATALOGUE, removeModel } from '../providers/model-files.js';
import { CliError, type CliContext } from './context.js';
import type { Register } from './subcommand.js';

/**
 * `codebench models pull|list|rm`: GGUF files for llama-cpp providers, kept in
 * $CODEBENCH_DATA_DIR/models. The download and checks live in providers/model-download.ts.
 */

function sha256Option(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError('must be 64 hexadecimal digits');
  return value.toLowerCase();
}

function modelName(value: string): string {
  if (!isValidModelName(value)) throw new InvalidArgumentError('must be a model name as `codebench models list` shows it');
  return value;
}

export const registerModels: Register = (program, context) => {
  const models = program.command('models').description('GGUF models run inside codebench by llama-cpp providers (default: list)');
  models
    .command('pull')
    .description('download a model from the catalogue (NAME) or a URL, resuming a cut download and verifying its SHA-256')
    .argument('<name-or-url>', 'a catalogue name (`codebench models list --available`) or an http(s) URL of a .gguf file')
    .option('--sha256 <hex>', 'the SHA-256 the file must have', sha256Option)
    .action((source: string, options: { sha256?: string }) => pull(context, source, options));
  models
    .command('list', { isDefault: true })
    .description('the pulled models: name, size, path and the providers that use each')
    .option('--available', 'the catalogue of models `pull` knows by name')
    .option('--json', 'print JSON')
    .action((options: { available?: boolean; json?: boolean }) => list(context, options));
  models
    .command('rm')
    .alias('remove')
    .description('delete a pulled model')
    .argument('<name>', 'the model name', modelName)
    .action((name: string) => remove(context, name));
};

async function pull(context: CliContext, source: string, options: { sha256?: string }): Promise<void> {
  const { stderr } = context.io;
  const terminal = Boolean(stderr.isTTY);
  let lastQuarter = -1;
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const result = await pullModel({
      env: context.env,
      source,
      ...(options.sha256 ? { sha256: options.sha256 } : {}),
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.resumedFrom !== undefined) stderr.write(`resuming at ${formatBytes(progress.resumedFrom)}\n`);
        const line = progressLine(progress);
        if (terminal) {
          stderr.write(`\r\x1b[2K${line}`);
          return;
        }
        // Without a terminal, a line per quarter instead of a redrawn one.
        const quarter = progress.totalBytes ? Math.floor((progress.receivedBytes / progress.totalBytes) * 4) : 0;
        if (quarter > lastQuarter) {
          lastQuarter = quarter;
          stderr.write(`${line}\n`);
        }
      },
    });
    if (terminal) stderr.write('\r\x1b[2K');
    if (!result.ok) throw new CliError(result.message);
    const how =
      result.verified === 'none'
        ? `not verified (no checksum known; pass --sha256 to check it): ${result.sha256}`
        : `verified (${result.verified === 'given' ? '--sha256' : result.verified === 'catalogue' ? 'catalogue' : "the server's X-Linked-Etag"})`;
    context.io.stdout.write(`pulled ${result.name} (${formatBytes(result.bytes)}) to ${result.path}\nSHA-256 ${how}\n`);
    context.io.stdout.write(`use it with: "providers": { "embedded": { "kind": "llama-cpp", "model": "${result.name}" } }\n`);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

export function progressLine(progress: PullProgress): string {
  const total = progress.totalBytes;
  const percent = total ? ` ${Math.floor((progress.receivedBytes / total) * 100)}%` : '';
  const size = total ? `${formatBytes(progress.receivedBytes)} / ${formatBytes(total)}` : formatBytes(progress.receivedBytes);
  const rate = `${formatBytes(Math.round(progress.bytesPerSecond))}/s`;
  const left = progress.secondsLeft !== undefined ? `, ${formatDuration(progress.secondsLeft)} left` : '';
  return `downloading${percent}: ${size} at ${rate}${left}`;
}

function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  return minutes < 60 ? `${minutes} min ${whole % 60} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The user's providers, to say which use a model; a broken config only loses that column. */
function configuredProviders(context: CliContext): Record<string, ProviderConfig> {
  try {
    const path = configFilePath(context.env);
    return resolveConfig([{ source: path, config: readConfigFile(path, configFileVariable(context.env)) }]).providers;
  } catch {
    return {};
  }
}

async function list(context: CliContext, options: { available?: boolean; json?: boolean }): Promise<void> {
  const out = context.io.stdout;
  if (options.available) {
    if (options.json) return void out.write(`${JSON.stringify(MODEL_CATALOGUE, null, 2)}\n`);
    for (const entry of MODEL_CATALOGUE) {
      out.write(`${entry.name}  ~${formatBytes(entry.approxBytes)}  ${entry.licence}  contextWindow ${entry.contextWindow}\n  ${entry.description}\n`);
    }
    return;
  }
  const models = await listModels(context.env, configuredProviders(context));
  if (options.json) return void out.write(`${JSON.stringify(models, null, 2)}\n`);
  if (models.length === 0) {
    out.write('no models pulled; try `codebench models pull qwen2.5-coder-1.5b` (`codebench models list --available` shows the catalogue)\n');
    return;
  }
  for (const model of models) {
    const users = model.usedBy.length > 0 ? `used by ${model.usedBy.join(', ')}` : 'unused';
    out.write(`${model.name}  ${formatBytes(model.bytes)}  ${model.path}  ${users}\n`);
  }
}

async function remove(context: CliContext, name: string): Promise<void> {
  if (!(await removeModel(context.env, name))) throw new CliError(`no model named ${name}; \`codebench models list\` shows the pulled ones`);
  context.io.stdout.write(`removed ${name}\n`);
}
