import type { CliContext } from './context.js';
import { colorsFor } from './render.js';
import { terminalSafeJson, visible } from './terminal-text.js';

/**
 * `codebench history list --team`: teammates' sessions of this workspace as last pulled by team
 * sync (`codebench sync now`), each with its author (their database role). Read-only copies.
 */
export async function listTeamSessions(context: CliContext, options: { all?: boolean; limit?: number; json?: boolean }): Promise<void> {
  const store = await context.runtime().store();
  const uri = context.workspaceUri();
  const { teamIdentityOf } = await import('../sync/workspace-identity.js');
  const workspace = options.all ? undefined : await teamIdentityOf(store.sync.sharedWorkspaces(), uri, context.env);
  const sessions = options.all || workspace !== undefined ? store.sync.teamSessions({ workspace, limit: options.limit }) : [];
  if (options.json) {
    context.io.stdout.write(terminalSafeJson(`${JSON.stringify(sessions, null, 2)}\n`));
    return;
  }
  if (sessions.length === 0) {
    const why = workspace === undefined && !options.all
      ? 'this workspace has no git remote "origin", so it has no team identity'
      : `no teammate's session of ${workspace ?? 'any workspace'} has been pulled yet (codebench sync now)`;
    context.io.stderr.write(`No team history: ${why}\n`);
    return;
  }
  const colors = colorsFor(context.io.stdout, context.env);
  const rows = sessions.map((session) => [
    session.id.slice(0, 8),
    visible(session.author),
    new Date(session.updatedAt).toLocaleString(),
    String(session.messageCount),
    visible(session.title.replace(/\s+/g, ' ').trim()),
  ]);
  const header = ['ID', 'AUTHOR', 'UPDATED', 'MSGS', 'TITLE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => (column === 4 ? cell : column === 3 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ');
  context.io.stdout.write(`${[colors.dim(format(header)), ...rows.map(format)].join('\n')}\n`);
}

