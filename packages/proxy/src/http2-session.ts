import type { Socket } from 'node:net';
import { ResponseHeader, SluiceError } from '@sluice/core';
import type { Digest, HeaderMap, SocketAddress, Stream } from '@sluice/core';
import { ErrorCode, Http2ServerSession, Http2ServerStream } from '@sluice/http2';
import type { Http2Error, Http2RequestHandler, Http2ServerOptions, Http2Stream, StreamOwner } from '@sluice/http2';
import { DownstreamSessionBase, type DownstreamSession, type UpstreamHandle } from './session.js';

/** A request stream that tells its proxy session when the client reset it (or the connection ended). */
class ProxyHttp2Stream extends Http2ServerStream {
  session: Http2Session | null = null;

  override fail(error: Http2Error | Error): void {
    super.fail(error);
    const session = this.session;
    if (session !== null) {
      this.session = null;
      session.streamFailed();
    }
  }
}

/**
 * The proxy's HTTP/2 server connection: its request streams report a reset by the client, so the
 * upstream request it was waiting for is cancelled instead of left running (RFC 9113 §8.1 CANCEL).
 */
export class ProxyHttp2ServerSession extends Http2ServerSession {
  constructor(transport: Stream, handler: Http2RequestHandler, options: Http2ServerOptions = {}) {
    super(transport, handler, options);
  }

  /** @internal */
  override createStream(owner: StreamOwner, id: number, receiveWindow: number, sendWindow: number): Http2Stream {
    return new ProxyHttp2Stream(owner, id, receiveWindow, sendWindow);
  }
}

/**
 * The downstream session over one HTTP/2 request stream: the same {@link DownstreamSession} the
 * HTTP/1 session implements, so every ProxyHttp phase runs unchanged. `:authority` becomes the
 * request's Host field (RFC 9113 §8.3.1), so phases and HTTP/1.1 upstreams see one Host.
 *
 * A final response head is held until the first body piece or the end (at most until the event
 * loop turns): a response that ends at its head leaves as one HEADERS frame with END_STREAM, which
 * gRPC's trailers-only responses (status in the head) require. `setKeepalive(false)` only records the
 * wish: the connection carries other streams (the stream ends either way).
 */
export class Http2Session extends DownstreamSessionBase implements DownstreamSession {
  readonly hasRequestBody: boolean;
  private readonly stream: Http2ServerStream;
  private readonly transport: Stream;
  private pendingHead: ResponseHeader | null = null;
  private bytesSent = 0;

  constructor(stream: Http2ServerStream, transport: Stream) {
    // The handler runs when the request's HEADERS arrive: END_STREAM on them means no body.
    const hasBody = !stream.remoteEnded || stream.bufferedBodyLength > 0;
    super(stream.request, hasBody);
    this.hasRequestBody = hasBody;
    this.stream = stream;
    if (stream instanceof ProxyHttp2Stream) stream.session = this;
    this.transport = transport;
    const authority = stream.authority;
    if (authority !== undefined && authority !== '' && !this.request.headers.has('host')) this.request.headers.appendUnchecked('host', authority);
  }

  /** The HTTP/2 stream under this session. */
  get http2Stream(): Http2ServerStream {
    return this.stream;
  }

  /** HTTP/2 has no Upgrade; CONNECT is refused unless allowed, and then answered as a plain request. */
  get isUpgradeRequest(): boolean {
    return false;
  }

  get requestTrailers(): HeaderMap | null {
    return this.stream.requestTrailers;
  }

  protected nextBodyPiece(): Promise<Buffer | null> {
    return this.stream.readBodyChunk();
  }

  protected bodyReadError(e: unknown): SluiceError {
    return SluiceError.because('ReadError', `reading the request body of stream ${this.stream.id}`, e).intoDown();
  }

  async respondError(status: number): Promise<void> {
    if (this.headSent || this.stream.closed || this.stream.localEnded) {
      this.headSent = this.done = true;
      return;
    }
    const res = ResponseHeader.build(status, '2');
    res.headers.appendUnchecked('content-length', '0');
    this.headSent = this.done = true;
    this.pendingHead = null;
    this.responseStatus = status;
    try {
      this.stream.writeResponseHeader(res, true);
    } catch {
      // the stream was reset meanwhile; no one is left to tell
    }
  }

  writeResponseHeader(response: ResponseHeader): Promise<void> | undefined {
    if (response.status < 200) {
      // 101 has no meaning in HTTP/2 (RFC 9113 §8.6); other 1xx heads go out at once.
      if (response.status === 101) throw new SluiceError('InternalError', { context: '101 Switching Protocols cannot be sent on HTTP/2' });
      this.sendHead(response, false);
      return undefined;
    }
    if (this.headSent) throw new SluiceError('InternalError', { context: 'response head written twice' });
    this.headSent = true;
    this.responseStatus = response.status;
    this.pendingHead = response;
    setImmediate(flushHead, this);
    return undefined;
  }

  /** @internal Sends a head still held back (the end did not come within the turn). */
  flushPendingHead(): void {
    const head = this.pendingHead;
    if (head === null) return;
    this.pendingHead = null;
    if (this.stream.closed || this.stream.localEnded) return;
    this.sendHead(head, false);
  }

  writeResponseBody(data: Buffer | null, endOfStream: boolean): Promise<void> | undefined {
    if (data === null || data.length === 0) return endOfStream ? this.finishResponse(null) : undefined;
    this.flushPendingHead();
    this.bytesSent += data.length;
    if (endOfStream) this.done = true;
    return this.stream.writeBody(data, endOfStream);
  }

  writeResponseTrailers(trailers: HeaderMap): Promise<void> | undefined {
    return this.finishResponse(trailers);
  }

  /** Frames written in one turn already leave in one write (the connection corks until setImmediate). */
  corkResponse(): void {}

  /**
   * The whole response at once: HEADERS, then the body as DATA within the client's windows, END_STREAM
   * on the last frame (HEADERS alone for an empty body, HEAD, 204 and 304). Frames of one turn leave in
   * one write.
   */
  writeWholeResponse(response: ResponseHeader, body: Buffer): Promise<void> | undefined {
    if (this.headSent) throw new SluiceError('InternalError', { context: 'response head written twice' });
    this.headSent = this.done = true;
    this.responseStatus = response.status;
    const status = response.status;
    if (this.request.method !== 'HEAD' && status !== 204 && status !== 304) this.bytesSent += body.length;
    try {
      return this.stream.respond(response, body);
    } catch (e) {
      throw SluiceError.because('WriteError', `sending the response on stream ${this.stream.id}`, e).intoDown();
    }
  }

  finishResponse(trailers: HeaderMap | null): Promise<void> | undefined {
    if (this.done) return undefined;
    this.done = true;
    const head = this.pendingHead;
    if (head !== null && (trailers === null || trailers.size === 0)) {
      // The whole response is its head: one HEADERS frame with END_STREAM.
      this.pendingHead = null;
      this.sendHead(head, true);
      return undefined;
    }
    this.flushPendingHead();
    return this.stream.finishResponse(trailers);
  }

  abort(): void {
    this.keepaliveAllowed = false;
    this.done = true;
    this.pendingHead = null;
    // RST_STREAM: the client sees the response fail, never end as if complete (RFC 9113 §8.1).
    if (!this.stream.closed) this.stream.reset(ErrorCode.INTERNAL_ERROR);
  }

  takeOver(): { socket: Socket; head: Buffer } {
    throw new SluiceError('InternalError', { context: 'an HTTP/2 stream cannot be taken over as a connection' });
  }

  bodyBytesSent(): number {
    return this.bytesSent;
  }

  clientAddr(): SocketAddress | undefined {
    return this.transport.digest.peerAddr;
  }

  serverAddr(): SocketAddress | undefined {
    return this.transport.digest.localAddr;
  }

  digest(): Digest {
    return this.transport.digest;
  }

  isHttp2(): boolean {
    return true;
  }

  override attachUpstream(upstream: UpstreamHandle | null): void {
    super.attachUpstream(upstream);
    if (upstream !== null && this.stream.closed && !this.done) this.clientLeft();
  }

  /** @internal The client reset the stream (or the connection ended): the upstream exchange is cancelled. */
  streamFailed(): void {
    this.clientLeft();
  }

  private sendHead(response: ResponseHeader, endStream: boolean): void {
    try {
      this.stream.writeResponseHeader(response, endStream);
    } catch (e) {
      throw SluiceError.because('WriteError', `sending the response head on stream ${this.stream.id}`, e).intoDown();
    }
  }
}

function flushHead(session: Http2Session): void {
  try {
    session.flushPendingHead();
  } catch {
    // the stream is gone; the engine's next write reports it
  }
}
