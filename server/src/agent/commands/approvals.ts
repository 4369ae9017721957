/**
 * How a front-end asks its user whether a command may run. The LSP server, the ACP agent and the
 * terminal client each supply an Approver; the agent core only sees this interface. Approval
 * never comes from the model or from tool output: only a user's answer or a stored rule counts.
 */

export type ApprovalDecision = 'allow-once' | 'allow-always' | 'deny';

export interface ApprovalRequest {
  runId: string;
  sessionId: string;
  workspaceUri: string;
  /** The exact command text that will run if allowed. */
  command: string;
  /** Absolute working directory. */
  cwd: string;
  /** Why the policy asks (e.g. "no allow rule matches `curl`"), for the prompt. */
  reason: string;
  /** What "Always allow" would store: one argv per simple command. Absent when it cannot be stored (hazards). */
  alwaysRules?: string[][];
}

/**
 * A front-end that cannot ask (a terminal without a TTY) supplies none: then nothing runs unless a
 * rule allows it, and the refusal says no one could be asked rather than that the user said no.
 */
export interface Approver {
  /** Must resolve 'deny' (never hang) when the user does not answer; `signal` aborts with the run. */
  approve(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision>;
}

/**
 * Runs an approver with a deadline and cancellation: whichever comes first of the user's answer,
 * the timeout or the run's cancellation decides, and the latter two mean 'deny'. An approver that
 * throws also means 'deny' (fail closed).
 */
export async function askWithTimeout(
  approver: Approver | undefined,
  request: ApprovalRequest,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ decision: ApprovalDecision; by: 'user' | 'timeout' | 'cancelled' | 'no-approver' }> {
  if (approver === undefined) return { decision: 'deny', by: 'no-approver' };
  if (signal.aborted) return { decision: 'deny', by: 'cancelled' };
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = approver.approve(request, controller.signal).then(
      (decision) => ({ decision: normalize(decision), by: 'user' as const }),
      () => ({ decision: 'deny' as const, by: 'user' as const }),
    );
    const deadline = new Promise<{ decision: 'deny'; by: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ decision: 'deny', by: 'timeout' }), timeoutMs);
    });
    const cancelled = new Promise<{ decision: 'deny'; by: 'cancelled' }>((resolve) => {
      controller.signal.addEventListener('abort', () => resolve({ decision: 'deny', by: 'cancelled' }), { once: true });
    });
    return await Promise.race([answer, deadline, cancelled]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    // Tell the front-end to withdraw its prompt (Helix code actions, a pending showMessageRequest).
    controller.abort();
  }
}

function normalize(decision: unknown): ApprovalDecision {
  return decision === 'allow-once' || decision === 'allow-always' ? decision : 'deny';
}
