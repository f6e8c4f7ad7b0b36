/** Stable codes of the errors this package throws or rejects with. */
export type LimitsErrorCode =
  | 'ERR_LIMITS_INVALID_SIZE'
  | 'ERR_LIMITS_INVALID_KEY'
  | 'ERR_LIMITS_INVALID_COUNT'
  | 'ERR_LIMITS_INVALID_INTERVAL'
  | 'ERR_LIMITS_INVALID_DELAY'
  | 'ERR_LIMITS_INVALID_CALLBACK'
  | 'ERR_LIMITS_INVALID_CLOCK'
  | 'ERR_LIMITS_TOO_MANY_TIMERS'
  | 'ERR_LIMITS_TIMEOUT';

/** Base class of every error of @sluice/limits; `code` is stable, the message says what and where. */
export class LimitsError extends Error {
  readonly code: LimitsErrorCode;

  constructor(code: LimitsErrorCode, message: string) {
    super(message);
    this.name = 'LimitsError';
    this.code = code;
  }
}

/** Rejection of `timeout()` when the deadline passes before the wrapped promise settles (Pingora's `Elapsed`). */
export class TimeoutError extends LimitsError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super('ERR_LIMITS_TIMEOUT', `timeout of ${timeoutMs} ms elapsed before the promise settled`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** Names a bad value in an error message: its type and, for primitives, the value (long strings cut). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
