import type { Store } from '../store/store.js';
import type { ModelCall } from './run/driver.js';

/**
 * Records each model call of one run in the store (`model_calls`), for `codebench usage`. One
 * write per model request, never per token; a failed write is logged and the run goes on, since
 * bookkeeping must never cost the user their answer.
 */
export function modelCallRecorder(
  store: Store,
  run: { runId: string; sessionId: string; workspaceUri: string },
  log: (message: string) => void,
): (call: ModelCall) => void {
  return (call) => {
    const failed = (error: unknown) => log(`could not record model call usage: ${(error as Error).message}`);
    try {
      store
        .recordModelCall({
          ...run,
          provider: call.provider,
          model: call.model,
          inputTokens: call.usage.inputTokens,
          outputTokens: call.usage.outputTokens,
          cachedInputTokens: call.usage.cachedInputTokens ?? 0,
          ...(call.costUsd !== undefined ? { reportedCostUsd: call.costUsd } : {}),
        })
        .catch(failed);
    } catch (error) {
      failed(error);
    }
  };
}
