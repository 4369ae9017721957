import { Requests } from '../../protocol/methods.js';
import { invalidParams } from '../agent-host.js';
import { route, type Route } from '../route.js';

/** Stored sessions, messages, search and proposals. Store records are the protocol shapes. */
export const historyRoutes: Route[] = [
  route(Requests.sessions, async (host, { workspaceUri, limit }) => ({
    sessions: await (await host.store()).listSessions({ workspaceUri, limit }),
  })),
  route(Requests.messages, async (host, { sessionId, limit, before }) => ({
    messages: await (await host.storeWithSession(sessionId)).listMessages(sessionId, { limit, before }),
  })),
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
