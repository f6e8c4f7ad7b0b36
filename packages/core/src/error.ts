/**
 * Typed errors, after pingora-error: every failure has a type, a source (which side of the proxy it
 * came from), a retry decision, optional context and the error that caused it.
 */

/** What went wrong. `HTTPStatus` carries `status`; `Custom` carries `customType`. */
export type ErrorType =
  | 'ConnectTimedout'
  | 'ConnectRefused'
  | 'ConnectNoRoute'
  | 'ConnectError'
  | 'BindError'
  | 'AcceptError'
  | 'SocketError'
  | 'TLSHandshakeFailure'
  | 'TLSHandshakeTimedout'
  | 'InvalidCert'
  | 'InvalidHTTPHeader'
  | 'H1Error'
  | 'H2Error'
  | 'InvalidH2'
  | 'ReadError'
  | 'WriteError'
  | 'ReadTimedout'
  | 'WriteTimedout'
  | 'ConnectionClosed'
  | 'HTTPStatus'
  | 'FileOpenError'
  | 'FileReadError'
  | 'ConfigError'
  | 'InternalError'
  | 'UnknownError'
  | 'Custom';

/** Which side of a proxy the error came from. */
export type ErrorSource = 'Upstream' | 'Downstream' | 'Internal' | 'Unset';

/**
 * Whether the failed operation may be tried again: decided yes/no, or only when the connection that
 * failed was a reused one (a pooled connection the peer may have closed meanwhile).
 */
export type RetryType = boolean | 'ReusedOnly';

/** Options for {@link SluiceError}. */
export interface SluiceErrorOptions {
  source?: ErrorSource;
  retry?: RetryType;
  context?: string;
  cause?: unknown;
  /** For `HTTPStatus` errors: the status code. */
  status?: number;
  /** For `Custom` errors: the user's type name. */
  customType?: string;
  /** A stable code overriding the one derived from the type (e.g. `ERR_H1_INVALID_CONTENT_LENGTH`). */
  code?: string;
}

// 'ConnectTimedout' -> 'ERR_CONNECT_TIMEDOUT', 'TLSHandshakeFailure' -> 'ERR_TLS_HANDSHAKE_FAILURE'
function codeForType(type: ErrorType, customType?: string): string {
  const name = type === 'Custom' && customType ? customType : type;
  return 'ERR_' + name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toUpperCase();
}

// Types that say nothing was sent yet, so trying again cannot duplicate a request.
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorType> = new Set(['ConnectTimedout', 'ConnectRefused', 'ConnectNoRoute']);

/** The error type of Sluice. `code` is stable; `message` says what, where and why. */
export class SluiceError extends Error {
  readonly type: ErrorType;
  readonly code: string;
  source: ErrorSource;
  retry: RetryType;
  /** Extra context, most recent first once {@link SluiceError.moreContext} is used. */
  context: string | undefined;
  readonly status: number | undefined;
  readonly customType: string | undefined;

  constructor(type: ErrorType, options: SluiceErrorOptions = {}) {
    super(SluiceError.describe(type, options), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.type = type;
    this.code = options.code ?? codeForType(type, options.customType);
    this.source = options.source ?? 'Unset';
    this.retry = options.retry ?? RETRYABLE_BY_DEFAULT.has(type);
    this.context = options.context;
    this.status = options.status;
    this.customType = options.customType;
  }

  private static describe(type: ErrorType, o: SluiceErrorOptions): string {
    let s = type === 'HTTPStatus' ? `HTTPStatus(${o.status})` : type === 'Custom' ? (o.customType ?? 'Custom') : type;
    if (o.context) s += ` context: ${o.context}`;
    if (o.cause !== undefined) s += ` cause: ${o.cause instanceof Error ? o.cause.message : String(o.cause)}`;
    return s;
  }

  /** A new error of `type` with `context`, caused by `cause` (pingora's `Error::because`). */
  static because(type: ErrorType, context: string, cause: unknown, options: SluiceErrorOptions = {}): SluiceError {
    return new SluiceError(type, { ...options, context, cause });
  }

  /** A new error of `type` explained by `context` (pingora's `Error::explain`). */
  static explain(type: ErrorType, context: string, options: SluiceErrorOptions = {}): SluiceError {
    return new SluiceError(type, { ...options, context });
  }

  /** An `HTTPStatus` error: the request should be answered with `status`. */
  static httpStatus(status: number, context?: string, source: ErrorSource = 'Downstream'): SluiceError {
    return new SluiceError('HTTPStatus', { status, context, source });
  }

  /** Marks the error as coming from upstream and returns it. */
  intoUp(): this {
    this.source = 'Upstream';
    return this;
  }

  /** Marks the error as coming from downstream and returns it. */
  intoDown(): this {
    this.source = 'Downstream';
    return this;
  }

  /** Marks the error as internal and returns it. */
  intoIn(): this {
    this.source = 'Internal';
    return this;
  }

  /** Sets the retry decision and returns the error. */
  setRetry(retry: RetryType): this {
    this.retry = retry;
    return this;
  }

  /** Whether to retry, given whether the failed connection was a reused one. */
  retryable(reusedConnection = false): boolean {
    return this.retry === 'ReusedOnly' ? reusedConnection : this.retry;
  }

  /** Prepends context, keeping what was there: "new: old". */
  moreContext(context: string): this {
    this.context = this.context ? `${context}: ${this.context}` : context;
    this.message = SluiceError.describe(this.type, { status: this.status, customType: this.customType, context: this.context, cause: this.cause });
    return this;
  }

  /** The innermost cause in the chain. */
  rootCause(): unknown {
    let e: unknown = this;
    while (e instanceof Error && e.cause !== undefined) e = e.cause;
    return e;
  }

  /** The chain of causes from this error inwards. */
  *chain(): Generator<unknown> {
    let e: unknown = this;
    while (e !== undefined) {
      yield e;
      e = e instanceof Error ? e.cause : undefined;
    }
  }
}

/** Whether `e` is a {@link SluiceError}, optionally of a given type. */
export function isSluiceError(e: unknown, type?: ErrorType): e is SluiceError {
  return e instanceof SluiceError && (type === undefined || e.type === type);
}

/**
 * Turns anything thrown into a SluiceError: a SluiceError passes through; anything else becomes an
 * error of `type` with `context` and the original as `cause` (pingora's `or_err`).
 */
export function toSluiceError(e: unknown, type: ErrorType, context: string, options: SluiceErrorOptions = {}): SluiceError {
  return e instanceof SluiceError ? e : SluiceError.because(type, context, e, options);
}

/**
 * Awaits `work` and re-types its failure: a rejection becomes a SluiceError of `type` with `context`
 * (a SluiceError keeps its type and gains the context).
 */
export async function orErr<T>(work: Promise<T>, type: ErrorType, context: string, options: SluiceErrorOptions = {}): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof SluiceError) throw e.moreContext(context);
    throw SluiceError.because(type, context, e, options);
  }
}

/** Maps a Node system error from a socket operation to the matching error type. */
export function errorTypeOfSystemError(e: unknown, fallback: ErrorType): ErrorType {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'ConnectRefused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'ConnectNoRoute';
    case 'ETIMEDOUT':
      return 'ConnectTimedout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'ConnectionClosed';
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
    case 'EACCES':
      return 'BindError';
    default:
      return fallback;
  }
}
