/** Provider failures, classified once at the edge so nothing above has to parse messages. */

export type ProviderErrorKind =
  | 'auth'
  | 'rate-limited'
  | 'context-overflow'
  | 'unavailable'
  | 'bad-request'
  | 'bad-response'
  | 'cancelled'
  | 'config';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly statusCode: number | undefined;
  /** Seconds the server asked us to wait (Retry-After), when it said. */
  readonly retryAfterSeconds: number | undefined;
  readonly providerName: string;
  /** What went wrong in a few words ("HTTP 503", "connection reset"), for retry notices. */
  readonly reason: string | undefined;
  /** Set when the kind alone would mislead: a local server refusing connections is not coming back in a second. */
  private readonly retryable: boolean | undefined;

  constructor(options: {
    kind: ProviderErrorKind;
    message: string;
    providerName: string;
    statusCode?: number;
    retryAfterSeconds?: number;
    reason?: string;
    retryable?: boolean;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = options.kind;
    this.statusCode = options.statusCode;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.providerName = options.providerName;
    this.reason = options.reason ?? (options.statusCode !== undefined ? `HTTP ${options.statusCode}` : undefined);
    this.retryable = options.retryable;
  }

  get isRetryable(): boolean {
    return this.retryable ?? (this.kind === 'rate-limited' || this.kind === 'unavailable');
  }
}
