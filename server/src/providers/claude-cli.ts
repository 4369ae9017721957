import { ClaudeStreamParser } from './claude-events.js';
import { formatSeconds } from './classify.js';
import { ProviderError, type ProviderErrorKind } from './errors.js';
import type { CliCall, CliRunner } from './cli-call.js';
import { resolveApiKey } from './keys.js';
import type { ExternalAgentOutcome } from './types.js';
import { runJsonLines } from './subprocess.js';

/**
 * The `claude` CLI as a datasource: one `claude -p` per run in the shadow workspace, its JSON
 * lines turned into ExternalEvents. Failures come back in the outcome, never as a throw.
 */

/** The only tools the CLI gets, all pre-approved: it edits files in its cwd and nothing else. */
const FILE_TOOLS = 'Read,Edit,MultiEdit,Write,NotebookEdit,Glob,Grep,LS';
/**
 * Shell commands follow codebench's policy: denied unless allowed, and nothing is allowed yet. A
 * deny rule wins over any allow rule, so it holds even when `args` widen `--tools`.
 */
const DENIED_TOOLS = 'Bash,PowerShell';
/** Options in "args" that would undo that policy; refused rather than passed along. */
const REFUSED_ARGS = /^--(dangerously-skip-permissions|allow-dangerously-skip-permissions|permission-mode)(=|$)/;
/** Without output for this long the CLI is considered stuck (it streams even while the model thinks). */
const DEFAULT_STALL_SECONDS = 300;
/** The CLI retries a 401 ten times with backoff; one retry covers an OAuth token refresh. */
const AUTH_RETRIES_BEFORE_GIVING_UP = 2;

export function claudeArgs(call: CliCall): string[] {
  const { config, request } = call;
  return [
    // The prompt goes through stdin: as an argument it could be read as an option or hit ARG_MAX.
    '-p',
    '--output-format=stream-json',
    '--verbose',
    '--include-partial-messages',
    // Anything not pre-approved below is refused at once: nobody is there to answer a prompt.
    '--permission-mode=dontAsk',
    // File tools confined to the cwd; no code-running tools; the workspace's own .claude settings
    // (hooks, allow rules) and the user's are ignored, so a cloned repository cannot widen this.
    '--restricted',
    // MCP servers are commands too.
    '--strict-mcp-config',
    `--tools=${FILE_TOOLS}`,
    `--allowedTools=${FILE_TOOLS}`,
    `--disallowedTools=${DENIED_TOOLS}`,
    // `=` keeps a value starting with "-" from being parsed as an option.
    `--append-system-prompt=${request.system}`,
    ...(config.model ? [`--model=${config.model}`] : []),
    ...(request.resumeSessionId ? [`--resume=${request.resumeSessionId}`] : []),
    // A model re-sending a failing call would otherwise loop for as long as the run lasts.
    ...(request.maxTurns !== undefined ? [`--max-turns=${request.maxTurns}`] : []),
    ...(config.args ?? []),
  ];
}

/**
 * The user's environment (HOME, PATH, proxies, the CLI's own login) plus the provider config. A
 * key is passed only when the config asks for one (apiKeyEnv, or "apiKey": "keychain"); otherwise
 * the CLI's own login is used.
 */
export async function claudeEnv(call: CliCall): Promise<{ env: NodeJS.ProcessEnv; secret?: string } | ProviderError> {
  const { config, env, providerName } = call;
  const out: NodeJS.ProcessEnv = { ...env };
  if (config.baseURL) out.ANTHROPIC_BASE_URL = config.baseURL;
  let secret: string | undefined;
  if (config.apiKeyEnv || config.apiKey === 'keychain') {
    const key = await resolveApiKey(providerName, config, env);
    if (!key.ok) {
      return new ProviderError({
        kind: 'config',
        providerName,
        message: `${key.message} Or remove "apiKeyEnv"/"apiKey" from the provider config to use the claude CLI's own login.`,
      });
    }
    if (key.apiKey) {
      secret = key.apiKey;
      out.ANTHROPIC_API_KEY = key.apiKey;
      // An inherited bearer token would be sent too and could win over the configured key.
      delete out.ANTHROPIC_AUTH_TOKEN;
    }
  }
  // CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC covers the other three; they are set too in case a
  // settings file sets it to 0.
  out.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  out.DISABLE_TELEMETRY = '1';
  out.DISABLE_ERROR_REPORTING = '1';
  out.DISABLE_AUTOUPDATER = '1';
  out.DISABLE_BUG_COMMAND = '1';
  return { env: out, secret };
}

export const runClaude: CliRunner = async (call) => {
  const first = await runOnce(call);
  if (!first.resumeMissing) return first.outcome;
  // Without this the codebench session would be stuck: every later ask would resume the same id.
  call.request.onEvent({
    type: 'notice',
    message: `could not resume claude session ${call.request.resumeSessionId} (${first.resumeMissing}); starting a new one without the earlier turns`,
  });
  return (await runOnce({ ...call, request: { ...call.request, resumeSessionId: undefined } })).outcome;
};

async function runOnce(call: CliCall): Promise<{ outcome: ExternalAgentOutcome; resumeMissing?: string }> {
  const { config, providerName, request } = call;
  const command = config.command ?? 'claude';
  const refused = config.args?.find((arg) => REFUSED_ARGS.test(arg));
  if (refused) {
    const message = `${providerName} (claude CLI): "args" contains ${refused}, which would let the CLI act outside codebench's permission policy (file tools in the workspace copy, no shell commands). Remove it from the provider config.`;
    return { outcome: { status: 'failed', text: '', error: new ProviderError({ kind: 'config', providerName, message }) } };
  }
  const prepared = await claudeEnv(call);
  if (prepared instanceof ProviderError) return { outcome: { status: 'failed', text: '', error: prepared } };
  const { env, secret } = prepared;
  const redact = (text: string) => (secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text);

  const parser = new ClaudeStreamParser(request.cwd);
  const stop = new AbortController();
  let stopReason: 'stall' | 'auth' | undefined;
  const stallMs = (config.timeoutSeconds ?? DEFAULT_STALL_SECONDS) * 1000;
  let stallTimer: NodeJS.Timeout | undefined;
  const alive = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      stopReason ??= 'stall';
      stop.abort();
    }, stallMs);
  };
  const otherLines: string[] = [];
  alive();
  const run = await runJsonLines({
    command,
    args: claudeArgs(call),
    cwd: request.cwd,
    env,
    input: request.prompt,
    signal: AbortSignal.any([request.signal, stop.signal]),
    onJson: (value) => {
      alive();
      for (const event of parser.push(value)) request.onEvent(event);
      const retry = parser.lastRetry;
      if (retry && (retry.status === 401 || retry.status === 403) && retry.attempt >= AUTH_RETRIES_BEFORE_GIVING_UP && !stopReason) {
        stopReason = 'auth';
        stop.abort();
      }
    },
    onOtherLine: (line) => {
      alive();
      if (otherLines.length < 20) otherLines.push(line);
    },
  }).finally(() => clearTimeout(stallTimer));

  const streamed = parser.streamedText;
  const fail = (kind: ProviderErrorKind, message: string, statusCode?: number): ExternalAgentOutcome => ({
    status: kind === 'cancelled' ? 'cancelled' : 'failed',
    text: streamed,
    error: new ProviderError({ kind, providerName, message: redact(message), ...(statusCode !== undefined ? { statusCode } : {}) }),
  });
  const withSession = (outcome: ExternalAgentOutcome): { outcome: ExternalAgentOutcome } => ({
    outcome: {
      ...outcome,
      ...(parser.sessionId ? { externalSessionId: parser.sessionId } : {}),
      ...(parser.usage ? { usage: parser.usage } : {}),
      ...(parser.costUsd !== undefined ? { costUsd: parser.costUsd } : {}),
    },
  });

  if (run.spawnError) {
    const code = run.spawnError.code;
    const message =
      code === 'ENOENT'
        ? `claude CLI not found at "${command}" — install it with \`npm i -g @anthropic-ai/claude-code\` or set "command" in the ${providerName} provider config.`
        : `claude CLI at "${command}" could not be started (${code}: ${run.spawnError.message}). Check "command" in the ${providerName} provider config.`;
    return { outcome: fail('config', message) };
  }
  if (request.signal.aborted) return withSession(fail('cancelled', `The claude CLI run (${providerName}) was cancelled.`));
  if (stopReason === 'auth') {
    const status = parser.lastRetry?.status;
    return withSession(fail('auth', authMessage(call, `HTTP ${status}`), status));
  }
  if (stopReason === 'stall') {
    const seconds = formatSeconds(stallMs / 1000);
    return withSession(fail('unavailable', `claude CLI (${providerName}) printed nothing for ${seconds} s (timeoutSeconds) and was stopped. Try again, or raise "timeoutSeconds" in the provider config.`));
  }

  const result = parser.result;
  if (result && !result.isError) return withSession({ status: 'completed', text: parser.text });
  if (result?.subtype === 'error_max_turns') {
    return withSession(
      fail('bad-response', `claude CLI (${providerName}) stopped after ${request.maxTurns ?? 'its maximum number of'} turns (maxSteps) without finishing; its changes were not kept. Ask for a smaller change, or raise "maxSteps" in the config.`),
    );
  }
  if (result) {
    const detail = [parser.apiError?.text, ...result.errors, result.text !== parser.apiError?.text ? result.text : undefined]
      .filter((part): part is string => Boolean(part?.trim()))
      .join('; ');
    const missing = request.resumeSessionId ? result.errors.find((error) => /no conversation found/i.test(error)) : undefined;
    if (missing) return { outcome: fail('bad-request', missing), resumeMissing: missing };
    const status = result.apiErrorStatus ?? parser.lastRetry?.status;
    const kind = errorKind(status, parser.apiError?.kind, detail);
    const message =
      kind === 'auth' ? authMessage(call, detail) : `claude CLI (${providerName}) failed${status ? ` (HTTP ${status})` : ''}: ${sentence(detail || result.subtype)}${hint(kind)}`;
    return withSession(fail(kind, message, status));
  }

  if (run.exitCode !== 0) {
    const stderr = tail(run.stderrTail);
    const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
    return withSession(fail('bad-response', `claude CLI (${providerName}) ${how}: ${sentence(stderr || otherLines.join(' ') || 'no error output')}${unknownOptionHint(stderr, config.args ?? [])}`));
  }
  const seen = otherLines.length > 0 ? ` It printed: ${tail(otherLines.join('\n'), 300)}` : ' It printed nothing.';
  const why = parser.recognised === 0 ? 'did not print stream-json output' : 'ended without a result line';
  return withSession(
    fail('bad-response', `claude CLI (${providerName}) at "${command}" ${why}.${seen} Check that "command" points at Anthropic's claude CLI and that "args" do not change --output-format.`),
  );
}

function authMessage(call: CliCall, detail: string): string {
  const who = `claude CLI (${call.providerName})`;
  if (call.config.apiKeyEnv) {
    return `${who}: the API${call.config.baseURL ? ` at ${call.config.baseURL}` : ''} rejected the credentials (${detail}). Check the key in the environment variable ${call.config.apiKeyEnv}.`;
  }
  return `${who} is not logged in or its credentials were rejected (${detail}). Run \`claude\` once and log in with /login, or set "apiKeyEnv" in the provider config to an environment variable holding an Anthropic API key.`;
}

function errorKind(status: number | undefined, apiErrorKind: string | undefined, detail: string): ProviderErrorKind {
  if (status === 401 || status === 403 || apiErrorKind === 'authentication_failed' || /not logged in|\/login|invalid api key|authenticat/i.test(detail)) return 'auth';
  if (status === 429 || apiErrorKind === 'rate_limit') return 'rate-limited';
  if (status !== undefined && (status === 408 || status >= 500)) return 'unavailable';
  if (/prompt is too long|context (window|length)/i.test(detail)) return 'context-overflow';
  if (status !== undefined) return 'bad-request';
  return 'bad-response';
}

function hint(kind: ProviderErrorKind): string {
  if (kind === 'rate-limited') return ' Wait a moment and try again.';
  if (kind === 'unavailable') return ' Try again later, or pick another provider.';
  if (kind === 'context-overflow') return ' Start a new session or include less context.';
  return '';
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** An option the CLI does not know is either the user's (in "args") or ours on an old CLI. */
function unknownOptionHint(stderr: string, args: string[]): string {
  const option = /unknown option '([^'=]+)/i.exec(stderr)?.[1];
  if (!option) return '';
  if (args.some((arg) => arg.split('=')[0] === option)) return ' Check "args" in the provider config.';
  return ' The installed claude CLI is too old for the options codebench passes (it needs --restricted, added in 2.1.248): update it with `npm i -g @anthropic-ai/claude-code`.';
}

function tail(text: string, max = 600): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed;
}
