import type { Config } from '../config/schema.js';
import { osKeychain } from '../providers/keychain.js';
import type { Check } from './doctor-checks.js';

/**
 * `codebench doctor`'s team-sync line: can this machine reach the team server with its role and
 * password, and does it understand the server's schema. A warning, never an error: local work
 * does not depend on it. Loaded (with pg) only when the config has `sync`.
 */
export async function checkTeamSync(config: Config | undefined, env: NodeJS.ProcessEnv): Promise<Check | undefined> {
  const sync = config?.sync;
  if (!sync) return undefined;
  const name = 'team sync';
  const [{ resolveSyncConnection }, { openTeamServer, teamServerProblem }] = await Promise.all([import('../sync/connection-settings.js'), import('../sync/team-server.js')]);
  const connection = await resolveSyncConnection(sync, env, osKeychain());
  if (!connection.ok) return { name, status: 'warning', message: connection.message, fix: 'fix "sync" in the config file' };
  try {
    const server = await openTeamServer(connection);
    await server.close();
    const shares = sync.share.length === 0 ? 'no workspace is shared ("sync.share" is empty)' : `sharing ${sync.share.join(', ')}`;
    return { name, status: 'ok', message: `${connection.display} reachable as ${connection.role} (password from ${connection.passwordFrom}); ${shares}` };
  } catch (error) {
    const message = teamServerProblem(error, connection.display);
    return { name, status: 'warning', message, fix: 'local history keeps working; `codebench sync status` shows what is waiting' };
  }
}
