import type { Command } from 'commander';
import { ruleWords } from '../agent/commands/policy.js';
import type { AuditRecord } from '../store/store.js';
import { CliError, type CliContext } from './context.js';
import { positiveInteger, type Register } from './subcommand.js';
import { visible } from './terminal-text.js';

/**
 * `codebench policy list|allow|deny|remove`: the run_command policy of this workspace (the git
 * root or cwd, the same URI an editor uses for that folder). Words are literal; a trailing `*`
 * allows further arguments: `codebench policy allow npm test '*'`.
 */
export const registerPolicy: Register = (program, context) => {
  const policy = program.command('policy').description('commands the agent may run without asking (default: list)');
  policy
    .command('list', { isDefault: true })
    .description('list the allow and deny rules of this workspace')
    .option('--json', 'print the rules as JSON')
    .action(async (options: { json?: boolean }) => {
      const rules = await (await context.runtime().store()).listCommandRules(context.workspaceUri());
      if (options.json) return void context.io.stdout.write(`${JSON.stringify(rules, null, 2)}\n`);
      if (rules.length === 0) {
        context.io.stderr.write(`No rules for ${context.workspaceRoot()}: every command is asked about. Add one with: codebench policy allow npm test\n`);
        return;
      }
      for (const rule of rules) context.io.stdout.write(`${String(rule.id).padStart(4)}  ${rule.kind.padEnd(5)}  ${visible(rule.argv.join(' '))}\n`);
    });
  for (const kind of ['allow', 'deny'] as const) {
    policy
      .command(kind)
      .description(kind === 'allow' ? 'run this command without asking (a trailing * allows more arguments)' : 'never run this command (matches its program and leading words)')
      .argument('<words...>', 'the command, word by word')
      .action(async (words: string[]) => {
        const argv = ruleWords(words);
        if (argv.length === 0 || argv[0] === '*') throw new CliError('give the command to ' + kind + ', e.g. npm test', 2);
        if (argv.slice(0, -1).includes('*')) throw new CliError('"*" may only be the last word', 2);
        const rule = await (await context.runtime().store()).addCommandRule({ workspaceUri: context.workspaceUri(), kind, argv });
        context.io.stdout.write(`${rule.id}  ${rule.kind}  ${visible(rule.argv.join(' '))}\n`);
      });
  }
  policy
    .command('remove')
    .description('remove a rule by the id `policy list` shows')
    .argument('<id>', 'rule id', positiveInteger)
    .action(async (id: number) => {
      const removed = await (await context.runtime().store()).removeCommandRule(context.workspaceUri(), id);
      if (!removed) throw new CliError(`no rule ${id} in this workspace (see: codebench policy list)`);
    });
};

/** `codebench history audit`: every command asked, approved, denied and run, and every applied proposal. */
export function registerAudit(history: Command, context: CliContext): void {
  history
    .command('audit')
    .description('the audit log of this workspace: commands asked, approved, denied and run; proposals applied')
    .option('-a, --all', 'every workspace')
    .option('-n, --limit <n>', 'at most N entries (default 100)', positiveInteger)
    .option('--json', 'print the entries as JSON')
    .action(async (options: { all?: boolean; limit?: number; json?: boolean }) => {
      const store = await context.runtime().store();
      const entries = await store.listAudit({ workspaceUri: options.all ? undefined : context.workspaceUri(), limit: options.limit });
      if (options.json) return void context.io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      if (entries.length === 0) return void context.io.stderr.write('The audit log is empty for this workspace (--all shows every workspace).\n');
      // Oldest first reads like a story; the query is newest-first so the limit keeps the recent ones.
      // Audit subjects are commands the model wrote: shown, never obeyed by the terminal.
      for (const entry of [...entries].reverse()) context.io.stdout.write(`${visible(formatEntry(entry, options.all === true))}\n`);
    });
}

function formatEntry(entry: AuditRecord, withWorkspace: boolean): string {
  const detail = entry.detail;
  const facts: string[] = [];
  if (detail.by !== undefined) facts.push(`by ${String(detail.by)}`);
  if (detail.always) facts.push('always');
  if (detail.exitCode !== undefined) facts.push(`exit ${detail.exitCode === null ? '-' : String(detail.exitCode)}`);
  if (detail.durationMs !== undefined) facts.push(`${(Number(detail.durationMs) / 1000).toFixed(1)} s`);
  if (detail.timedOut) facts.push('timed out');
  if (detail.cancelled) facts.push('cancelled');
  if (detail.reason !== undefined) facts.push(String(detail.reason));
  const where = withWorkspace ? `  ${entry.workspaceUri}` : '';
  return `${entry.at}  ${entry.kind.padEnd(16)}  ${entry.subject}${facts.length > 0 ? `  (${facts.join(', ')})` : ''}${where}`;
}
