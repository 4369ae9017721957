import type { ResolvedSyncConfig } from '../config/schema.js';
import type { Keychain } from '../providers/keychain.js';
import type { SyncTables } from '../store/store.js';
import { resolveSyncConnection, type SyncConnection } from './connection-settings.js';
import { pullChanges } from './pull.js';
import { pushOutbox } from './push.js';
import { openTeamServer, TeamServerSetupError, teamServerProblem, type TeamServer } from './team-server.js';
import { readWorkspaceIdentity, shareMatches } from './workspace-identity.js';

/**
 * Team sync for one data directory: push the outbox, pull teammates' records, on a timer with
 * backoff while the server is unreachable. It runs in whichever codebench process is up (editor
 * server, ACP, terminal) but one at a time per data directory (the lease in sync_state), and never
 * on an editor request's path: rounds start from timers and report only through `status()`.
 */

export interface SyncStatus {
  reachable: boolean;
  /** Local changes not yet on the server. */
  waiting: number;
  lastPushAt?: string;
  lastPullAt?: string;
  error?: string;
}

export interface SyncRound {
  /** False when another process held the lease for the whole wait. */
  ran: boolean;
  pushed: number;
  pulled: number;
  error?: string;
}

export interface TeamSyncOptions {
  tables: SyncTables;
  config: ResolvedSyncConfig;
  env: NodeJS.ProcessEnv;
  keychain: Pick<Keychain, 'get'>;
  pid?: number;
  now?: () => number;
}

/**
 * Renewed between batches and pages. Short, because a holder killed without releasing is
 * recognised by its pid being gone, and a busy machine may hand that pid to another process.
 */
const LEASE_MS = 45_000;
const FIRST_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 300_000;
const NUDGE_DELAY_MS = 1_500;
/** How often a long-running process looks for new outbox rows (one indexed lookup). */
const OUTBOX_WATCH_MS = 2_000;

export class TeamSync {
  private server: TeamServer | undefined;
  private connection: SyncConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private lastSeenSeq = 0;
  private round: Promise<SyncRound> | undefined;
  private failures = 0;
  private nudged = false;
  private stopped = false;
  private readonly pid: number;
  private readonly now: () => number;

  constructor(private readonly options: TeamSyncOptions) {
    this.pid = options.pid ?? process.pid;
    this.now = options.now ?? Date.now;
  }

  /**
   * Shares the workspace when its git identity matches a `share` glob, stops sharing it otherwise.
   * Returns the identity when shared.
   */
  async watchWorkspace(uri: string, root: string): Promise<string | undefined> {
    const identity = await readWorkspaceIdentity(root, this.options.env);
    const shared = identity !== undefined && shareMatches(identity, this.options.config.share) ? identity : undefined;
    this.options.tables.shareWorkspace(uri, shared);
    return shared;
  }

  /** Starts background rounds: one soon, then every `intervalSeconds`, backing off after failures. */
  start(): void {
    this.stopped = false;
    this.schedule(NUDGE_DELAY_MS);
    // Writes of any process on this data directory (an ask in a terminal while the editor is
    // open) show up as new outbox rows: push them soon instead of at the next interval.
    this.watcher = setInterval(() => {
      const newest = this.options.tables.newestOutboxSeq();
      if (newest > this.lastSeenSeq) {
        this.lastSeenSeq = newest;
        this.nudge();
      }
    }, OUTBOX_WATCH_MS);
    this.watcher.unref();
  }

  /** Something was written: push it soon rather than at the next interval. */
  nudge(): void {
    // While backing off, the backoff timer decides; during a round, the round's end does.
    if (this.stopped || this.failures > 0) return;
    if (this.round) this.nudged = true;
    else this.schedule(NUDGE_DELAY_MS);
  }

  /**
   * One round now: push everything, then pull. Waits up to `waitForLeaseMs` for another process's
   * round to finish. Failures are recorded in the status, not thrown.
   */
  async syncNow(waitForLeaseMs = 0): Promise<SyncRound> {
    if (this.round) return this.round;
    this.round = this.runRound(waitForLeaseMs).finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** What the last rounds (of any process) left in the store, and the queue's size now. */
  status(): SyncStatus {
    const state = this.options.tables.state();
    return {
      reachable: state['last.reachable'] === 'true',
      waiting: this.options.tables.outboxSize(),
      ...(state['last.pushAt'] ? { lastPushAt: state['last.pushAt'] } : {}),
      ...(state['last.pullAt'] ? { lastPullAt: state['last.pullAt'] } : {}),
      ...(state['last.error'] ? { error: state['last.error'] } : {}),
    };
  }

  /** Checks the server now (connect, schema) without syncing, and records the answer. */
  async probe(): Promise<SyncStatus> {
    try {
      await this.open();
      this.options.tables.setState({ 'last.reachable': 'true', 'last.error': undefined });
    } catch (error) {
      this.fail(error);
    }
    return this.status();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watcher) clearInterval(this.watcher);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.round?.catch(() => undefined);
    await this.closeServer();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.syncNow().then((round) => {
        const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(this.failures - 1, 0), MAX_BACKOFF_MS);
        const next = round.error ? backoff : this.nudged ? NUDGE_DELAY_MS : this.options.config.intervalSeconds * 1000;
        this.nudged = false;
        this.schedule(next);
      }, () => undefined);
    }, delayMs);
    // Sync never keeps a process alive: a terminal command ends when its work does.
    this.timer.unref();
  }

  private async claimLease(waitMs: number): Promise<boolean> {
    const deadline = this.now() + waitMs;
    for (;;) {
      if (this.options.tables.claimLease(this.pid, this.now(), LEASE_MS)) return true;
      if (this.now() >= deadline || this.stopped) return false;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async runRound(waitForLeaseMs: number): Promise<SyncRound> {
    if (!(await this.claimLease(waitForLeaseMs))) return { ran: false, pushed: 0, pulled: 0 };
    const tables = this.options.tables;
    try {
      const server = await this.open();
      const pushed = await pushOutbox(server.db, tables, () => {
        // Renew between batches: a long first push must not let another process start its own.
        tables.claimLease(this.pid, this.now(), LEASE_MS);
        return this.stopped;
      });
      const at = new Date(this.now()).toISOString();
      tables.setState({ 'last.pushAt': at, 'last.reachable': 'true', 'last.error': undefined });
      tables.claimLease(this.pid, this.now(), LEASE_MS);
      const pulled = await pullChanges(server.db, tables, (workspace) => shareMatches(workspace, this.options.config.share));
      tables.setState({ 'last.pullAt': new Date(this.now()).toISOString() });
      this.failures = 0;
      return { ran: true, pushed, pulled };
    } catch (error) {
      return { ran: true, pushed: 0, pulled: 0, error: this.fail(error) };
    } finally {
      try {
        tables.releaseLease(this.pid);
      } catch {
        // The store closed under us (shutdown): the lease runs out on its own.
      }
    }
  }

  private async open(): Promise<TeamServer> {
    if (this.server) return this.server;
    if (!this.connection) {
      const resolved = await resolveSyncConnection(this.options.config, this.options.env, this.options.keychain);
      if (!resolved.ok) throw new TeamServerSetupError(resolved.message);
      this.connection = resolved;
    }
    this.server = await openTeamServer(this.connection);
    return this.server;
  }

  private fail(error: unknown): string {
    this.failures += 1;
    const message = teamServerProblem(error, this.connection?.display ?? 'the team server');
    this.options.tables.setState({ 'last.reachable': 'false', 'last.error': message, 'last.errorAt': new Date(this.now()).toISOString() });
    // Drop the connection and the resolved password: the next round starts clean (a password
    // fixed in the keychain meanwhile is picked up).
    this.connection = undefined;
    void this.closeServer();
    return message;
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close().catch(() => undefined);
  }
}
