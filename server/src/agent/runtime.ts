import { join } from 'node:path';
import { ConfigError, configFilePath, configFileVariable, dataDirectory, parseConfigLayer, readConfigFile, resolveConfig } from '../config/load.js';
import { builtInConfig, type Config, type ConfigFile } from '../config/schema.js';
import { createExternalAgent } from '../providers/cli-agents.js';
import { ProviderRegistry } from '../providers/registry.js';
import { Store } from '../store/store.js';
import { Agent } from './agent.js';
import { cleanStaleShadows } from './workspace/shadow-workspace.js';
import type { OpenDocuments } from './workspace/workspace-files.js';

export type ConfigLayerName = 'initializationOptions' | 'settings';

export interface RuntimeOptions {
  env: NodeJS.ProcessEnv;
  documents: OpenDocuments;
  log: (message: string) => void;
  /** A config problem the user must see; the runtime keeps the last good configuration. */
  reportConfigError: (message: string) => void;
}

const LAYER_SOURCES: Record<ConfigLayerName, string> = {
  initializationOptions: 'initializationOptions',
  settings: 'workspace/didChangeConfiguration settings.codebench',
};

/**
 * The agent with everything it runs on: configuration layers, the lazily opened store, the
 * provider registry. Every front-end (language server, terminal) builds exactly one of these.
 */
export class AgentRuntime {
  readonly agent: Agent;
  readonly configPath: string;
  readonly dataDirectory: string;
  /** Model descriptions (/api/show) and fallback cooldowns, shared by every ask of this process. */
  readonly providers: ProviderRegistry;
  private current: Config = builtInConfig;
  private readonly layers: Record<'file' | ConfigLayerName, ConfigFile> = { file: {}, initializationOptions: {}, settings: {} };
  private storePromise: Promise<Store> | undefined;
  private onExit: (() => void) | undefined;

  constructor(private readonly options: RuntimeOptions) {
    this.configPath = configFilePath(options.env);
    this.dataDirectory = dataDirectory(options.env);
    this.providers = new ProviderRegistry(options.env);
    this.reload(() => {
      this.layers.file = readConfigFile(this.configPath, configFileVariable(options.env));
    });
    this.agent = new Agent({
      store: () => this.store(),
      config: () => this.current,
      documents: options.documents,
      createModel: (name, providerConfig) => this.providers.createModel(name, providerConfig, this.current.providers),
      env: options.env,
      createExternalAgent: (name, providerConfig) => createExternalAgent(name, providerConfig, options.env),
      shadowsDirectory: join(this.dataDirectory, 'shadows'),
      log: options.log,
    });
  }

  config(): Config {
    return this.current;
  }

  /** Replaces one override layer; returns false (and reports) when it is invalid. */
  setLayer(name: ConfigLayerName, value: unknown): boolean {
    return this.reload(() => {
      this.layers[name] = parseConfigLayer(value ?? {}, LAYER_SOURCES[name]);
    });
  }

  private reload(read: () => void): boolean {
    try {
      read();
      this.current = resolveConfig([
        { source: this.configPath, config: this.layers.file },
        { source: LAYER_SOURCES.initializationOptions, config: this.layers.initializationOptions },
        { source: LAYER_SOURCES.settings, config: this.layers.settings },
      ]);
      return true;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.options.reportConfigError(error.message);
      return false;
    }
  }

  get databaseFile(): string {
    return join(this.dataDirectory, 'codebench.db');
  }

  /** Opened on first use; runs and shadows a crashed process left behind are cleaned up then. */
  store(): Promise<Store> {
    if (this.storePromise) return this.storePromise;
    const opening = Store.open(this.databaseFile).then(async (store) => {
      await store.markInterruptedRuns();
      // An editor that goes away without shutdown gets process.exit() from vscode-languageserver:
      // no async cleanup runs then, so mark our runs in the synchronous 'exit' event.
      this.onExit = () => {
        try {
          store.interruptOwnRunsSync();
        } catch {
          // Exiting anyway; the next start-up marks them.
        }
      };
      process.once('exit', this.onExit);
      // Same recovery for CLI agents' private copies of the workspace.
      await cleanStaleShadows(join(this.dataDirectory, 'shadows')).catch((error: unknown) => {
        this.options.log(`could not clean old shadow workspaces: ${(error as Error).message}`);
      });
      return store;
    });
    this.storePromise = opening;
    // A failed open is not kept: the next call tries again, after the user fixed the directory.
    opening.catch(() => {
      if (this.storePromise === opening) this.storePromise = undefined;
    });
    return opening;
  }

  /** Cancels runs, waits (bounded) for them to record their end, then closes the store. */
  async close(graceMs = 2000): Promise<void> {
    const runs = this.agent.activeRuns();
    for (const run of runs) run.cancel();
    await Promise.race([Promise.allSettled(runs.map((run) => run.done)), new Promise((resolve) => setTimeout(resolve, graceMs))]);
    const store = await this.storePromise?.catch(() => undefined);
    if (this.onExit) process.off('exit', this.onExit);
    await store?.close();
  }
}
