/**
 * The numbers the protocol promises. The schemas in params.ts and the LSP layer use these;
 * protocol.md states them and test/unit/protocol-doc.test.ts holds the two together.
 */
export const Limits = {
  /** `codebench/runEvents`: at most one notification per run per this many ms (leading edge, then batched). */
  runEventsIntervalMs: 70,
  /** `$/progress` reports: at most one per this many ms, and only when the message changed. */
  progressReportIntervalMs: 250,
  /** `codebench/sessions` `limit`. */
  sessions: { min: 1, max: 1000, default: 50 },
  /** `codebench/messages` `limit`; omitted means every message (before `before`). */
  messages: { min: 1, max: 1000 },
  /** `codebench/proposals` `limit`; omitted means every proposal (before `before`). */
  proposals: { min: 1, max: 1000 },
  /** `codebench/search` `limit` (the store answers at most this many). */
  search: { min: 1, max: 200, default: 20 },
  /** `codebench/health` `timeoutMs`. */
  healthTimeoutMs: { min: 100, max: 30_000, default: 3000 },
  /** Diagnostics an ask may carry. */
  askDiagnostics: { max: 200 },
  /** `codebench/memory/add` `text`: characters of one fact (after trimming). */
  memoryFact: { maxChars: 500 },
} as const;
