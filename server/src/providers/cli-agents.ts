import type { ProviderConfig } from '../config/schema.js';
import { ProviderError } from './errors.js';
import type { CliProviderConfig, CliRunner } from './cli-call.js';
import type { ExternalAgent } from './types.js';


/** Each CLI module is imported on first use, like the SDKs. */
const runners: Record<CliProviderConfig['kind'], () => Promise<CliRunner>> = {
  'claude-cli': async () => (await import('./claude-cli.js')).runClaude,
  'codex-cli': async () => (await import('./codex-cli.js')).runCodex,
};

export function createExternalAgent(name: string, config: ProviderConfig, env: NodeJS.ProcessEnv): ExternalAgent {
  if (config.kind !== 'claude-cli' && config.kind !== 'codex-cli') {
    throw new ProviderError({ kind: 'config', providerName: name, message: `${name} (${config.kind}) is not a CLI datasource` });
  }
  return {
    providerName: name,
    kind: config.kind,
    model: config.model ?? 'default',
    run: async (request) => (await runners[config.kind]())({ providerName: name, config, env, request }),
  };
}
