import type { Span } from '@opentelemetry/api';
import { formatAddress, type Digest, type HttpPeer, type RequestHeader, type SluiceError } from '@sluice/core';
import type { ProxyObserver, Session, TlsHandshakeSide } from '@sluice/proxy';
import type { AccessLog } from './logs.js';
import type { SluiceMetrics } from './metrics.js';
import type { RequestTracing } from './request-tracing.js';

export interface ProxyObservabilityOptions {
  /** Built-in metrics (serve `metrics.registry` with `prometheusHttpService`). */
  metrics?: SluiceMetrics;
  /** One access log line per request. */
  accessLog?: AccessLog;
  /** A span per request with `upstream.connect`, `tls.handshake` and `upstream.response` children; `traceparent` sent upstream. */
  tracing?: RequestTracing;
}

/** What one request carries between the proxy's calls: only made when there is a span or an access log. */
export class RequestObservation {
  /** The upstream the request last went to (`host:port`). */
  upstream: string | undefined = undefined;
  /** The `upstream.response` span in progress. */
  upstreamSpan: Span | undefined = undefined;

  constructor(readonly span: Span | undefined) {}
}

/**
 * The proxy's built-in metrics, access log and traces as one {@link ProxyObserver}:
 * `httpProxyService(conf, proxy, { observe: new ProxyObservability({ metrics, accessLog, tracing }) })`.
 * Each part is optional. With metrics alone a request allocates nothing here; a tracer that is not
 * registered costs one check per request.
 */
export class ProxyObservability implements ProxyObserver<RequestObservation | undefined> {
  readonly metrics: SluiceMetrics | undefined;
  readonly accessLog: AccessLog | undefined;
  readonly tracing: RequestTracing | undefined;

  constructor(options: ProxyObservabilityOptions) {
    this.metrics = options.metrics;
    this.accessLog = options.accessLog;
    this.tracing = options.tracing;
  }

  connectionOpened(): void {
    this.metrics?.downstreamConnectionOpened();
  }

  connectionClosed(): void {
    this.metrics?.downstreamConnectionClosed();
  }

  tlsHandshake(side: TlsHandshakeSide, error: SluiceError | undefined): void {
    this.metrics?.recordTlsHandshake(side, error === undefined);
  }

  http2StreamOpened(): void {
    this.metrics?.h2StreamOpened();
  }

  http2StreamClosed(): void {
    this.metrics?.h2StreamClosed();
  }

  requestStarted(session: Session): RequestObservation | undefined {
    const span = this.tracing?.startRequest(session.request);
    if (span === undefined && this.accessLog === undefined) return undefined;
    return new RequestObservation(span);
  }

  upstreamConnected(_session: Session, peer: HttpPeer, reused: boolean, digest: Digest, state: RequestObservation | undefined): void {
    this.metrics?.recordUpstreamConnection(reused, reused ? undefined : digest.connectMs);
    if (state === undefined) return;
    state.upstream = peer.addressText;
    if (reused || state.span === undefined || digest.connectMs === undefined) return;
    // Measured by the connector; the spans are placed back in time from now.
    const tracing = this.tracing!;
    const end = Date.now();
    const connect = tracing.startPhase(state.span, 'upstream.connect', { 'server.address': peer.addressText }, end - digest.connectMs);
    tracing.endPhase(connect, undefined, end);
    if (digest.tlsHandshakeMs !== undefined) {
      const attrs = digest.tls?.version ? { 'tls.protocol.version': digest.tls.version, 'tls.resumed': digest.tls.resumed } : undefined;
      tracing.endPhase(tracing.startPhase(state.span, 'tls.handshake', attrs, end - digest.tlsHandshakeMs), undefined, end);
    }
  }

  upstreamConnectFailed(_session: Session, peer: HttpPeer, error: SluiceError, connectMs: number, state: RequestObservation | undefined): void {
    this.metrics?.recordUpstreamConnectError(error.type);
    if (state === undefined) return;
    state.upstream = peer.addressText;
    if (state.span === undefined) return;
    const end = Date.now();
    this.tracing!.endPhase(this.tracing!.startPhase(state.span, 'upstream.connect', { 'server.address': peer.addressText }, end - connectMs), error, end);
  }

  upstreamRequest(_session: Session, upstreamRequest: RequestHeader, state: RequestObservation | undefined): void {
    if (state?.span === undefined) return;
    const tracing = this.tracing!;
    const span = tracing.startPhase(state.span, 'upstream.response', { 'http.request.method': upstreamRequest.method, 'server.address': state.upstream });
    state.upstreamSpan = span;
    tracing.injectUpstream(span, upstreamRequest);
  }

  upstreamDone(_session: Session, error: SluiceError | undefined, state: RequestObservation | undefined): void {
    if (state?.upstreamSpan === undefined) return;
    this.tracing!.endPhase(state.upstreamSpan, error);
    state.upstreamSpan = undefined;
  }

  requestDone(session: Session, error: SluiceError | undefined, durationMs: number, state: RequestObservation | undefined): void {
    const status = session.responseStatus;
    this.metrics?.recordRequest(session.request.method, status, durationMs);
    if (state === undefined) return;
    if (this.accessLog !== undefined) {
      const client = session.clientAddr();
      this.accessLog.log({
        method: session.request.method,
        uri: session.request.uri,
        status,
        bytesIn: session.bodyBytesRead(),
        bytesOut: session.bodyBytesSent(),
        durationMs,
        upstream: state.upstream,
        client: client && formatAddress(client),
        error,
      });
    }
    if (state.span !== undefined) {
      if (state.upstreamSpan !== undefined) this.tracing!.endPhase(state.upstreamSpan, error);
      this.tracing!.endRequest(state.span, status, error);
    }
  }
}
