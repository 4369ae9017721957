import { storeFact } from '../../agent/tools/remember.js';
import { Requests, type MemoryFact } from '../../protocol/methods.js';
import { MIN_ID_PREFIX } from '../../store/id-prefix.js';
import type { MemoryFactRecord } from '../../store/store.js';
import { invalidParams, type AgentHost } from '../agent-host.js';
import { pathToUri, uriToPath } from '../documents.js';
import { route, type Route } from '../route.js';

/** The project memory for rich clients: list, add (checked and scrubbed like `remember`), remove. */
export const memoryRoutes: Route[] = [
  route(Requests.memoryList, async (host, { workspaceUri }, { where }) => ({
    facts: (await (await host.store()).listMemoryFacts(workspaceOf(host, workspaceUri, where))).map(toWire),
  })),
  route(Requests.memoryAdd, async (host, { text, workspaceUri }, { where }) => {
    const stored = await storeFact(await host.store(), { workspaceUri: workspaceOf(host, workspaceUri, where), text });
    if (!stored.ok) throw invalidParams(`Invalid params: ${where}.text: ${stored.error}`);
    return { fact: toWire(stored.fact) };
  }),
  route(Requests.memoryRemove, async (host, { id }, { where }) => {
    const removed = await (await host.store()).removeMemoryFact(id);
    if (removed.kind === 'too-short') throw invalidParams(`Invalid params: ${where}.id: give a full fact id or a unique prefix of at least ${MIN_ID_PREFIX} characters`);
    if (removed.kind === 'ambiguous') throw invalidParams(`Invalid params: ${where}.id: "${id}" matches several facts; give more characters`);
    return { removed: removed.kind === 'found' };
  }),
];

/**
 * The workspace a memory request is about, spelled as asks spell it (ask-flow.ts: the folder's
 * path back to a URI), so facts a run remembered are found under the URI a client sends. Without
 * one, the first workspace folder: the one asks from files outside every folder do not use, but
 * the one a client with a single root means.
 */
function workspaceOf(host: AgentHost, workspaceUri: string | undefined, where: string): string {
  if (workspaceUri !== undefined) {
    const path = uriToPath(workspaceUri);
    return path === undefined ? workspaceUri : pathToUri(path);
  }
  const first = host.options.workspaceFolders()[0];
  if (first === undefined) throw invalidParams(`Invalid params: ${where}.workspaceUri: the server has no workspace folder, so name the workspace`);
  return pathToUri(first);
}

function toWire(fact: MemoryFactRecord): MemoryFact {
  return { id: fact.id, text: fact.text, createdAt: fact.createdAt, ...(fact.runId === undefined ? {} : { runId: fact.runId }) };
}
