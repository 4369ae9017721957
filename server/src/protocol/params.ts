import { z } from 'zod';
import { Limits } from './limits.js';
import { Commands, Requests, type CommandDeclaration, type ParamsOf, type RequestDeclaration } from './methods.js';

/** Validation of incoming custom params; field paths in errors become InvalidParams messages. */

const position = z.strictObject({ line: z.number().int().min(0), character: z.number().int().min(0) });
export const rangeSchema = z.object({ start: position, end: position });

export const askParamsSchema = z.object({
  uri: z.string().min(1),
  range: rangeSchema.optional(),
  instruction: z.string().trim().min(1, 'must not be empty'),
  provider: z.string().min(1).optional(),
  sessionId: z.string().min(1).optional(),
  diagnostics: z
    .array(
      z.object({
        range: rangeSchema.optional(),
        message: z.string(),
        severity: z.number().int().optional(),
        source: z.string().optional(),
      }),
    )
    .max(Limits.askDiagnostics.max)
    .optional(),
  run: z.string().trim().min(1, 'must not be empty').max(8000, 'must be at most 8000 characters').optional(),
});

export const askPromptParamsSchema = z.object({ uri: z.string().min(1), range: rangeSchema.optional() });
export const openChatParamsSchema = z.object({ sessionId: z.string().min(1).optional() });
export const sendChatParamsSchema = z.object({ uri: z.string().min(1) });
export const runIdSchema = z.object({ runId: z.string().min(1) });
export const optionalRunIdSchema = z.object({ runId: z.string().min(1).optional() });
export const proposalRefSchema = z.object({ proposalId: z.string().min(1) });
export const approveCommandSchema = z.object({ approvalId: z.string().min(1), decision: z.enum(['allow-once', 'allow-always']).optional() });
export const denyCommandSchema = z.object({ approvalId: z.string().min(1) });
export const proposalHunksSchema = z.object({
  proposalId: z.string().min(1),
  /** Hunk numbers from `codebench/proposal`; omitted means the whole proposal. */
  hunks: z.array(z.number().int().min(0)).min(1).optional(),
});
export const sessionsParamsSchema = z.object({
  workspaceUri: z.string().min(1).optional(),
  limit: z.number().int().min(Limits.sessions.min).max(Limits.sessions.max).optional(),
  team: z.boolean().optional(),
});
export const healthParamsSchema = z.object({ timeoutMs: z.number().int().min(Limits.healthTimeoutMs.min).max(Limits.healthTimeoutMs.max).optional() });
export const messagesParamsSchema = z.object({
  sessionId: z.string().min(1),
  limit: z.number().int().min(Limits.messages.min).max(Limits.messages.max).optional(),
  before: z.number().int().min(1).optional(),
});
export const proposalsParamsSchema = z.object({
  sessionId: z.string().min(1),
  limit: z.number().int().min(Limits.proposals.min).max(Limits.proposals.max).optional(),
  before: z.string().min(1).optional(),
});
export const searchParamsSchema = z.object({
  query: z.string(),
  limit: z.number().int().min(Limits.search.min).max(Limits.search.max).optional(),
});
export const memoryListParamsSchema = z.object({ workspaceUri: z.string().min(1).optional() });
export const memoryAddParamsSchema = z.object({
  text: z.string().trim().min(1, 'must not be empty').max(Limits.memoryFact.maxChars, `must be at most ${Limits.memoryFact.maxChars} characters`),
  workspaceUri: z.string().min(1).optional(),
});
export const memoryRemoveParamsSchema = z.object({ id: z.string().trim().min(1, 'must not be empty') });
export const undoParamsSchema = z.object({ proposalId: z.string().min(1).optional() });
export const provenanceParamsSchema = z.object({ uri: z.string().min(1), line: z.number().int().min(0) });
export const usageParamsSchema = z.object({
  since: z
    .string()
    // A bare number is no date here, though Date.parse would take "7" as a year.
    .refine((value) => /^\d+[dhm]$/.test(value) || (/^\d{4}-\d{2}-\d{2}(?:$|[T ])/.test(value) && !Number.isNaN(Date.parse(value))), 'must be like 7d, 24h, 90m or an ISO-8601 date')
    .optional(),
  by: z.enum(['provider', 'model', 'day', 'session']).optional(),
});

export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; message: string };

/** `where` names the argument, e.g. "codebench.ask arguments[0]". */
export function parseParams<T>(schema: z.ZodType<T>, value: unknown, where: string): ParseOutcome<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? `${where}.${issue.path.join('.')}` : where;
  return { ok: false, message: `Invalid params: ${field}: ${issue?.message ?? 'invalid'}` };
}

type Schemas<Declarations> = { readonly [Name in keyof Declarations]: z.ZodType<ParamsOf<Declarations[Name]>> };

/**
 * The schema of each declaration in methods.ts, under the same names; the compiler holds each
 * schema to its declared params type and insists that no declaration lacks one.
 */
export const requestSchemas: Schemas<typeof Requests> = {
  ask: askParamsSchema,
  cancel: runIdSchema,
  sessions: sessionsParamsSchema,
  messages: messagesParamsSchema,
  search: searchParamsSchema,
  proposals: proposalsParamsSchema,
  proposal: proposalRefSchema,
  health: healthParamsSchema,
  memoryList: memoryListParamsSchema,
  memoryAdd: memoryAddParamsSchema,
  memoryRemove: memoryRemoveParamsSchema,
  provenance: provenanceParamsSchema,
  usage: usageParamsSchema,
  runs: z.object({ sessionId: z.string().min(1) }),
  providers: z.object({}) as z.ZodType<Record<string, never>>,
};

export const commandSchemas: Schemas<typeof Commands> = {
  ask: askParamsSchema,
  askPrompt: askPromptParamsSchema,
  cancel: optionalRunIdSchema,
  applyProposal: proposalHunksSchema,
  previewProposal: proposalRefSchema,
  discardProposal: proposalHunksSchema,
  confirmApplied: proposalRefSchema,
  openChat: openChatParamsSchema,
  sendChat: sendChatParamsSchema,
  approveCommand: approveCommandSchema,
  denyCommand: denyCommandSchema,
  undo: undoParamsSchema,
};

const byDeclaration = new Map<RequestDeclaration | CommandDeclaration, z.ZodType>([
  ...Object.entries(requestSchemas).map(([name, schema]) => [Requests[name as keyof typeof Requests], schema] as const),
  ...Object.entries(commandSchemas).map(([name, schema]) => [Commands[name as keyof typeof Commands], schema] as const),
]);

/** Validates a request's params or a command's `arguments[0]`; omitted optional params count as `{}`. */
export function parseDeclared<Params>(declaration: RequestDeclaration<Params> | CommandDeclaration<Params>, value: unknown, where: string): ParseOutcome<Params> {
  const schema = byDeclaration.get(declaration as RequestDeclaration | CommandDeclaration) as z.ZodType<Params>;
  return parseParams(schema, value === undefined && declaration.paramsOptional ? {} : value, where);
}
