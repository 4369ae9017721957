import type { ProviderConfig } from '../config/schema.js';
import type { ExternalAgentOutcome, ExternalAgentRequest } from './types.js';

/**
 * The contract between cli-agents.ts and a CLI datasource module (claude-cli.ts, codex-cli.ts),
 * apart from cli-agents.ts so the modules it loads lazily do not import it back.
 */

export type CliProviderConfig = Extract<ProviderConfig, { kind: 'claude-cli' | 'codex-cli' }>;

/** What a CLI datasource module gets for one run. */
export interface CliCall {
  providerName: string;
  config: CliProviderConfig;
  /** The user's environment; the module adds its own settings and never prints it. */
  env: NodeJS.ProcessEnv;
  request: ExternalAgentRequest;
}

export type CliRunner = (call: CliCall) => Promise<ExternalAgentOutcome>;
