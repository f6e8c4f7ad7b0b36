import type { Digest, HttpPeer, RequestHeader, SluiceError } from '@sluice/core';
import type { Session } from './session.js';

/** Which side of the proxy a TLS handshake was on. */
export type TlsHandshakeSide = 'downstream' | 'upstream';

/**
 * What the proxy tells an observer about its work, for built-in metrics, access logs and traces
 * (`ProxyObservability` in @sluice/observability implements it). Every method is optional. Without an
 * observer each call site costs one check and nothing is allocated for it; with one, the proxy
 * passes what it already has (no summary objects).
 *
 * `requestStarted` may return per-request state (a span, a start time…): the proxy keeps it on the
 * session and hands it back to every later call for that request. Methods must not throw (a throw
 * would fail the request) and should not block.
 */
export interface ProxyObserver<State = unknown> {
  /** A downstream connection was accepted (after its TLS handshake, if any). */
  connectionOpened?(digest: Digest): void;
  /** That connection is done. */
  connectionClosed?(digest: Digest): void;
  /** A TLS handshake finished: downstream on a TLS endpoint, upstream on a new connection; `error` when it failed. */
  tlsHandshake?(side: TlsHandshakeSide, error: SluiceError | undefined): void;
  /** A downstream HTTP/2 request stream started being served. */
  http2StreamOpened?(): void;
  /** That stream is done. */
  http2StreamClosed?(): void;
  /** A downstream request head arrived, before any phase (even `newCtx`). Returns the request's state. */
  requestStarted?(session: Session): State;
  /**
   * A connection to `peer` is ready for this request: from the pool (`reused`) or new, in which case
   * `digest.connectMs` (and for TLS `digest.tlsHandshakeMs`) say how long it took. For HTTP/2 upstreams,
   * `reused` means a connection to the peer was already open.
   */
  upstreamConnected?(session: Session, peer: HttpPeer, reused: boolean, digest: Digest, state: State): void;
  /** Connecting to `peer` failed after `connectMs` (before `failToConnect` decides about a retry). */
  upstreamConnectFailed?(session: Session, peer: HttpPeer, error: SluiceError, connectMs: number, state: State): void;
  /** The request is about to go upstream (after `upstreamRequestFilter`): the place to add `traceparent`. */
  upstreamRequest?(session: Session, upstreamRequest: RequestHeader, state: State): void;
  /** The upstream exchange that `upstreamRequest` began is over (response forwarded, or `error`). */
  upstreamDone?(session: Session, error: SluiceError | undefined, state: State): void;
  /**
   * The request is done, after the `logging` phase: `session.responseStatus` is the status sent (0:
   * none), `bodyBytesRead()`/`bodyBytesSent()` the body bytes, `error` why it failed, if it did.
   */
  requestDone?(session: Session, error: SluiceError | undefined, durationMs: number, state: State): void;
}
