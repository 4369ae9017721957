import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../server/src/config/load.js';
import { isBuiltInLocalProvider } from '../../server/src/providers/default-local.js';

// "No config at all" is recognised by the built-in provider object itself (registry.ts then tries
// Ollama, else a pulled model in process). A config that merely looks the same is the user's own
// choice of Ollama and must never be swapped for the embedded runtime behind their back.
describe('the no-config default provider', () => {
  it('is the built-in provider object when no layer names a provider', () => {
    const config = resolveConfig([{ source: 'defaults', config: {} }, { source: 'initializationOptions', config: { maxSteps: 5 } }]);
    expect(isBuiltInLocalProvider(config.providers[config.defaultProvider]!)).toBe(true);
  });

  it('is not a provider the user wrote, even one identical to the default', () => {
    const written = { kind: 'ollama' as const, model: 'qwen2.5-coder:7b', baseURL: 'http://127.0.0.1:11434' };
    const config = resolveConfig([{ source: '/home/u/.config/codebench/config.json', config: { providers: { local: written } } }]);
    expect(config.providers.local).toEqual(written);
    expect(isBuiltInLocalProvider(config.providers.local!)).toBe(false);
  });
});
