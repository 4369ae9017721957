import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  PROTOCOL_VERSION,
  RequestError,
  type AgentContext,
  type ClientCapabilities,
  type ContentBlock,
  type InitializeRequest,
  type InitializeResponse,
  type ListSessionsRequest,
  type ListSessionsResponse,
  type LoadSessionRequest,
  type LoadSessionResponse,
  type NewSessionRequest,
  type NewSessionResponse,
  type PromptRequest,
  type PromptResponse,
  type SessionModeState,
  type SessionUpdate,
  type SetSessionModeRequest,
} from '@agentclientprotocol/sdk';
import { acpApprover } from './approvals.js';
import { applyProposal, diskAccess, type FileAccess } from '../agent/proposals/apply-without-editor.js';
import { undoLatest } from '../agent/proposals/undo.js';
import type { RunHandle } from '../agent/agent.js';
import { AskError } from '../agent/agent.js';
import type { Proposal } from '../agent/proposals/proposal.js';
import type { AgentRuntime } from '../agent/runtime.js';
import { sendUsageUpdate } from './usage-update.js';
import { loadTranscript, transcriptTimeline } from '../agent/history/transcript.js';
import { isInside } from '../agent/workspace/workspace-files.js';
import { proposalToolCall, proposalToolCallId, replayUpdates, updateForEvent } from './updates.js';

type Mode = 'ask' | 'auto';

interface AcpSession {
  id: string;
  cwd: string;
  mode: Mode;
  titled: boolean;
  run?: RunHandle;
  /** Aborts a pending permission request when the turn is cancelled. */
  pending?: AbortController;
  cancelled: boolean;
}

const UNTITLED = 'New session';

function modes(current: Mode): SessionModeState {
  return {
    currentModeId: current,
    availableModes: [
      { id: 'ask', name: 'Ask', description: 'Show each proposed edit and ask before writing it' },
      { id: 'auto', name: 'Auto-apply', description: 'Write proposed edits without asking' },
    ],
  };
}

/** The prompt's content blocks as one instruction: text as is, @-mentions and embedded files as context. */
export function instructionOf(prompt: ContentBlock[]): string {
  const parts: string[] = [];
  for (const block of prompt) {
    if (block.type === 'text') parts.push(block.text);
    else if (block.type === 'resource_link') parts.push(`(see ${block.uri.startsWith('file:') ? fileURLToPath(block.uri) : block.uri})`);
    else if (block.type === 'resource' && 'text' in block.resource) parts.push(`Contents of ${block.resource.uri}:\n\`\`\`\n${block.resource.text}\n\`\`\``);
  }
  return parts.join('\n').trim();
}

/**
 * The Agent Client Protocol front-end: Zed's agent panel (and JetBrains, CodeCompanion, avante,
 * agent-shell) driving the same agent core, providers and store as `codebench lsp`.
 */
export class CodebenchAcpAgent {
  private capabilities: ClientCapabilities = {};
  private readonly sessions = new Map<string, AcpSession>();
  /** The connection's client, for reading unsaved buffers during a turn. */
  private client: AgentContext | undefined;

  constructor(
    private readonly runtime: AgentRuntime,
    private readonly version: string,
  ) {}

  /** Unsaved editor text through fs/read_text_file, for the files the agent reads or edits. */
  async readFromClient(absolutePath: string): Promise<{ text: string; version: null } | undefined> {
    if (!this.client || !this.capabilities.fs?.readTextFile) return undefined;
    const session = [...this.sessions.values()].find((candidate) => candidate.run && isInside(candidate.cwd, absolutePath));
    if (!session) return undefined;
    try {
      const { content } = await this.client.request('fs/read_text_file', { sessionId: session.id, path: absolutePath });
      return { text: content, version: null };
    } catch {
      // Missing file or a client that refuses: the disk answers instead.
      return undefined;
    }
  }

  initialize(params: InitializeRequest, client: AgentContext): InitializeResponse {
    this.capabilities = params.clientCapabilities ?? {};
    this.client = client;
    return {
      protocolVersion: PROTOCOL_VERSION,
      agentCapabilities: {
        loadSession: true,
        promptCapabilities: { embeddedContext: true },
        sessionCapabilities: { list: {} },
      },
      agentInfo: { name: 'codebench', title: 'codebench', version: this.version },
      authMethods: [],
    };
  }

  private session(id: string): AcpSession {
    const session = this.sessions.get(id);
    if (!session) throw RequestError.invalidParams({ sessionId: id }, `unknown session "${id}"; use session/new or session/load`);
    return session;
  }

  async newSession(params: NewSessionRequest): Promise<NewSessionResponse> {
    if (!isAbsolute(params.cwd)) throw RequestError.invalidParams({ cwd: params.cwd }, 'cwd must be an absolute path');
    const store = await this.runtime.store();
    const config = this.runtime.config();
    const record = await store.createSession({ workspaceUri: pathToFileURL(params.cwd).href, title: UNTITLED, provider: config.defaultProvider });
    this.sessions.set(record.id, { id: record.id, cwd: params.cwd, mode: config.review === 'auto' ? 'auto' : 'ask', titled: false, cancelled: false });
    return { sessionId: record.id, modes: modes(this.sessions.get(record.id)!.mode) };
  }

  async loadSession(params: LoadSessionRequest, client: AgentContext): Promise<LoadSessionResponse> {
    const store = await this.runtime.store();
    const transcript = await loadTranscript(store, params.sessionId);
    if (!transcript) throw RequestError.invalidParams({ sessionId: params.sessionId }, `no stored session "${params.sessionId}"`);
    const mode: Mode = this.runtime.config().review === 'auto' ? 'auto' : 'ask';
    this.sessions.set(params.sessionId, { id: params.sessionId, cwd: params.cwd, mode, titled: true, cancelled: false });
    for (const update of replayUpdates(transcriptTimeline(transcript))) {
      await client.notify('session/update', { sessionId: params.sessionId, update });
    }
    return { modes: modes(mode) };
  }

  async listSessions(params: ListSessionsRequest): Promise<ListSessionsResponse> {
    const store = await this.runtime.store();
    const records = await store.listSessions({ workspaceUri: params.cwd ? pathToFileURL(params.cwd).href : undefined, limit: 200 });
    return {
      sessions: records.map((record) => ({
        sessionId: record.id,
        cwd: record.workspaceUri.startsWith('file:') ? fileURLToPath(record.workspaceUri) : record.workspaceUri,
        title: record.title,
        updatedAt: record.updatedAt,
      })),
    };
  }

  setMode(params: SetSessionModeRequest): void {
    const session = this.session(params.sessionId);
    if (params.modeId !== 'ask' && params.modeId !== 'auto') {
      throw RequestError.invalidParams({ modeId: params.modeId }, 'modeId must be "ask" or "auto"');
    }
    session.mode = params.modeId;
  }

  cancel(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    session.cancelled = true;
    session.run?.cancel();
    session.pending?.abort();
  }

  async prompt(params: PromptRequest, client: AgentContext): Promise<PromptResponse> {
    const session = this.session(params.sessionId);
    if (session.run) throw RequestError.invalidRequest({ sessionId: session.id }, 'a prompt is already running in this session');
    const instruction = instructionOf(params.prompt);
    if (instruction === '') throw RequestError.invalidParams({ prompt: params.prompt }, 'the prompt has no text');
    session.cancelled = false;
    const update = (value: SessionUpdate) => client.notify('session/update', { sessionId: session.id, update: value });
    if (instruction === '/undo') {
      // The last applied change reverted through the editor's fs (a created file deleted from disk); no model call.
      const undone = await undoLatest(await this.runtime.store(), pathToFileURL(session.cwd).href, { access: this.fileAccess(session), sensitive: this.runtime.agent.sensitiveFiles() });
      await update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: `codebench: ${undone.message}` } });
      return { stopReason: 'end_turn' };
    }
    const store = await this.runtime.store();
    if (!session.titled) {
      await store.setSessionTitle(session.id, instruction.replace(/\s+/g, ' ').slice(0, 80));
      session.titled = true;
    }
    // Updates are sent in order: a chunk must not overtake the tool call before it.
    let sending = Promise.resolve();
    const send = (value: SessionUpdate) => {
      sending = sending.then(() => update(value)).catch(() => undefined);
    };
    try {
      session.run = await this.runtime.agent.ask(
        {
          workspaceUri: pathToFileURL(session.cwd).href,
          roots: [session.cwd],
          instruction,
          sessionId: session.id,
          approver: acpApprover(client, session.id),
        },
        (event) => {
          const value = updateForEvent(event);
          if (value) send(value);
        },
      );
    } catch (error) {
      if (error instanceof AskError) throw RequestError.invalidParams({ [error.field]: true }, error.message);
      throw error;
    }
    try {
      const outcome = await session.run.done;
      await sending;
      await sendUsageUpdate(this.runtime, session.id, update);
      if (outcome.status === 'cancelled' || session.cancelled) return { stopReason: 'cancelled' };
      if (outcome.status === 'failed') {
        await update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: `\n\ncodebench: ${outcome.summary}` } });
        return { stopReason: 'end_turn' };
      }
      if (outcome.proposal) {
        const verdict = await this.review(session, outcome.proposal, client);
        if (verdict === 'cancelled') return { stopReason: 'cancelled' };
      }
      return { stopReason: 'end_turn' };
    } finally {
      session.run = undefined;
      session.pending = undefined;
    }
  }

  /** The edit as a permission request with its diff; written only after allow (or in auto mode). */
  private async review(session: AcpSession, proposal: Proposal, client: AgentContext): Promise<'applied' | 'discarded' | 'cancelled' | 'conflict'> {
    const toolCallId = proposalToolCallId(proposal);
    const call = proposalToolCall(proposal);
    await client.notify('session/update', { sessionId: session.id, update: call });
    const finish = (status: 'completed' | 'failed', text?: string) =>
      client.notify('session/update', {
        sessionId: session.id,
        update: { sessionUpdate: 'tool_call_update', toolCallId, status, ...(text ? { content: [{ type: 'content', content: { type: 'text', text } }] } : {}) },
      });
    if (session.mode === 'ask') {
      session.pending = new AbortController();
      const { sessionUpdate: _kind, ...toolCall } = call as Extract<SessionUpdate, { sessionUpdate: 'tool_call' }>;
      const response = await client.request(
        'session/request_permission',
        {
          sessionId: session.id,
          toolCall,
          options: [
            { optionId: 'apply', name: 'Apply', kind: 'allow_once' },
            { optionId: 'discard', name: 'Discard', kind: 'reject_once' },
          ],
        },
        { cancellationSignal: session.pending.signal },
      );
      if (response.outcome.outcome === 'cancelled' || session.cancelled) {
        await this.runtime.agent.proposals.settle(proposal.id, 'discarded', 'turn cancelled before the edit was accepted');
        await finish('failed', 'Cancelled; nothing was written.');
        return 'cancelled';
      }
      if (response.outcome.optionId !== 'apply') {
        await this.runtime.agent.proposals.settle(proposal.id, 'discarded');
        await finish('failed', 'Discarded; nothing was written.');
        return 'discarded';
      }
    }
    const result = await applyProposal(this.runtime.agent, proposal, this.fileAccess(session), { sensitive: this.runtime.agent.sensitiveFiles() });
    if (result.ok) {
      await finish('completed');
      return 'applied';
    }
    await finish('failed', `Not applied: ${result.reason}. Nothing was changed.`);
    return 'conflict';
  }

  /** Accepted edits go through the editor when it offers fs/*, so open buffers stay in sync. */
  private fileAccess(session: AcpSession): FileAccess {
    const fs = this.capabilities.fs ?? {};
    const client = this.client;
    return {
      read: async (absolutePath) => {
        if (client && fs.readTextFile) {
          try {
            const { content } = await client.request('fs/read_text_file', { sessionId: session.id, path: absolutePath });
            return { text: content, version: null };
          } catch {
            // Fall back to the disk (e.g. the file does not exist yet).
          }
        }
        return diskAccess.read(absolutePath);
      },
      write: async (files) => {
        if (!client || !fs.writeTextFile) return diskAccess.write(files);
        for (const file of files) await client.request('fs/write_text_file', { sessionId: session.id, path: file.absolutePath, content: file.text });
      },
    };
  }
}
