/**
 * Stops a run whose model keeps sending the same failing tool call: local models in particular
 * retry an "old_string not found" edit verbatim until the step budget is gone. A call counts as
 * the same when its name and its arguments, as canonical JSON (keys sorted), are equal.
 */
export class RepeatedFailureGuard {
  private lastKey: string | undefined;
  private streak = 0;

  constructor(private readonly limit = 3) {}

  /**
   * Records one finished call. Returns the message that ends the run once the same call has failed
   * `limit` times in a row, otherwise undefined. A success, or any different call, resets the count.
   */
  record(name: string, args: unknown, isError: boolean): string | undefined {
    const key = `${name} ${canonicalJson(args)}`;
    if (!isError) {
      this.lastKey = undefined;
      this.streak = 0;
      return undefined;
    }
    this.streak = key === this.lastKey ? this.streak + 1 : 1;
    this.lastKey = key;
    if (this.streak < this.limit) return undefined;
    return `stopped: the model sent the same failing ${name} call ${this.streak} times in a row`;
  }
}

/** JSON with object keys sorted at every depth, so {"a":1,"b":2} and {"b":2,"a":1} are one call. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}
