import type { CancellationToken } from 'vscode-languageserver';
import type { CommandDeclaration, ParamsOf, RequestDeclaration, ResultOf } from '../protocol/methods.js';
import type { AgentHost } from './agent-host.js';

export interface HandlerContext {
  token: CancellationToken;
  /** Names the params in InvalidParams messages: "params" or "codebench.ask arguments[0]". */
  where: string;
}

export type Declaration = RequestDeclaration | CommandDeclaration;

/** One protocol declaration and the handler that answers it, with validated, typed params. */
export interface Route {
  declaration: Declaration;
  handle(host: AgentHost, params: unknown, context: HandlerContext): Promise<unknown>;
  /** Turns a raw argument into the declared shape before validation (a bare-string ask). */
  normalize?(host: AgentHost, raw: unknown, where: string): unknown;
}

export function route<D extends Declaration>(
  declaration: D,
  handle: (host: AgentHost, params: ParamsOf<D>, context: HandlerContext) => Promise<ResultOf<D>>,
  normalize?: Route['normalize'],
): Route {
  return { declaration, handle: handle as Route['handle'], ...(normalize ? { normalize } : {}) };
}

