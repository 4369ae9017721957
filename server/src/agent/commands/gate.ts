import type { Store } from '../../store/store.js';
import { askWithTimeout, type Approver } from './approvals.js';
import type { ParsedCommand } from './parse.js';
import { evaluateCommand, rulesFor, type PolicyContext } from './policy.js';
import type { ProcessResult } from './exec.js';

export interface CommandLimits {
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  outputLimitBytes: number;
  approvalTimeoutMs: number;
}

export const DEFAULT_COMMAND_LIMITS: CommandLimits = {
  defaultTimeoutMs: 120_000,
  maxTimeoutMs: 600_000,
  outputLimitBytes: 30_000,
  approvalTimeoutMs: 300_000,
};

export function commandLimits(config: { timeoutSeconds?: number; maxTimeoutSeconds?: number; outputLimitBytes?: number; approvalTimeoutSeconds?: number } = {}): CommandLimits {
  const max = (config.maxTimeoutSeconds ?? DEFAULT_COMMAND_LIMITS.maxTimeoutMs / 1000) * 1000;
  return {
    defaultTimeoutMs: Math.min((config.timeoutSeconds ?? DEFAULT_COMMAND_LIMITS.defaultTimeoutMs / 1000) * 1000, max),
    maxTimeoutMs: max,
    outputLimitBytes: config.outputLimitBytes ?? DEFAULT_COMMAND_LIMITS.outputLimitBytes,
    approvalTimeoutMs: (config.approvalTimeoutSeconds ?? DEFAULT_COMMAND_LIMITS.approvalTimeoutMs / 1000) * 1000,
  };
}

/** `codebench policy allow …` for each simple command, with the words quoted as a shell needs them. */
export function policyAllowCommands(rules: string[][]): string[] {
  const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
  return rules.map((argv) => `codebench policy allow ${argv.map(quote).join(' ')}`);
}

/** How the user can let a command run next time without being asked, or that no rule can. */
export function allowHint(alwaysRules: string[][] | undefined): string {
  if (!alwaysRules) return 'a rule cannot allow a command like this one (`codebench policy allow` takes plain commands), so the user has to run it';
  return `the user can allow it with ${policyAllowCommands(alwaysRules).map((command) => `\`${command}\``).join(' and ')}`;
}

export type Authorization = { allowed: true; by: 'rule' | 'user' } | { allowed: false; message: string };

/**
 * One run's door to command execution: policy, approval and the audit trail. Every decision is
 * appended to the audit log before anything runs. Nothing the model or a tool says reaches
 * `authorize` except the command text itself; approval comes only from a stored rule or the
 * front-end's Approver (the user).
 */
export class CommandGate {
  constructor(
    private readonly options: {
      store: Store;
      approver?: Approver;
      runId: string;
      sessionId: string;
      workspaceUri: string;
      limits: CommandLimits;
      /** The environment commands run with (credentials already removed). */
      env: NodeJS.ProcessEnv;
    },
  ) {}

  get limits(): CommandLimits {
    return this.options.limits;
  }

  get env(): NodeJS.ProcessEnv {
    return this.options.env;
  }

  async authorize(parsed: ParsedCommand, policy: PolicyContext, signal: AbortSignal): Promise<Authorization> {
    const { store, runId, sessionId, workspaceUri } = this.options;
    const command = parsed.source;
    const audit = (kind: 'command-asked' | 'command-approved' | 'command-denied', detail: Record<string, unknown>) =>
      store.appendAudit({ workspaceUri, kind, runId, sessionId, subject: command, detail: { cwd: policy.cwd, ...detail } });

    const rules = await store.listCommandRules(workspaceUri);
    const verdict = evaluateCommand(parsed, rules, policy);
    if (verdict.verdict === 'deny') {
      await audit('command-denied', { by: 'rule', rule: verdict.rule.argv });
      return { allowed: false, message: `it is denied by a rule of this workspace (\`${verdict.rule.argv.join(' ')}\`)` };
    }
    if (verdict.verdict === 'allow') {
      await audit('command-approved', { by: 'rule' });
      return { allowed: true, by: 'rule' };
    }

    await audit('command-asked', { reason: verdict.reason });
    const alwaysRules = rulesFor(parsed);
    const answer = await askWithTimeout(
      this.options.approver,
      { runId, sessionId, workspaceUri, command, cwd: policy.cwd, reason: verdict.reason, ...(alwaysRules ? { alwaysRules } : {}) },
      signal,
      this.options.limits.approvalTimeoutMs,
    );
    if (answer.decision === 'deny') {
      await audit('command-denied', { by: answer.by });
      const why: Record<typeof answer.by, string> = {
        user: 'the user denied it',
        timeout: 'nobody approved it in time',
        cancelled: 'the run was cancelled while it waited for approval',
        // Not "denied": nobody saw it (a terminal without a TTY). The model should pass on how to allow it.
        'no-approver': `no one could be asked to approve it (nothing here can prompt the user) and no allow rule matches it; ${allowHint(alwaysRules)}`,
      };
      return { allowed: false, message: why[answer.by] };
    }
    // "Always" stores one rule per simple command; a command with hazards is allowed once only.
    const stored = answer.decision === 'allow-always' && alwaysRules ? alwaysRules : [];
    for (const argv of stored) await store.addCommandRule({ workspaceUri, kind: 'allow', argv });
    await audit('command-approved', { by: 'user', ...(stored.length > 0 ? { always: true, rules: stored } : {}) });
    return { allowed: true, by: 'user' };
  }

  /** `detail` adds to the record, e.g. `{ privateCopy: true }` for a command run in the run's private copy. */
  async recordRun(command: string, cwd: string, result: ProcessResult, detail: Record<string, unknown> = {}): Promise<void> {
    const { store, runId, sessionId, workspaceUri } = this.options;
    await store.appendAudit({
      workspaceUri,
      kind: 'command-run',
      runId,
      sessionId,
      subject: command,
      detail: {
        cwd,
        exitCode: result.exitCode ?? null,
        durationMs: result.durationMs,
        ...(result.signal ? { signal: result.signal } : {}),
        ...(result.timedOut ? { timedOut: true } : {}),
        ...(result.cancelled ? { cancelled: true } : {}),
        ...(result.spawnError ? { error: result.spawnError } : {}),
        ...detail,
      },
    });
  }
}
