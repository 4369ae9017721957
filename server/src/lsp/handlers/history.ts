import { Requests } from '../../protocol/methods.js';
import { route, type Route } from '../route.js';

/** Stored sessions, messages, search and proposals. Store records are the protocol shapes. */
export const historyRoutes: Route[] = [
  route(Requests.sessions, async (host, { workspaceUri, limit }) => ({
    sessions: await (await host.store()).listSessions({ workspaceUri, limit }),
  })),
  route(Requests.messages, async (host, { sessionId }) => ({
    messages: await (await host.storeWithSession(sessionId)).listMessages(sessionId),
  })),
  route(Requests.search, async (host, { query, limit }) => ({
    hits: await (await host.store()).searchMessages({ query, limit }),
  })),
  route(Requests.proposals, async (host, { sessionId }) => ({
    proposals: await (await host.storeWithSession(sessionId)).listProposals({ sessionId }),
  })),
];
