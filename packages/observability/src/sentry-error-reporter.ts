import type { ErrorReport, ErrorReporter } from '@sluice/core';

/**
 * The part of @sentry/node the reporter calls (`Sentry.captureException` with a capture context), so
 * this package does not depend on Sentry: pass the `@sentry/node` module (after `Sentry.init`).
 */
export interface SentryCapture {
  captureException(
    exception: unknown,
    captureContext?: { tags?: Record<string, string>; contexts?: Record<string, Record<string, unknown>>; level?: 'fatal' | 'error' | 'warning' },
  ): string;
}

/**
 * An {@link ErrorReporter} sending each unexpected error to Sentry (Pingora's Sentry integration):
 * the exception (its `cause` chain becomes Sentry's linked exceptions, so a phase's own TypeError is
 * there), tagged `sluice.where`, `sluice.service` and `sluice.error_type`, with a `sluice` context
 * holding the request summary and the client's address. Give it to `new Server({ errorReporter })` (it reaches
 * every listening service and proxy) or to one proxy's `errorReporter` option.
 */
export function sentryErrorReporter(sentry: SentryCapture): ErrorReporter {
  return (error: unknown, report: ErrorReport) => {
    const tags: Record<string, string> = { 'sluice.where': report.where };
    if (report.service !== undefined) tags['sluice.service'] = report.service;
    // Core's SluiceError keeps Pingora's error type (InternalError, ...): searchable in Sentry.
    const type = (error as { type?: unknown } | null)?.type;
    if (typeof type === 'string') tags['sluice.error_type'] = type;
    const context: Record<string, unknown> = {};
    if (report.request !== undefined) context.request = report.request;
    if (report.client !== undefined) context.client = report.client;
    sentry.captureException(error, { tags, contexts: { sluice: context }, level: 'error' });
  };
}
