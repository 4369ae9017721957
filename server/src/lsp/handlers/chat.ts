import { Commands } from '../../protocol/methods.js';
import { route, type Route } from '../route.js';

/** The chat file Helix uses in place of a panel (lsp/transcript-chat.ts). */
export const chatRoutes: Route[] = [
  route(Commands.openChat, async (host, { sessionId }) => host.chat.open(sessionId)),
  route(Commands.sendChat, async (host, { uri }) => host.chat.send(uri)),
];
