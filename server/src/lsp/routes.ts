import type { CancellationToken, CodeActionParams, ExecuteCommandParams, HoverParams } from 'vscode-languageserver';
import { parseDeclared } from '../protocol/params.js';
import { invalidParams, type AgentHost } from './agent-host.js';
import { onlyPendingProposal, runWithoutArguments } from './bare-commands.js';
import { approvalRoutes } from './handlers/approvals.js';
import { chatRoutes } from './handlers/chat.js';
import { codeActions } from './handlers/code-actions.js';
import { healthRoutes } from './handlers/health.js';
import { historyRoutes } from './handlers/history.js';
import { memoryRoutes } from './handlers/memory.js';
import { proposalRoutes } from './handlers/proposals.js';
import { hover, provenanceRoutes } from './handlers/provenance.js';
import { runRoutes } from './handlers/runs.js';
import { undoRoutes } from './handlers/undo.js';
import { usageRoutes } from './handlers/usage.js';
import type { Declaration, HandlerContext, Route } from './route.js';

/** Every custom request and command, one handler file per feature. */
const ROUTES: Route[] = [...runRoutes, ...proposalRoutes, ...historyRoutes, ...chatRoutes, ...approvalRoutes, ...healthRoutes, ...memoryRoutes, ...undoRoutes, ...provenanceRoutes, ...usageRoutes];

const requests = new Map<string, Route>();
const commands = new Map<string, Route>();
for (const entry of ROUTES) {
  if (entry.declaration.kind === 'request') requests.set(entry.declaration.method, entry);
  else commands.set(entry.declaration.command, entry);
}

async function dispatch(host: AgentHost, entry: Route, raw: unknown, context: HandlerContext): Promise<unknown> {
  const value = entry.normalize ? entry.normalize(host, raw, context.where) : raw;
  const parsed = parseDeclared(entry.declaration, value, context.where);
  if (!parsed.ok) throw invalidParams(parsed.message);
  return entry.handle(host, parsed.value, context);
}

/** A `codebench/*` request; server.ts binds each declared method to this. */
export function handleRequest(host: AgentHost, method: string, params: unknown, token: CancellationToken): Promise<unknown> {
  const entry = requests.get(method);
  if (!entry) throw new Error(`no handler bound for ${method}`);
  return dispatch(host, entry, params, { token, where: 'params' });
}

export function handleExecuteCommand(host: AgentHost, params: ExecuteCommandParams, token: CancellationToken): Promise<unknown> {
  const entry = commands.get(params.command);
  if (!entry) throw invalidParams(`Invalid params: command: unknown command "${params.command}" (known: ${[...commands.keys()].join(', ')})`);
  if (params.arguments !== undefined && !Array.isArray(params.arguments)) throw invalidParams('Invalid params: arguments: must be an array');
  const context = { token, where: `${params.command} arguments[0]` };
  // Helix writes a failed command only to its log: a bare run from its picker is answered on
  // screen. Other clients (scripts, the plugin) get the InvalidParams naming the argument.
  const fromPicker = host.options.client.features.listsCommandsToPeople && params.arguments?.[0] === undefined;
  if (fromPicker && entry.declaration.kind === 'command' && !entry.declaration.paramsOptional) {
    const only = onlyPendingProposal(host, params.command);
    if (only) return dispatch(host, entry, only, context);
    return runWithoutArguments(host, params.command);
  }
  return dispatch(host, entry, params.arguments?.[0], context);
}

export function handleCodeActions(host: AgentHost, params: CodeActionParams) {
  return codeActions(host, params);
}

export function handleHover(host: AgentHost, params: HoverParams) {
  return hover(host, params);
}

/** For tests: the declarations that have a handler. */
export const ROUTED: readonly Declaration[] = ROUTES.map((entry) => entry.declaration);
