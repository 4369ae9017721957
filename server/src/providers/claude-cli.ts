// PLACEHOLDER from the lead; the owner of this file replaces it.
import { ProviderError } from './errors.js';
import type { CliRunner } from './external.js';

export const runClaude: CliRunner = async (call) => ({
  status: 'failed',
  text: '',
  error: new ProviderError({ kind: 'config', providerName: call.providerName, message: 'claude-cli is not implemented yet' }),
});
