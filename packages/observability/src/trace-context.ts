import { createTraceState, type SpanContext, TraceFlags } from '@opentelemetry/api';
import type { HeaderMap } from '@sluice/core';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** `00-<trace-id>-<parent-id>-<flags>` for `context` (W3C Trace Context §3.2). */
export function formatTraceparent(context: SpanContext): string {
  const flags = context.traceFlags & 0xff;
  return `00-${context.traceId}-${context.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/**
 * The remote span context in a `traceparent` value, or undefined when it is not valid W3C Trace
 * Context (§3.2.2-3.2.4: lowercase hex, version `ff` forbidden, all-zero ids forbidden; a higher version
 * may append fields after the flags, version 00 may not).
 */
export function parseTraceparent(value: string, tracestate?: string): SpanContext | undefined {
  const v = value.trim();
  const parts = v.split('-');
  if (parts.length < 4) return undefined;
  const [version, traceId, spanId, flags] = parts;
  if (!HEX2.test(version) || version === 'ff') return undefined;
  if (version === '00' ? parts.length !== 4 : v.length > 55 && v.charCodeAt(55) !== 45) return undefined;
  if (!HEX32.test(traceId) || traceId === ZERO_TRACE) return undefined;
  if (!HEX16.test(spanId) || spanId === ZERO_SPAN) return undefined;
  if (!HEX2.test(flags)) return undefined;
  const context: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
  if (tracestate !== undefined && tracestate.length > 0) context.traceState = createTraceState(tracestate);
  return context;
}

/** The parent span context carried by a downstream request's fields (`traceparent`, `tracestate`). */
export function extractTraceContext(headers: HeaderMap): SpanContext | undefined {
  const traceparent = headers.get('traceparent');
  if (traceparent === undefined) return undefined;
  // §3.3.1.1: several tracestate fields are combined as one comma-joined list.
  const states = headers.getAll('tracestate');
  return parseTraceparent(traceparent, states.length > 1 ? states.join(',') : states[0]);
}

/** Sets `traceparent` (and `tracestate`, if any) on an upstream request's fields, replacing the client's. */
export function injectTraceContext(headers: HeaderMap, context: SpanContext): void {
  headers.set('traceparent', formatTraceparent(context));
  const state = context.traceState?.serialize();
  if (state) headers.set('tracestate', state);
  else headers.delete('tracestate');
}
