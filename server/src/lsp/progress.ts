import type { RunEvent } from '../agent/events.js';
import { Limits, type RunEvent as WireRunEvent, type RunEventsParams } from '../protocol/methods.js';
import { toWireRunEvent } from './run-events-wire.js';

/** What the reporter needs from the connection; a recording fake is enough to test it. */
export interface ProgressSink {
  createToken(token: string): Promise<boolean>;
  progress(token: string, value: unknown): void;
  runEvents?(params: RunEventsParams): void;
  setTimer(callback: () => void, ms: number): { cancel(): void };
  now(): number;
}

const REPORT_INTERVAL_MS = Limits.progressReportIntervalMs;
// With reports at 4/s this keeps a run under 20 notifications a second.
const EVENTS_INTERVAL_MS = Limits.runEventsIntervalMs;
const MAX_MESSAGE = 100;
/** The end message is read once and carries the fix ("…start it with `ollama serve`"): room for it. */
const MAX_END_MESSAGE = 300;
const TEXT_TAIL = 60;
/** Streamed text kept for the progress message; enough to find the last line's tail. */
const RECENT_TEXT = 400;

/**
 * Turns a run's event stream into `$/progress` (at most a few reports a second, only when the
 * text changed) and, for clients that opted in, batched `codebench/runEvents`. Editors redraw per
 * notification, so a token-per-notification stream would make typing stutter.
 */
export class RunProgress {
  private active = false;
  private lastSentMessage = '';
  private lastSentAt = 0;
  private currentMessage = '';
  private reportTimer: { cancel(): void } | undefined;
  private pendingEvents: WireRunEvent[] = [];
  private eventsTimer: { cancel(): void } | undefined;
  private lastEventsFlushAt = -Infinity;
  private recentText = '';
  private messageFromText = false;
  private ready: Promise<void> = Promise.resolve();
  private ended = false;
  private runIds: { runId: string; sessionId: string } | undefined;

  constructor(
    private readonly sink: ProgressSink,
    readonly token: string,
    private readonly options: { title: string; useProgress: boolean },
  ) {}

  /** Starts the progress without waiting for the client; events before it is ready are kept. */
  begin(message: string): void {
    if (this.currentMessage === '') this.currentMessage = message;
    if (!this.options.useProgress) return;
    this.ready = this.sink.createToken(this.token).then((created) => {
      if (!created || this.ended) return;
      this.active = true;
      this.lastSentMessage = message;
      this.lastSentAt = this.sink.now();
      this.sink.progress(this.token, { kind: 'begin', title: this.options.title, cancellable: true, message });
      if (this.resolvedMessage() !== message) this.schedule();
    });
  }

  /** Names the run once it exists, so batched events can carry its ids. */
  attach(runId: string, sessionId: string): void {
    this.runIds = { runId, sessionId };
    this.flushEvents();
  }

  handle(event: RunEvent): void {
    if (this.sink.runEvents) this.queueEvent(event);
    if (event.type === 'text') {
      // Per token only a bounded append: the message is worked out when a report is due.
      this.recentText = (this.recentText + event.text).slice(-RECENT_TEXT);
      this.messageFromText = true;
      this.schedule();
      return;
    }
    if (event.type === 'tool-started') this.recentText = '';
    const message = this.messageFor(event);
    if (message !== undefined) this.setMessage(message);
  }

  /** Resolves once the client has been told, so callers can order later messages after it. */
  async end(summary: string): Promise<void> {
    this.flushEvents();
    await this.ready;
    this.ended = true;
    this.reportTimer?.cancel();
    this.reportTimer = undefined;
    if (!this.active) return;
    this.active = false;
    this.sink.progress(this.token, { kind: 'end', message: truncate(summary, MAX_END_MESSAGE) });
  }

  private messageFor(event: RunEvent): string | undefined {
    switch (event.type) {
      case 'text':
        return undefined;
      case 'tool-started':
        return event.activity;
      case 'tool-finished':
        return event.isError ? `${event.activity} (failed, the agent will adjust)` : undefined;
      case 'notice':
        return event.message;
      case 'proposal':
        return `proposing ${event.summary}`;
      case 'finished':
        return undefined;
    }
  }

  /** The newest non-empty line of streamed text, tail first: the head of a long line would freeze. */
  private resolvedMessage(): string {
    if (!this.messageFromText) return this.currentMessage;
    const lines = this.recentText.split('\n');
    const line = ([...lines].reverse().find((candidate) => candidate.trim() !== '') ?? '').trim();
    if (line === '') return this.currentMessage;
    return truncate(`writing: ${line.length > TEXT_TAIL ? `…${line.slice(-TEXT_TAIL)}` : line}`);
  }

  private setMessage(message: string): void {
    this.currentMessage = truncate(message);
    this.messageFromText = false;
    this.schedule();
  }

  private schedule(): void {
    if (!this.active) return;
    const wait = this.lastSentAt + REPORT_INTERVAL_MS - this.sink.now();
    if (wait <= 0 && !this.reportTimer) {
      this.sendReport();
      return;
    }
    this.reportTimer ??= this.sink.setTimer(() => {
      this.reportTimer = undefined;
      this.sendReport();
    }, Math.max(wait, 0));
  }

  private sendReport(): void {
    if (!this.active) return;
    const message = this.resolvedMessage();
    if (message === this.lastSentMessage) return;
    this.lastSentMessage = message;
    this.lastSentAt = this.sink.now();
    this.sink.progress(this.token, { kind: 'report', message });
  }

  private queueEvent(event: RunEvent): void {
    const last = this.pendingEvents.at(-1);
    // A fresh wire object per event, so coalescing text below never mutates the core's event.
    if (event.type === 'text' && last?.type === 'text') last.text += event.text;
    else this.pendingEvents.push(toWireRunEvent(event));
    // Leading edge: the first event after a quiet spell goes out at once (the first token must
    // not wait for a window); what follows within the window is batched.
    const quiet = this.sink.now() - this.lastEventsFlushAt >= EVENTS_INTERVAL_MS;
    if (event.type === 'finished' || (quiet && !this.eventsTimer)) {
      this.flushEvents();
      return;
    }
    this.eventsTimer ??= this.sink.setTimer(() => {
      this.eventsTimer = undefined;
      this.flushEvents();
    }, Math.max(0, this.lastEventsFlushAt + EVENTS_INTERVAL_MS - this.sink.now()));
  }

  private flushEvents(): void {
    this.eventsTimer?.cancel();
    this.eventsTimer = undefined;
    if (this.pendingEvents.length === 0 || !this.sink.runEvents || !this.runIds) return;
    const events = this.pendingEvents;
    this.pendingEvents = [];
    this.lastEventsFlushAt = this.sink.now();
    this.sink.runEvents({ ...this.runIds, events });
  }
}

function truncate(message: string, limit = MAX_MESSAGE): string {
  const single = message.replace(/\s+/g, ' ').trim();
  return single.length > limit ? `${single.slice(0, limit - 1)}…` : single;
}
