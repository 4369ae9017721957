import { randomUUID } from 'node:crypto';
import type { AgentContext, RequestPermissionResponse } from '@agentclientprotocol/sdk';
import type { ApprovalDecision, Approver } from '../agent/commands/approvals.js';

/**
 * Command approval over ACP: `session/request_permission` with an `execute` tool call showing the
 * command. A cancelled request, a client error or an unknown option all mean "deny"; the agent
 * core's timeout aborts the request through `cancellationSignal`.
 */
export function acpApprover(client: AgentContext, sessionId: string): Approver {
  return {
    async approve(request, signal): Promise<ApprovalDecision> {
      const options = [
        { optionId: 'allow-once', name: 'Allow once', kind: 'allow_once' as const },
        ...(request.alwaysRules
          ? [{ optionId: 'allow-always', name: `Always allow ${request.alwaysRules.map((argv) => argv.join(' ')).join(' and ')}`, kind: 'allow_always' as const }]
          : []),
        { optionId: 'deny', name: 'Deny', kind: 'reject_once' as const },
      ];
      try {
        const response: RequestPermissionResponse = await client.request(
          'session/request_permission',
          {
            sessionId,
            toolCall: {
              toolCallId: `command-${randomUUID().slice(0, 8)}`,
              title: `Run \`${request.command}\``,
              kind: 'execute',
              status: 'pending',
              rawInput: { command: request.command, cwd: request.cwd },
              content: [{ type: 'content', content: { type: 'text', text: `${request.command}\n\nin ${request.cwd}: ${request.reason}` } }],
            },
            options,
          },
          { cancellationSignal: signal },
        );
        if (response.outcome.outcome !== 'selected' || signal.aborted) return 'deny';
        const chosen = response.outcome.optionId;
        return chosen === 'allow-once' || chosen === 'allow-always' ? chosen : 'deny';
      } catch {
        return 'deny';
      }
    },
  };
}
