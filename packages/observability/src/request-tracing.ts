import { ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import type { RequestHeader } from '@sluice/core';
import { extractTraceContext, injectTraceContext } from './trace-context.js';

/** The child spans of a proxied request. */
export type RequestPhaseSpan = 'upstream.connect' | 'tls.handshake' | 'upstream.response';

// With no provider registered, the global provider delegates to this no-op singleton.
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();

export interface RequestTracingOptions {
  /** Tracer to use (default: `trace.getTracer(tracerName)` of the global provider, checked per request). */
  tracer?: Tracer;
  /** Default `@sluice/proxy`. */
  tracerName?: string;
}

/**
 * OpenTelemetry spans for proxied requests: a SERVER span per request (continuing the client's W3C
 * trace), CLIENT/INTERNAL children for upstream connect, TLS handshake and the upstream exchange, and
 * `traceparent` for the upstream request. With no tracer provider registered every method returns
 * `undefined` or does nothing, without allocating.
 */
export class RequestTracing {
  private readonly fixed: Tracer | undefined;
  private readonly tracerName: string;
  private global: Tracer | undefined;

  constructor(options: RequestTracingOptions = {}) {
    this.fixed = options.tracer;
    this.tracerName = options.tracerName ?? '@sluice/proxy';
  }

  /** The tracer in effect, or undefined when tracing is off (no tracer given, no provider registered). */
  get tracer(): Tracer | undefined {
    if (this.fixed) return this.fixed;
    const provider = trace.getTracerProvider();
    if (provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_PROVIDER) return undefined;
    return (this.global ??= trace.getTracer(this.tracerName));
  }

  /**
   * Starts the span of a downstream request (named after its method), as a child of the trace in its
   * `traceparent` field when valid. Call it in `requestFilter`/at the request head.
   */
  startRequest(request: RequestHeader, attributes?: Attributes): Span | undefined {
    const tracer = this.tracer;
    if (!tracer) return undefined;
    const remote = extractTraceContext(request.headers);
    const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
    const attrs: Attributes = { 'http.request.method': request.method, 'url.path': request.path };
    const query = request.query;
    if (query !== undefined) attrs['url.query'] = query;
    const host = request.headers.get('host');
    if (host !== undefined) attrs['server.address'] = host;
    if (attributes) Object.assign(attrs, attributes);
    return tracer.startSpan(request.method, { kind: SpanKind.SERVER, attributes: attrs }, parent);
  }

  /**
   * Starts a child of `parent` for one phase: `upstream.connect` (INTERNAL), `tls.handshake`
   * (INTERNAL) or `upstream.response` (CLIENT: the upstream exchange, whose context goes upstream).
   * `startTime` (epoch ms) backdates a phase measured after the fact, e.g. from a `Digest`'s `connectMs`.
   */
  startPhase(parent: Span | undefined, phase: RequestPhaseSpan, attributes?: Attributes, startTime?: number): Span | undefined {
    if (parent === undefined) return undefined;
    const tracer = this.tracer;
    if (!tracer) return undefined;
    const kind = phase === 'upstream.response' ? SpanKind.CLIENT : SpanKind.INTERNAL;
    return tracer.startSpan(phase, { kind, attributes, startTime }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  /** Writes `span`'s context as `traceparent`/`tracestate` into the upstream request. */
  injectUpstream(span: Span | undefined, upstreamRequest: RequestHeader): void {
    if (span === undefined) return;
    injectTraceContext(upstreamRequest.headers, span.spanContext());
  }

  /** Ends a phase span (at `endTime`, epoch ms, if given); an `error` is recorded and sets status ERROR. */
  endPhase(span: Span | undefined, error?: unknown, endTime?: number): void {
    if (span === undefined) return;
    if (error !== undefined) fail(span, error);
    span.end(endTime);
  }

  /**
   * Ends the request span with the status sent downstream (0: none). 5xx or an `error` marks it
   * ERROR (OpenTelemetry HTTP conventions: 4xx is the client's doing, not the server span's error).
   */
  endRequest(span: Span | undefined, status: number, error?: unknown): void {
    if (span === undefined) return;
    if (status > 0) span.setAttribute('http.response.status_code', status);
    if (error !== undefined) fail(span, error);
    else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    const type = (error as Error & { type?: unknown }).type;
    span.setAttribute('error.type', typeof type === 'string' ? type : error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setAttribute('error.type', 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}
