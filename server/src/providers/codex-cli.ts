import { realpath } from 'node:fs/promises';
import { CodexEventParser, type CodexSummary } from './codex-events.js';
import { ProviderError, type ProviderErrorKind } from './errors.js';
import { resolveApiKey } from './keys.js';
import type { CliCall, CliRunner } from './cli-call.js';
import { runJsonLines, type JsonLinesResult } from './subprocess.js';
import type { ExternalAgentOutcome } from './types.js';

/** Name of the model provider codebench defines for codex when the config sets a baseURL. */
const PROVIDER_ID = 'codebench';

/**
 * What codex may do in the shadow workspace, settled against codex 0.169 (see the integration
 * tests). Edits go through codex's own patch tool, which the workspace-write sandbox confines to
 * the cwd; /tmp and $TMPDIR are taken out of the writable set because the user's files often live
 * there too. Shell commands are denied by codebench's policy, and approvals cannot deny them here:
 * in `exec` mode every policy runs a command inside the sandbox, where it could still write the
 * cwd. So the shell tools are switched off: a model asking for one gets "unsupported call", and no
 * process is started — which also keeps this fail-closed where the Linux sandbox is unavailable.
 * `approval_policy=never` makes anything that would need a person (writing outside the cwd) fail
 * at once instead of waiting for an answer nobody can give. The user's config.toml is not loaded
 * (their login still is): MCP servers and `notify` programs configured there start
 * processes outside the sandbox. `args` in the provider config is the way to add settings back.
 */
const POLICY_ARGS = [
  '--ignore-user-config',
  '--sandbox', 'workspace-write',
  '-c', 'approval_policy="never"',
  '-c', 'sandbox_workspace_write.network_access=false',
  '-c', 'sandbox_workspace_write.exclude_slash_tmp=true',
  '-c', 'sandbox_workspace_write.exclude_tmpdir_env_var=true',
  '-c', 'sandbox_workspace_write.writable_roots=[]',
  '--disable', 'shell_tool',
  '--disable', 'unified_exec',
];

/**
 * Phone-home and niceties a background run has no use for. Without the last one codex waits for
 * the network forever when it is down; codebench would rather say so.
 */
const QUIET_ARGS = [
  '-c', 'analytics.enabled=false',
  '-c', 'feedback.enabled=false',
  '-c', 'check_for_update_on_startup=false',
  '-c', 'otel.exporter="none"',
  '-c', 'otel.metrics_exporter="none"',
  '-c', 'otel.trace_exporter="none"',
  '--disable', 'shell_snapshot',
  '--disable', 'unbounded_connection_retries',
];

export function codexArgs(call: CliCall): string[] {
  const { config, request } = call;
  const args = ['exec', '--json', '--color', 'never', '--skip-git-repo-check', '--cd', request.cwd];
  if (config.model) args.push('-m', config.model);
  if (config.baseURL) {
    const fields = [`name=${tomlString(PROVIDER_ID)}`, `base_url=${tomlString(config.baseURL)}`, `wire_api="responses"`];
    if (config.apiKeyEnv) fields.push(`env_key=${tomlString(config.apiKeyEnv)}`);
    args.push('-c', `model_providers.${PROVIDER_ID}={${fields.join(', ')}}`, '-c', `model_provider=${tomlString(PROVIDER_ID)}`);
  }
  args.push(...POLICY_ARGS, ...QUIET_ARGS);
  if (request.system.trim()) args.push('-c', `developer_instructions=${tomlString(request.system)}`);
  args.push(...(config.args ?? []));
  if (request.resumeSessionId) args.push('resume', request.resumeSessionId);
  // The prompt goes through stdin: no argv size limit, not visible in `ps`, and a prompt starting
  // with "-" cannot be taken for a flag.
  args.push('-');
  return args;
}

export function codexEnv(call: CliCall): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...call.env };
  // Without a baseURL codex uses its built-in OpenAI provider, which takes a key from CODEX_API_KEY.
  const key = call.config.apiKeyEnv ? call.env[call.config.apiKeyEnv] : undefined;
  if (!call.config.baseURL && key) env.CODEX_API_KEY = key;
  return env;
}

/** Where a key from the OS keychain is handed to codex (as `env_key`, or CODEX_API_KEY). */
const KEYCHAIN_KEY_ENV = 'CODEBENCH_CODEX_API_KEY';

/**
 * A key the config asks for but the environment lacks ("apiKey": "keychain", or an empty
 * apiKeyEnv) is looked up once and passed to codex through a private variable.
 */
async function withKey(call: CliCall): Promise<CliCall | ProviderError> {
  const { config, env, providerName } = call;
  const wanted = config.apiKey === 'keychain' || (config.apiKeyEnv !== undefined && !env[config.apiKeyEnv]);
  if (!wanted) return call;
  const key = await resolveApiKey(providerName, config, env);
  if (!key.ok) return new ProviderError({ kind: 'config', providerName, message: `${key.message} Or run \`codex login\` and remove "apiKeyEnv"/"apiKey" to use codex's own login.` });
  if (!key.apiKey) return call;
  return { ...call, config: { ...config, apiKeyEnv: KEYCHAIN_KEY_ENV }, env: { ...env, [KEYCHAIN_KEY_ENV]: key.apiKey } };
}

export const runCodex: CliRunner = async (original) => {
  const keyed = await withKey(original);
  if (keyed instanceof ProviderError) return { status: 'failed', text: '', error: keyed };
  const call = keyed;
  const { request, config } = call;
  const command = config.command ?? 'codex';
  const roots = [request.cwd];
  const real = await realpath(request.cwd).catch(() => request.cwd);
  if (real !== request.cwd) roots.push(real);
  const parser = new CodexEventParser(roots, request.onEvent);
  const errors = new CodexErrors(call, command);

  // Our own reasons to stop codex early share the cancel path, so the process group is killed.
  const stop = new AbortController();
  let stoppedFor: ProviderError | undefined;
  const halt = (error: ProviderError) => {
    stoppedFor ??= error;
    stop.abort();
  };
  const forward = () => stop.abort();
  if (request.signal.aborted) stop.abort();
  else request.signal.addEventListener('abort', forward, { once: true });

  const idleMs = config.timeoutSeconds ? config.timeoutSeconds * 1000 : undefined;
  let idle: NodeJS.Timeout | undefined;
  const heard = () => {
    if (idleMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => halt(errors.silent(config.timeoutSeconds!)), idleMs);
  };
  heard();

  let result: JsonLinesResult;
  try {
    result = await runJsonLines({
      command,
      args: codexArgs(call),
      cwd: request.cwd,
      env: codexEnv(call),
      signal: stop.signal,
      input: request.prompt,
      onJson: (value) => {
        heard();
        parser.push(value);
        // codex retries a refused key five times; nothing will change, so stop at the first.
        const auth = parser.summary.authFailure;
        if (auth) halt(errors.classify(auth));
      },
      onOtherLine: (line) => {
        heard();
        parser.pushOther(line);
      },
    });
  } finally {
    clearTimeout(idle);
    request.signal.removeEventListener('abort', forward);
  }
  return outcome(parser.summary, result, request.resumeSessionId, request.signal.aborted, stoppedFor, errors);
};

function outcome(
  summary: CodexSummary,
  result: JsonLinesResult,
  resumeSessionId: string | undefined,
  cancelled: boolean,
  stoppedFor: ProviderError | undefined,
  errors: CodexErrors,
): ExternalAgentOutcome {
  const base = {
    text: summary.text,
    ...(summary.threadId ? { externalSessionId: summary.threadId } : {}),
    ...(summary.usage ? { usage: summary.usage } : {}),
  };
  const failed = (error: ProviderError): ExternalAgentOutcome => ({ ...base, status: 'failed', error });
  if (result.spawnError) return failed(errors.spawn(result.spawnError));
  if (cancelled) return { ...base, status: 'cancelled', error: errors.make('cancelled', `The ${errors.label} run was cancelled.`) };
  if (stoppedFor) return failed(stoppedFor);
  if (!summary.sawEvents && resumeSessionId && /thread\/resume|no rollout found/i.test(result.stderrTail)) {
    return failed(errors.make('bad-request', `The ${errors.label} could not resume its earlier session ${resumeSessionId}${tailNote(result.stderrTail)}. Its session files (in CODEX_HOME) may be gone: start a new codebench session.`));
  }
  if (!summary.sawEvents) return failed(errors.noEvents(result, summary.otherLines));
  if (summary.turnFailed || (result.exitCode !== 0 && summary.failure)) return failed(errors.classify(summary.failure ?? 'the turn failed'));
  if (result.exitCode !== 0) return failed(errors.exited(result));
  if (!summary.turnCompleted) return failed(errors.make('bad-response', `The ${errors.label} stopped without finishing its turn${tailNote(result.stderrTail)}.`));
  return { ...base, status: 'completed' };
}

const CONTEXT = /context[ _-]?(length|window)|too many tokens|maximum context|too long/i;
const UNREACHABLE = /\b5\d\d\b|stream disconnected|error sending request|connection|timed? ?out|network|dns|resolve/i;

/** Every failure as one ProviderError that names the CLI and says what to do next. */
class CodexErrors {
  readonly label: string;
  private readonly secrets: string[];

  constructor(private readonly call: CliCall, private readonly command: string) {
    this.label = `codex CLI (${call.providerName})`;
    const key = call.config.apiKeyEnv ? call.env[call.config.apiKeyEnv] : undefined;
    this.secrets = key && key.length >= 4 ? [key] : [];
  }

  make(kind: ProviderErrorKind, message: string, statusCode?: number): ProviderError {
    let text = message;
    for (const secret of this.secrets) text = text.split(secret).join('[redacted]');
    // Servers echo partly masked keys ("Incorrect API key provided: sk-ab***yz").
    text = text.replace(/\b(sk|pk|key|sess)-[A-Za-z0-9_*.-]{3,}/g, '[redacted]');
    return new ProviderError({ kind, message: text, providerName: this.call.providerName, ...(statusCode ? { statusCode } : {}) });
  }

  spawn(error: NodeJS.ErrnoException): ProviderError {
    if (error.code === 'ENOENT') {
      return this.make('config', `codex CLI not found at ${this.command} — install it with \`npm i -g @openai/codex\` or set "command" in the config of provider ${this.call.providerName}.`);
    }
    return this.make('config', `codex CLI at ${this.command} could not be started (${error.code ?? error.message}) — check that it is executable, or set "command" in the config of provider ${this.call.providerName}.`);
  }

  noEvents(result: JsonLinesResult, otherLines: string[]): ProviderError {
    const exit = result.exitCode !== undefined && result.exitCode !== 0 ? ` and exited with code ${result.exitCode}` : '';
    const said = otherLines.length > 0 ? ` It printed: "${otherLines.join(' / ').slice(0, 300)}".` : '';
    return this.make(
      'bad-response',
      `${this.command} printed no codex JSON events${exit}.${said}${tailNote(result.stderrTail)} Check that "command" of provider ${this.call.providerName} is the codex CLI (0.169 or newer, which has \`codex exec --json\`).`,
    );
  }

  exited(result: JsonLinesResult): ProviderError {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    return this.make('bad-response', `The ${this.label} ${how}${tailNote(result.stderrTail)}.`);
  }

  silent(seconds: number): ProviderError {
    return this.make('unavailable', `The ${this.label} printed nothing for ${seconds} s and was stopped. Raise "timeoutSeconds" in the config of provider ${this.call.providerName} if it needs longer.`);
  }

  /** codex reports model and network failures as text; sort them by what the user can do. */
  classify(message: string): ProviderError {
    const status = Number(/\bstatus (\d{3})\b/.exec(message)?.[1]) || undefined;
    const { config, providerName } = this.call;
    if (status === 401 || status === 403 || /unauthori[sz]ed|forbidden|missing environment variable|not logged in|log ?in|api key/i.test(message)) {
      const hint = config.apiKeyEnv
        ? `Check the key in the environment variable ${config.apiKeyEnv}.`
        : `Run \`codex login\`, or set "apiKeyEnv" in the config of provider ${providerName} to an environment variable holding an API key.`;
      return this.make('auth', `The ${this.label} could not authenticate: ${message}. ${hint}`, status);
    }
    if (status === 429 || /rate limit|usage limit|quota/i.test(message)) {
      return this.make('rate-limited', `The ${this.label} is being rate limited: ${message}. Try again later.`, status);
    }
    if (CONTEXT.test(message)) {
      return this.make('context-overflow', `The conversation is too long for the ${this.label}: ${message}. Start a new session or include less context.`, status);
    }
    if (UNREACHABLE.test(message)) {
      const where = config.baseURL ? `Check that the server at ${config.baseURL} is running and that "baseURL" is right.` : 'Check the network connection.';
      return this.make('unavailable', `The ${this.label} could not reach the model: ${message}. ${where}`, status);
    }
    if (status !== undefined && status >= 400) {
      return this.make('bad-request', `The ${this.label} request was rejected: ${message}. Check "model" and "baseURL" in the config of provider ${providerName}.`, status);
    }
    return this.make('bad-response', `The ${this.label} failed: ${message}`, status);
  }
}

function tailNote(stderrTail: string): string {
  const lines = stderrTail
    .split('\n')
    .map((line) => line.trim())
    // codex's own chatter on every run, never the reason for a failure.
    .filter((line) => line && !/^WARNING: proceeding, even though we could not create PATH aliases|^Reading additional input from stdin/.test(line));
  const text = lines.slice(-4).join(' / ');
  return text ? ` (stderr: ${text.slice(-600)})` : '';
}

/** A TOML basic string: JSON escapes are valid TOML except for DEL and lone surrogates. */
export function tomlString(value: string): string {
  const wellFormed = value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return JSON.stringify(wellFormed).replace(/\x7f/g, '\\u007f');
}
