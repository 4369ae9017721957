import type { PreparedFile } from '../agent/proposals/proposal.js';
import type { DocumentStore } from './documents.js';

/** An applied edit whose new text has not reached the server yet. */
export interface AwaitedText {
  summary: string;
  /** The open documents and the text each must hold. */
  files: PreparedFile[];
  /** The `detail` to record once the text arrives. */
  detail: string | undefined;
}

/**
 * Whether the text an edit should produce reached the server, from `didChange`: waited for
 * briefly right after `workspace/applyEdit`, and afterwards (an `unconfirmed` proposal) watched
 * for a while longer, so a late arrival still counts.
 */
export class TextConfirmations {
  private readonly waiters = new Set<() => void>();
  private readonly late = new Map<string, { awaited: AwaitedText; timer: NodeJS.Timeout; onArrived: (awaited: AwaitedText) => void }>();

  constructor(private readonly documents: DocumentStore) {}

  /** Only open documents send didChange; a closed file's text is never seen, whatever happened. */
  openFiles(files: PreparedFile[]): PreparedFile[] {
    return files.filter((file) => this.documents.get(file.absolutePath));
  }

  arrived(files: PreparedFile[]): boolean {
    return files.every((file) => this.documents.get(file.absolutePath)?.text === file.resultText);
  }

  /** True once every open file holds its result text; false after `timeoutMs`. */
  wait(files: PreparedFile[], timeoutMs: number): Promise<boolean> {
    const open = this.openFiles(files);
    if (this.arrived(open)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (this.arrived(open)) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
    });
  }

  /** Calls `onArrived` if the text arrives within `forMs`, `onExpired` otherwise. */
  watch(id: string, awaited: AwaitedText, forMs: number, onArrived: (awaited: AwaitedText) => void, onExpired: () => void): void {
    const timer = setTimeout(() => {
      this.late.delete(id);
      onExpired();
    }, forMs);
    // A watch must not keep a shutting-down server alive.
    timer.unref();
    this.late.set(id, { awaited, timer, onArrived });
  }

  /** Every document change: wakes the waits and settles late arrivals. */
  documentChanged(): void {
    for (const waiter of [...this.waiters]) waiter();
    for (const [id, late] of this.late) {
      if (!this.arrived(late.awaited.files)) continue;
      clearTimeout(late.timer);
      this.late.delete(id);
      late.onArrived(late.awaited);
    }
  }

  get size(): number {
    return this.waiters.size + this.late.size;
  }

  dispose(): void {
    for (const late of this.late.values()) clearTimeout(late.timer);
  }
}
