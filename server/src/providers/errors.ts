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

  constructor(options: {
    kind: ProviderErrorKind;
    message: string;
    providerName: string;
    statusCode?: number;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = options.kind;
    this.statusCode = options.statusCode;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.providerName = options.providerName;
  }

  get isRetryable(): boolean {
    return this.kind === 'rate-limited' || this.kind === 'unavailable';
  }
}
