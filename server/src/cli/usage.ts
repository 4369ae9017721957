import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_USAGE_SINCE, parseSince, usageReport, USAGE_GROUPINGS, type UsageGroupingKind } from '../agent/usage-report.js';
import { CliError, type CliContext } from './context.js';
import { localTime } from './history.js';
import { colorsFor } from './render.js';
import type { Register } from './subcommand.js';
import { terminalSafeJson } from './terminal-text.js';
import { renderUsageChart, renderUsageTable } from './usage-chart.js';

/** Checked while parsing, so a bad value is a usage mistake (one line, status 2) before the store opens. */
function sinceValue(value: string): string {
  const parsed = parseSince(value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.message);
  return value;
}

export const registerUsage: Register = (program, context) => {
  program
    .command('usage')
    .description('tokens and cost of the model calls, as a table and a bar chart (per UTC day by default)')
    .option('--since <when>', `how far back: 7d, 24h, 90m or an ISO-8601 date (default ${DEFAULT_USAGE_SINCE})`, sinceValue)
    .addOption(new Option('--by <grouping>', 'group by provider, model, UTC day or session').choices(USAGE_GROUPINGS).default('day'))
    .option('--json', 'print { rows, totals } as JSON (cost unrounded)')
    .action((options: { since?: string; by: UsageGroupingKind; json?: boolean }) => showUsage(context, options));
};

async function showUsage(context: CliContext, options: { since?: string; by: UsageGroupingKind; json?: boolean }): Promise<void> {
  const runtime = context.runtime();
  const answer = await usageReport(await runtime.store(), runtime.config().providers, { since: options.since, by: options.by });
  if (!answer.ok) throw new CliError(`--${answer.field}: ${answer.message}`, 2);
  const { report } = answer;
  if (options.json) {
    context.io.stdout.write(terminalSafeJson(`${JSON.stringify(report, null, 2)}\n`));
    return;
  }
  if (report.rows.length === 0) {
    const since = parseSince(options.since);
    context.io.stderr.write(`No model calls recorded since ${since.ok ? localTime(since.since) : options.since}.\n`);
    return;
  }
  // Colours only on a terminal (and never with NO_COLOR): piped output is plain text.
  const colors = colorsFor(context.io.stdout, context.env);
  context.io.stdout.write(`${renderUsageTable(report, options.by, colors)}\n${renderUsageChart(report, options.by, colors)}`);
}
