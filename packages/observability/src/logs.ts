import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import type { Logger } from '@sluice/core';

/** What the proxy knows about a finished request in its `logging` phase. */
export interface RequestSummary {
  method: string;
  uri: string;
  /** Status sent downstream; 0 when no response was written. */
  status: number;
  /** Request body bytes read from the client. */
  bytesIn: number;
  /** Response body bytes sent to the client. */
  bytesOut: number;
  durationMs: number;
  /** `host:port` of the upstream peer, if one was chosen. */
  upstream?: string;
  /** Client address, e.g. `127.0.0.1:51234`. */
  client?: string;
  /** Why the request failed, if it did. */
  error?: unknown;
}

/** One access log record, as JSON fields. `error` is present only when the request failed. */
export interface AccessLogEntry {
  method: string;
  uri: string;
  status: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  upstream: string | null;
  client: string | null;
  error?: { type: string; message: string; code?: string };
}

/** The access log record of `summary` (snake_case keys, like most log pipelines expect). */
export function accessLogEntry(summary: RequestSummary): AccessLogEntry {
  const entry: AccessLogEntry = {
    method: summary.method,
    uri: summary.uri,
    status: summary.status,
    bytes_in: summary.bytesIn,
    bytes_out: summary.bytesOut,
    duration_ms: Math.round(summary.durationMs * 1000) / 1000,
    upstream: summary.upstream ?? null,
    client: summary.client ?? null,
  };
  if (summary.error !== undefined) entry.error = errorFields(summary.error);
  return entry;
}

function errorFields(e: unknown): { type: string; message: string; code?: string } {
  if (e instanceof Error) {
    // Core's SluiceError carries Pingora's error type in `type`; others have a name and maybe a code.
    const typed = e as Error & { type?: unknown; code?: unknown };
    const out: { type: string; message: string; code?: string } = { type: typeof typed.type === 'string' ? typed.type : e.name, message: e.message };
    if (typeof typed.code === 'string') out.code = typed.code;
    return out;
  }
  return { type: 'Error', message: String(e) };
}

export interface LogOptions {
  /** Lowest level written (default `info`). */
  level?: Level;
  /** Fields on every line (e.g. `{ service: 'edge' }`). */
  base?: Record<string, unknown>;
}

/**
 * The access log: one JSON line per request at `info` (`warn` for 5xx or a failed request), `msg`
 * `access`. Writes to `destination` (stdout by default; a {@link SyslogDestination} for syslog).
 */
export class AccessLog {
  readonly logger: PinoLogger;

  constructor(destination?: DestinationStream, options: LogOptions = {}) {
    this.logger = pino({ level: options.level ?? 'info', base: options.base ?? null, messageKey: 'msg' }, destination ?? pino.destination(1));
  }

  /** Logs one finished request; call it from the proxy's `logging` phase. */
  log(summary: RequestSummary): void {
    const entry = accessLogEntry(summary);
    if (summary.error !== undefined || summary.status >= 500) this.logger.warn(entry, 'access');
    else this.logger.info(entry, 'access');
  }
}

/**
 * The error log as pino, and as core's {@link Logger} so a `Server` and its services can write to it
 * (`new Server({ log: errorLog.asCoreLogger() })`).
 */
export class ErrorLog {
  readonly logger: PinoLogger;

  constructor(destination?: DestinationStream, options: LogOptions = {}) {
    this.logger = pino({ level: options.level ?? 'info', base: options.base ?? { pid: process.pid } }, destination ?? pino.destination(2));
  }

  /** Core's logger interface over this log (errors go out with pino's `err` serializer). */
  asCoreLogger(): Logger {
    const l = this.logger;
    return {
      info: (m) => l.info(m),
      warn: (m) => l.warn(m),
      error: (m, e) => (e === undefined ? l.error(m) : l.error({ err: e }, m)),
    };
  }
}
