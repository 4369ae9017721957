import { describeCalls } from '../../agent/history/turn-summary.js';
import { Requests } from '../../protocol/methods.js';
import type { MessageInfo, SessionInfo } from '../../protocol/shapes.js';
import { messagePreview, type Store, type TeamMessageRecord, type TeamSessionRecord } from '../../store/store.js';
import { teamIdentityOf } from '../../sync/workspace-identity.js';
import { invalidParams } from '../agent-host.js';
import { route, type Route } from '../route.js';

/** Stored sessions, messages, search and proposals. The user's own records are the protocol shapes; teammates' (team sync's read-only copies) are mapped below. */
export const historyRoutes: Route[] = [
  route(Requests.sessions, async (host, { workspaceUri, limit, team }) => {
    const store = await host.store();
    return { sessions: team ? await teamSessions(store, workspaceUri, limit) : await store.listSessions({ workspaceUri, limit }) };
  }),
  route(Requests.messages, async (host, { sessionId, limit, before }) => {
    // Teammates' ids never collide with the user's own (team sync skips records it holds), so
    // looking among them first cannot hide one of the user's sessions.
    const store = await host.store();
    if (store.sync.teamSession(sessionId)) return { messages: page(store.sync.teamMessages(sessionId).map(toMessageInfo), { limit, before }) };
    return { messages: await (await host.storeWithSession(sessionId)).listMessages(sessionId, { limit, before }) };
  }),
  route(Requests.runs, async (host, { sessionId }) => {
    const store = await host.store();
    // A teammate's session: known, but its tool calls are not shared.
    if (store.sync.teamSession(sessionId)) return { runs: [] };
    await host.storeWithSession(sessionId);
    const runs = await store.listRuns(sessionId);
    const briefs = await store.toolCallBriefsOfRuns(runs.map((run) => run.id));
    return { runs: runs.map((run) => ({ id: run.id, status: run.status, steps: describeCalls(briefs.get(run.id) ?? []) })) };
  }),
  route(Requests.search, async (host, { query, limit }) => ({
    hits: await (await host.store()).searchMessages({ query, limit }),
  })),
  route(Requests.proposals, async (host, { sessionId, limit, before }, { where }) => {
    const store = await host.storeWithSession(sessionId);
    // A cursor that names no proposal of this session would silently give an empty page.
    if (before !== undefined && (await store.getProposal(before))?.sessionId !== sessionId) {
      throw invalidParams(`Invalid params: ${where}.before: no proposal with id "${before}" in session "${sessionId}"`);
    }
    return { proposals: await store.listProposals({ sessionId, limit, before }) };
  }),
];

/**
 * Teammates' sessions of the workspace's team identity (all of them without a workspace): the
 * identity sync recorded for it, else its git remote read now (sync may be switched off; what was
 * pulled stays readable). A workspace without an identity has no teammates' sessions.
 */
async function teamSessions(store: Store, workspaceUri: string | undefined, limit: number | undefined): Promise<SessionInfo[]> {
  let workspace: string | undefined;
  if (workspaceUri !== undefined) {
    workspace = await teamIdentityOf(store.sync.sharedWorkspaces(), workspaceUri);
    if (workspace === undefined) return [];
  }
  return store.sync.teamSessions({ workspace, limit }).map((session) => toSessionInfo(session, workspaceUri ?? '', store.sync.lastTeamMessage(session.id)));
}

function toSessionInfo(session: TeamSessionRecord, workspaceUri: string, last: TeamMessageRecord | undefined): SessionInfo {
  return {
    id: session.id,
    title: session.title,
    workspaceUri,
    provider: session.provider,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    messageCount: session.messageCount,
    lastMessagePreview: last ? messagePreview(last.content) : null,
    author: session.author,
    teamWorkspace: session.workspace,
  };
}

/** Ids are positions (1..n, oldest first): team messages have UUIDs, and `before` needs numbers. */
function toMessageInfo(message: TeamMessageRecord, index: number): MessageInfo {
  return {
    id: index + 1,
    role: message.role as MessageInfo['role'],
    content: message.content,
    createdAt: message.createdAt,
    ...(message.runId === undefined ? {} : { runId: message.runId }),
    author: message.author,
  };
}

/** The same page the user's own messages give: the newest `limit` of those before `before`, oldest first. */
function page(messages: MessageInfo[], input: { limit?: number; before?: number }): MessageInfo[] {
  const older = input.before === undefined ? messages : messages.filter((message) => message.id < input.before!);
  return input.limit === undefined ? older : older.slice(Math.max(older.length - input.limit, 0));
}
