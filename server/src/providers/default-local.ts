import { builtInConfig, type ProviderConfig } from '../config/schema.js';
import { ProviderError } from './errors.js';
import { createLlamaCppModel } from './llama-cpp.js';
import type { LlamaRuntime } from './llama-runtime.js';
import { listModels, SUGGESTED_MODEL } from './model-files.js';
import type { FallbackAnswer, LanguageModel, ModelCapabilities, ModelRequest, ProviderKind, StreamPart } from './types.js';

/**
 * The model when the user configured none: Ollama when it answers; otherwise a pulled GGUF run in
 * process (llama-cpp); otherwise one message offering both. Decided on the first turn of each ask,
 * so starting Ollama or pulling a model takes effect without a restart.
 */

/** The built-in default provider object itself (config/load.ts copies it by reference), not a look-alike the user wrote. */
export function isBuiltInLocalProvider(config: ProviderConfig): boolean {
  return config === builtInConfig.providers.local;
}

const PROBE_TIMEOUT_MS = 1500;

type Choice = { model: LanguageModel; skipped?: string } | { error: ProviderError };

export class DefaultLocalModel implements LanguageModel {
  private choice?: Promise<Choice>;
  private chosen?: { model: LanguageModel; skipped?: string };

  constructor(
    readonly providerName: string,
    private readonly config: ProviderConfig,
    private readonly env: NodeJS.ProcessEnv,
    private readonly create: (name: string, config: ProviderConfig) => LanguageModel,
    private readonly runtime: LlamaRuntime,
  ) {}

  get kind(): ProviderKind {
    return this.chosen?.model.kind ?? this.config.kind;
  }

  get model(): string {
    return this.chosen?.model.model ?? this.config.model ?? this.config.kind;
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const choice = await (this.choice ??= this.choose());
    if ('error' in choice) {
      this.choice = undefined;
      yield { type: 'error', error: choice.error };
      return;
    }
    yield* choice.model.stream(request, signal);
  }

  async capabilities(): Promise<ModelCapabilities> {
    const choice = await (this.choice ??= this.choose());
    return 'error' in choice ? {} : ((await choice.model.capabilities?.()) ?? {});
  }

  answeredBy(): FallbackAnswer | undefined {
    if (!this.chosen?.skipped) return undefined;
    return { providerName: this.providerName, model: this.chosen.model.model, skipped: [this.chosen.skipped] };
  }

  private async choose(): Promise<Choice> {
    const baseURL = (this.config.baseURL ?? 'http://127.0.0.1:11434').replace(/\/+$/, '');
    const why = await fetch(`${baseURL}/api/tags`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).then(
      (response) => (response.ok ? undefined : `answered HTTP ${response.status}`),
      (error: unknown) => ((error as Error).name === 'TimeoutError' ? 'did not answer' : 'is not running'),
    );
    if (why === undefined) return this.remember({ model: this.create(this.providerName, this.config) });
    const models = await listModels(this.env);
    const pick = models.find((model) => model.name === SUGGESTED_MODEL) ?? models[0];
    if (pick) {
      const model = createLlamaCppModel(this.providerName, { kind: 'llama-cpp', model: pick.name }, this.env, this.runtime);
      return this.remember({ model, skipped: `Ollama at ${baseURL} ${why}; using the pulled model ${pick.name} in process` });
    }
    const message =
      `No model to run: Ollama at ${baseURL} ${why}, and no model is pulled. Either start Ollama (\`ollama serve\`, then \`ollama pull ${this.config.model}\`) ` +
      `or download a model to run inside codebench (\`codebench models pull ${SUGGESTED_MODEL}\`).`;
    return { error: new ProviderError({ kind: 'unavailable', providerName: this.providerName, message, reason: 'no local model', retryable: false }) };
  }

  private remember(choice: { model: LanguageModel; skipped?: string }): Choice {
    this.chosen = choice;
    return choice;
  }
}
