/**
 * Serializes review operations. `workspace/applyEdit` is a round trip: between building an edit
 * against a document version and the editor's answer, a second apply (a prompt answer and a code
 * action, two auto-reviewed runs on one file) would build against the same version — and files
 * that are not open carry version `null`, so the editor cannot refuse the stale one. So:
 *
 * - the same operation on the same proposal while one is running gets that one's promise (the
 *   second caller gets the first's outcome; nothing is sent twice);
 * - operations sharing a key (the proposal, or any file's absolute path, open or not) run one
 *   after another, the later one building its edit only after the earlier one settled.
 *
 * Keys are claimed all at once, synchronously, when an operation is queued; each waits only for
 * operations queued before it, so the waits follow queue order and can never form a cycle, however
 * many files a proposal spans. Nothing is kept once an operation ends.
 */
export class ApplyQueue {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #running = new Map<string, Promise<unknown>>();

  run<T>(operation: string, keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const running = this.#running.get(operation);
    if (running) return running as Promise<T>;
    const claimed = [...new Set(keys)];
    const earlier = claimed.flatMap((key) => this.#tails.get(key) ?? []);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    for (const key of claimed) this.#tails.set(key, done);
    const result = Promise.all(earlier)
      .then(task)
      .finally(() => {
        release();
        for (const key of claimed) if (this.#tails.get(key) === done) this.#tails.delete(key);
        if (this.#running.get(operation) === result) this.#running.delete(operation);
      });
    this.#running.set(operation, result);
    return result;
  }

  /** Operations queued or running (for the memory benchmark and tests: 0 when idle). */
  get size(): number {
    return this.#running.size + this.#tails.size;
  }
}
