import type { Config } from '../config/schema.js';
import type { Keychain } from '../providers/keychain.js';
import type { Store } from '../store/store.js';
import type { TeamSync } from './team-sync.js';

/**
 * Background team sync for a long-running front-end (editor server, ACP, `codebench chat`), started
 * once its store is open. Cheap to import: pg and the sync engine load only when the user's config
 * has `sync`. Never throws: sync problems show in `codebench sync status`, not as editor errors.
 */
export async function startBackgroundSync(input: {
  store: Store;
  config: Config;
  env: NodeJS.ProcessEnv;
  keychain: () => Pick<Keychain, 'get'>;
  /** The workspaces this process serves: shared when their git identity matches `sync.share`. */
  workspaces: Array<{ uri: string; root: string }>;
  log: (message: string) => void;
}): Promise<TeamSync | undefined> {
  try {
    if (!input.config.sync) {
      // Shared under an earlier config: stop queueing for a server nobody pushes to.
      for (const workspace of input.store.sync.sharedWorkspaces()) input.store.sync.shareWorkspace(workspace.uri, undefined);
      return undefined;
    }
    const { TeamSync } = await import('./team-sync.js');
    const sync = new TeamSync({ tables: input.store.sync, config: input.config.sync, env: input.env, keychain: input.keychain() });
    for (const workspace of input.workspaces) await sync.watchWorkspace(workspace.uri, workspace.root);
    sync.start();
    return sync;
  } catch (error) {
    input.log(`team sync not started: ${(error as Error).message}`);
    return undefined;
  }
}
