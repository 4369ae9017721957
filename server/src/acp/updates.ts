import type { SessionUpdate, ToolKind } from '@agentclientprotocol/sdk';
import type { RunEvent } from '../agent/events.js';
import { describeEvidence, withEvidence } from '../agent/proposals/evidence.js';
import type { Proposal } from '../agent/proposals/proposal.js';
import type { TranscriptEntry } from '../agent/history/transcript.js';

const KINDS: Record<string, ToolKind> = {
  read_file: 'read',
  list_files: 'search',
  grep: 'search',
  edit_file: 'edit',
  write_file: 'edit',
};

export function toolKind(name: string): ToolKind {
  if (KINDS[name]) return KINDS[name];
  if (/bash|shell|command|exec/i.test(name)) return 'execute';
  if (/edit|write|patch/i.test(name)) return 'edit';
  if (/read/i.test(name)) return 'read';
  if (/grep|glob|search|find|ls/i.test(name)) return 'search';
  return 'other';
}

/** A run event as the agent panel shows it; undefined for events it has no place for. */
export function updateForEvent(event: RunEvent): SessionUpdate | undefined {
  switch (event.type) {
    case 'text':
      return { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: event.text } };
    case 'tool-started':
      return { sessionUpdate: 'tool_call', toolCallId: event.callId, title: event.activity, kind: toolKind(event.name), status: 'in_progress' };
    case 'tool-finished':
      return { sessionUpdate: 'tool_call_update', toolCallId: event.callId, status: event.isError ? 'failed' : 'completed' };
    case 'notice':
      // Retries and waits: worth seeing, not part of the answer.
      return { sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: `${event.message}\n` } };
    case 'proposal':
    case 'finished':
      return undefined;
  }
}

export function proposalToolCallId(proposal: Proposal): string {
  return `proposal-${proposal.id}`;
}

/**
 * The proposal as one pending edit tool call with a diff per file, as Zed renders edits; the title
 * (what the permission request shows) and a first line say what commands proved after the last edit.
 */
export function proposalToolCall(proposal: Proposal): SessionUpdate {
  const checked = describeEvidence(proposal.evidence);
  return {
    sessionUpdate: 'tool_call',
    toolCallId: proposalToolCallId(proposal),
    title: `Edit ${withEvidence(proposal.summary, proposal.evidence)}`,
    kind: 'edit',
    status: 'pending',
    content: [
      ...(checked === undefined ? [] : [{ type: 'content' as const, content: { type: 'text' as const, text: `Checked: ${checked}.` } }]),
      ...proposal.files.map((file) => ({
        type: 'diff' as const,
        path: file.absolutePath,
        oldText: file.base?.text ?? null,
        newText: file.proposedText,
      })),
    ],
    locations: proposal.files.map((file) => ({ path: file.absolutePath })),
  };
}

/** A stored session replayed for `session/load`: the conversation, tool calls and proposals. */
export function replayUpdates(timeline: TranscriptEntry[]): SessionUpdate[] {
  const updates: SessionUpdate[] = [];
  for (const entry of timeline) {
    switch (entry.kind) {
      case 'message':
        if (entry.message.role === 'user') updates.push({ sessionUpdate: 'user_message_chunk', content: { type: 'text', text: entry.message.content } });
        else if (entry.message.role === 'assistant') updates.push({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: entry.message.content } });
        break;
      case 'tool-call':
        updates.push({
          sessionUpdate: 'tool_call',
          toolCallId: `${entry.call.runId}-${entry.call.callId}`,
          title: entry.call.name,
          kind: toolKind(entry.call.name),
          status: entry.call.isError ? 'failed' : 'completed',
          rawInput: entry.call.args,
        });
        break;
      case 'proposal':
        updates.push({
          sessionUpdate: 'tool_call',
          toolCallId: `proposal-${entry.proposal.id}`,
          title: `Edit ${withEvidence(entry.proposal.summary, entry.proposal.evidence)} (${entry.proposal.status})`,
          kind: 'edit',
          // The editor said it wrote an `unconfirmed` one: completed, with the doubt in the title.
          status: entry.proposal.status === 'applied' || entry.proposal.status === 'unconfirmed' ? 'completed' : 'failed',
          content: [{ type: 'content', content: { type: 'text', text: `\`\`\`diff\n${entry.proposal.diff}\`\`\`` } }],
        });
        break;
      case 'run':
        break;
    }
  }
  return updates;
}
