import type { RunEvent } from '../agent/events.js';
import type { RunEvent as WireRunEvent } from '../protocol/methods.js';

/**
 * The core's run event as `codebench/runEvents` sends it. Field by field on purpose: a field added
 * to the core's event reaches clients only when it is added to the protocol (and protocol.md) too.
 */
export function toWireRunEvent(event: RunEvent): WireRunEvent {
  switch (event.type) {
    case 'text':
      return { type: 'text', text: event.text };
    case 'tool-started':
      return { type: 'tool-started', callId: event.callId, name: event.name, activity: event.activity };
    case 'tool-finished':
      return { type: 'tool-finished', callId: event.callId, name: event.name, activity: event.activity, isError: event.isError };
    case 'notice':
      return { type: 'notice', message: event.message };
    case 'proposal':
      return {
        type: 'proposal',
        proposalId: event.proposalId,
        summary: event.summary,
        files: event.files,
        ...(event.evidence ? { evidence: event.evidence.map(({ command, exitCode }) => ({ command, exitCode })) } : {}),
      };
    case 'finished':
      return { type: 'finished', status: event.status, summary: event.summary, ...(event.error !== undefined ? { error: event.error } : {}) };
  }
}
