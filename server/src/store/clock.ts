let last = 0;

/**
 * ISO-8601 UTC timestamp with ms precision, strictly increasing within this process. Sessions are
 * ordered by `updated_at`, and several writes often land in the same millisecond; borrowing a
 * millisecond keeps that order equal to write order without a second sort key.
 */
export function now(): string {
  last = Math.max(Date.now(), last + 1);
  return new Date(last).toISOString();
}
