import { z } from 'zod';

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
    .max(200)
    .optional(),
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
  limit: z.number().int().min(1).max(1000).optional(),
});
export const healthParamsSchema = z.object({ timeoutMs: z.number().int().min(100).max(30_000).optional() });
export const messagesParamsSchema = z.object({ sessionId: z.string().min(1) });
export const searchParamsSchema = z.object({
  query: z.string(),
  limit: z.number().int().min(1).max(500).optional(),
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
