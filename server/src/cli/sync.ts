import { osKeychain } from '../providers/keychain.js';
import type { Store } from '../store/store.js';
import { CliError, type CliContext } from './context.js';
import type { Register } from './subcommand.js';
import { terminalSafeJson, visible } from './terminal-text.js';

/**
 * `codebench sync now|status|init-server`: team history on the team's own PostgreSQL
 * (server/src/sync). The sync modules load only here, when a sync command runs: pg is not part of
 * any other command's start-up.
 */

/** How long `sync now` waits for an editor's round on the same data directory to finish. */
const LEASE_WAIT_MS = 30_000;

async function teamSyncOf(context: CliContext): Promise<{ store: Store; sync: import('../sync/team-sync.js').TeamSync }> {
  const runtime = context.runtime();
  const config = runtime.config();
  if (!config.sync) {
    throw new CliError(`team sync is not configured: add "sync": { "url": "postgres://ROLE@HOST/DB", "share": ["github.com/ORG/*"] } to ${runtime.configPath}`);
  }
  const store = await runtime.store();
  const { TeamSync } = await import('../sync/team-sync.js');
  const sync = new TeamSync({ tables: store.sync, config: config.sync, env: context.env, keychain: osKeychain() });
  await sync.watchWorkspace(context.workspaceUri(), context.workspaceRoot());
  return { store, sync };
}

export const registerSync: Register = (program, context) => {
  const sync = program.command('sync').description("share this workspace's history with your team's PostgreSQL (config key \"sync\")");
  sync
    .command('now')
    .description('push what is waiting and pull teammates\' sessions, now')
    .action(async () => {
      const { sync: team } = await teamSyncOf(context);
      try {
        const round = await team.syncNow(LEASE_WAIT_MS);
        if (!round.ran) throw new CliError('another codebench is syncing this data directory; try again in a moment');
        if (round.error) throw new CliError(round.error);
        const waiting = team.status().waiting;
        context.io.stdout.write(`pushed ${round.pushed}, pulled ${round.pulled}${waiting > 0 ? `, ${waiting} still waiting` : ''}\n`);
      } finally {
        await team.stop();
      }
    });
  sync
    .command('status')
    .description('is the team server reachable, how much is waiting, when did sync last run')
    .option('--json', 'print { reachable, waiting, lastPushAt, lastPullAt, error? }')
    .action(async (options: { json?: boolean }) => {
      const { sync: team } = await teamSyncOf(context);
      try {
        const status = await team.probe();
        if (options.json) {
          context.io.stdout.write(terminalSafeJson(`${JSON.stringify(status)}\n`));
          return;
        }
        const lines = [
          `server:    ${status.reachable ? 'reachable' : 'unreachable'}`,
          `waiting:   ${status.waiting}`,
          `last push: ${status.lastPushAt ?? 'never'}`,
          `last pull: ${status.lastPullAt ?? 'never'}`,
          ...(status.error ? [`error:     ${visible(status.error)}`] : []),
        ];
        context.io.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await team.stop();
      }
    });
  sync
    .command('init-server')
    .description('print the SQL that sets up (or upgrades) the team server, or run it with --superuser-url')
    .option('--superuser-url <url>', 'run the SQL on this server as a role that may create schemas and roles')
    .option('--member <name...>', 'create (or grant) a member role for each NAME')
    .action(async (options: { superuserUrl?: string; member?: string[] }) => {
      const members = options.member ?? [];
      const { initServerSql, MemberNameError } = await import('../sync/server-schema.js');
      if (options.superuserUrl === undefined) {
        try {
          context.io.stdout.write(initServerSql(members));
        } catch (error) {
          if (error instanceof MemberNameError) throw new CliError(error.message, 2);
          throw error;
        }
        return;
      }
      const { runInitServer, InitServerError } = await import('../sync/init-server.js');
      try {
        const result = await runInitServer(options.superuserUrl, members);
        context.io.stdout.write(
          `schema: ${result.applied.length > 0 ? `applied ${result.applied.join(', ')}` : 'up to date'}\n` +
            (result.members.length > 0 ? `members: ${result.members.join(', ')} (a new role needs a password: ALTER ROLE name PASSWORD '…', or \\password name in psql)\n` : ''),
        );
      } catch (error) {
        if (error instanceof InitServerError) throw new CliError(error.message);
        throw error;
      }
    });
};
