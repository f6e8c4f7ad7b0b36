import type { Logger } from './logger.js';

/** What is known about an unexpected error besides the error itself. */
export interface ErrorReport {
  /** Where it was caught, e.g. `proxy newCtx`, `proxy phase`, `connection handler`, `service start`. */
  where: string;
  /** The service it happened in, when known. */
  service?: string;
  /** One line about the request in progress (Pingora's request summary: `GET /path, Host: x`). */
  request?: string;
  /** The client's address (`127.0.0.1:51234`), when there was a connection. */
  client?: string;
}

/**
 * Receives unexpected errors: caught handler crashes and internal failures, never an ordinary
 * client or upstream failure (those are the access and error logs' business). Pingora reports the
 * same to Sentry; `sentryErrorReporter` in @sluice/observability adapts this to @sentry/node. It must
 * not throw (a throw is logged and dropped) and should return quickly.
 */
export type ErrorReporter = (error: unknown, report: ErrorReport) => void;

/** Calls `reporter` (if any) with `error`; a reporter that throws is logged, never propagated. */
export function reportError(reporter: ErrorReporter | undefined, error: unknown, report: ErrorReport, log: Logger): void {
  if (reporter === undefined) return;
  try {
    reporter(error, report);
  } catch (e) {
    log.error(`the error reporter failed on an error from ${report.where}`, e);
  }
}
