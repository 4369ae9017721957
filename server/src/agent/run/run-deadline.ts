import type { DriverResult } from './driver.js';

/**
 * The wall-clock limit of one run (config `maxRunSeconds`), for every driver: an HTTP stream that
 * trickles a byte a second never trips the stall watchdog, and a CLI agent can loop on tools
 * for as long as it likes; this ends both. Its signal joins the run's cancel signal.
 */
export class RunDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly seconds: number) {
    this.timer = setTimeout(() => this.controller.abort(), seconds * 1000);
    // A pending deadline must not keep a finished CLI process alive.
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  /**
   * A run the deadline cut short failed, and says why: drivers report the abort as a
   * cancellation, which would read as if the user had cancelled.
   */
  settle(result: DriverResult, userCancelled: boolean): DriverResult {
    if (!this.expired || userCancelled || result.status === 'completed') return result;
    const seconds = Number.isInteger(this.seconds) ? String(this.seconds) : this.seconds.toFixed(1);
    return {
      ...result,
      status: 'failed',
      error: `stopped after ${seconds} s (maxRunSeconds); raise "maxRunSeconds" in the config for longer runs`,
      changes: [],
    };
  }
}
