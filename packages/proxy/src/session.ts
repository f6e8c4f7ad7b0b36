import type { Socket } from 'node:net';
import { ResponseHeader, SluiceError } from '@sluice/core';
import type { Digest, HeaderMap, RequestHeader, SocketAddress } from '@sluice/core';
import type { PeerEndListener, ServerSession } from '@sluice/http1';

/**
 * One downstream request as the phases see it (Pingora's proxy `Session`): the request head, its
 * body, the response writer and facts about the connection. The same interface serves HTTP/1
 * ({@link Http1Session}) and HTTP/2 (`Http2Session`, one per request stream) downstream sessions.
 */
export interface Session {
  /** The request head as received; phases may rewrite it (the upstream request starts as its copy). */
  readonly request: RequestHeader;
  /** Whether the request has a body (RFC 9112 §6.3). */
  readonly hasRequestBody: boolean;
  /** Whether a response head was already sent downstream. */
  readonly responseWritten: boolean;
  /** The status of the final response head sent downstream (101 included), 0 before one was sent. */
  readonly responseStatus: number;
  /**
   * The next piece of request body, or null at its end. Bytes read here are not forwarded upstream:
   * a filter that reads the body answers the request itself or rewrites it.
   */
  readRequestBody(): Promise<Buffer | null>;
  /** Answers with `status` and an empty body (keeps the connection when the request allows it). */
  respondError(status: number): Promise<void>;
  /** Sends the response head (1xx heads may precede the final one). Returns a Promise only under backpressure. */
  writeResponseHeader(response: ResponseHeader): Promise<void> | undefined;
  /** Sends a piece of response body; `endOfStream` ends the response. Returns a Promise only under backpressure. */
  writeResponseBody(data: Buffer | null, endOfStream: boolean): Promise<void> | undefined;
  /** Ends the response with trailer fields (sent on a chunked HTTP/1.1 response, or as HTTP/2 trailers). */
  writeResponseTrailers(trailers: HeaderMap): Promise<void> | undefined;
  /** Request body bytes read from downstream so far. */
  bodyBytesRead(): number;
  /** Response body bytes sent downstream so far. */
  bodyBytesSent(): number;
  /** The client's address. */
  clientAddr(): SocketAddress | undefined;
  /** The address the client connected to. */
  serverAddr(): SocketAddress | undefined;
  /** Facts about the downstream connection (timings, TLS). */
  digest(): Digest;
  /** Whether the downstream speaks HTTP/2. */
  isHttp2(): boolean;
  /** Allows or forbids reusing the downstream connection after this request (default: as the client asked). */
  setKeepalive(enabled: boolean): void;
  /** Whether the connection may carry another request after this one, as far as the proxy knows now. */
  readonly keepalive: boolean;
}

/** The upstream side of an exchange in progress, as far as a downstream session may cancel it. */
export interface UpstreamHandle {
  /** Ends the upstream exchange at once (closes the connection or resets the stream); a pending read fails. */
  close(): void;
}

/**
 * Where lent body pieces go back (http1's sessions, see their retainBody): a lent piece views a
 * connection's own read buffer, which is not read into again until every piece of it was given back.
 */
export interface BodyLender {
  /** Whether `piece` is lent (a view of the connection's buffers) rather than a copy. */
  isLent(piece: Buffer): boolean;
  /** Gives a lent piece back once nothing refers to its bytes; copies are ignored. Each piece at most once. */
  releaseBody(piece: Buffer): void;
}

/**
 * What the proxy engine needs from a downstream session beyond {@link Session}. An HTTP/2 stream
 * implements the same methods, so the engine does not know which protocol it serves.
 */
export interface DownstreamSession extends Session {
  /** Whether the request asked for a protocol switch (Upgrade) or a tunnel (CONNECT). */
  readonly isUpgradeRequest: boolean;
  /** Next request body chunk for forwarding (counts into bodyBytesRead). */
  readBodyChunk(): Promise<Buffer | null>;
  /** The request trailers, once the body was read to its end. */
  readonly requestTrailers: HeaderMap | null;
  /** Whether the whole request body has been read. */
  readonly requestBodyDone: boolean;
  /**
   * Holds the next writes back until the current tick ends, so a response head and a body that is
   * already here leave in one write (one syscall) instead of two.
   */
  corkResponse(): void;
  /** Ends the response (with optional trailers). */
  finishResponse(trailers: HeaderMap | null): Promise<void> | undefined;
  /**
   * Sends a whole final response, its head and complete body (framed by the head's Content-Length),
   * at once: a small one in one write. Optional; without it, head, body and end are sent one by one.
   */
  writeWholeResponse?(response: ResponseHeader, body: Buffer): Promise<void> | undefined;
  /**
   * Undefined when every byte written so far was handed to the operating system (the Buffers written
   * are free to reuse), else a Promise settled once they were. Optional: where it is missing, body
   * pieces are copied rather than lent from the upstream connection's buffers.
   */
  flushed?(): Promise<void> | undefined;
  /**
   * Lends the rest of the request body: from now on the pieces `readBodyChunk` returns view the
   * connection's own read buffers instead of being copied out of its shared one, and each must be
   * given back to the returned lender once nothing refers to its bytes. Undefined when pieces stay
   * copies (only HTTP/1 over a plain socket lends). Optional.
   */
  lendRequestBody?(): BodyLender | undefined;
  /** Ends the downstream connection at once: the client sees an incomplete message, never a complete one. */
  abort(): void;
  /** Hands the connection over after a 101 or a CONNECT 2xx. */
  takeOver(): { socket: Socket; head: Buffer };
  /**
   * Names the upstream exchange in progress (null when it is over), so a client that goes away
   * (an HTTP/1 connection closed, an HTTP/2 stream reset) cancels it at once. Optional: a session
   * without it notices a gone client when it writes.
   */
  attachUpstream?(upstream: UpstreamHandle | null): void;
  /** True once the client is known to be gone; failures then are not retried. */
  readonly clientGone?: boolean;
  /** The proxy observer's state for this request (what its `requestStarted` returned). */
  observation?: unknown;
}

/**
 * What every downstream session keeps track of, whatever its protocol: whether the response head went
 * out and the response ended, whether the request body was read to its end (and how much of it), the
 * keep-alive wish, and the upstream exchange that a client leaving cancels. A subclass reads body
 * pieces from its protocol ({@link DownstreamSessionBase.nextBodyPiece}) and writes the response.
 */
export abstract class DownstreamSessionBase {
  readonly request: RequestHeader;
  /** The status of the final response head sent (0 before one). */
  responseStatus = 0;
  /** The proxy observer's state for this request. */
  observation: unknown = undefined;
  protected headSent = false;
  protected done = false;
  protected bodyDone: boolean;
  protected keepaliveAllowed = true;
  protected bytesRead = 0;
  private upstream: UpstreamHandle | null = null;
  private gone = false;

  protected constructor(request: RequestHeader, hasBody: boolean) {
    this.request = request;
    this.bodyDone = !hasBody;
  }

  /** The next body piece from the protocol, or null at the end. */
  protected abstract nextBodyPiece(): Promise<Buffer | null>;

  /** A body read failure, typed as the client's. */
  protected abstract bodyReadError(e: unknown): SluiceError;

  get responseWritten(): boolean {
    return this.headSent;
  }

  /** Whether the response was finished. */
  get responseDone(): boolean {
    return this.done;
  }

  get requestBodyDone(): boolean {
    return this.bodyDone;
  }

  get keepalive(): boolean {
    return this.keepaliveAllowed;
  }

  setKeepalive(enabled: boolean): void {
    this.keepaliveAllowed = enabled;
  }

  readRequestBody(): Promise<Buffer | null> {
    return this.readBodyChunk();
  }

  async readBodyChunk(): Promise<Buffer | null> {
    if (this.bodyDone) return null;
    let chunk: Buffer | null;
    try {
      chunk = await this.nextBodyPiece();
    } catch (e) {
      this.keepaliveAllowed = false;
      throw this.bodyReadError(e);
    }
    if (chunk === null) this.bodyDone = true;
    else this.bytesRead += chunk.length;
    return chunk;
  }

  bodyBytesRead(): number {
    return this.bytesRead;
  }

  attachUpstream(upstream: UpstreamHandle | null): void {
    this.upstream = upstream;
  }

  get clientGone(): boolean {
    return this.gone;
  }

  /** The client left (closed its connection, reset its stream): the upstream exchange in progress is cancelled. */
  protected clientLeft(): void {
    this.keepaliveAllowed = false;
    const upstream = this.upstream;
    this.upstream = null;
    if (this.done) return;
    this.gone = true;
    upstream?.close();
  }
}

/** The downstream session over an HTTP/1 connection. */
export class Http1Session extends DownstreamSessionBase implements DownstreamSession, PeerEndListener {
  private readonly server: ServerSession;

  constructor(server: ServerSession, request: RequestHeader) {
    super(request, server.hasBody);
    this.server = server;
  }

  /** The underlying HTTP/1 server session. */
  get serverSession(): ServerSession {
    return this.server;
  }

  get hasRequestBody(): boolean {
    return this.server.hasBody;
  }

  get isUpgradeRequest(): boolean {
    return this.server.isUpgrade;
  }

  get requestTrailers(): HeaderMap | null {
    return this.server.trailers;
  }

  protected nextBodyPiece(): Promise<Buffer | null> {
    return this.server.readBodyChunk();
  }

  protected bodyReadError(e: unknown): SluiceError {
    return e instanceof SluiceError ? e.intoDown() : SluiceError.because('ReadError', 'reading the request body', e).intoDown();
  }

  async respondError(status: number): Promise<void> {
    if (this.headSent) return;
    // http1 may have answered a malformed request body itself and closed; nothing more goes out then.
    if (this.server.stream.socket.writableEnded || this.server.stream.socket.destroyed) {
      this.headSent = this.done = true;
      this.keepaliveAllowed = false;
      return;
    }
    const res = ResponseHeader.build(status);
    res.headers.appendUnchecked('Content-Length', '0');
    if (!this.keepaliveAllowed) res.headers.appendUnchecked('Connection', 'close');
    this.headSent = this.done = true;
    this.responseStatus = status;
    try {
      await this.server.respond(res);
    } catch {
      // the client is gone; there is no one to tell
      this.keepaliveAllowed = false;
    }
  }

  writeResponseHeader(response: ResponseHeader): Promise<void> | undefined {
    if (response.status < 200 && response.status !== 101) return this.server.writeResponseHeader(response);
    if (this.headSent) throw new SluiceError('InternalError', { context: 'response head written twice' });
    if (!this.keepaliveAllowed && response.status !== 101) response.headers.set('Connection', 'close');
    this.headSent = true;
    this.responseStatus = response.status;
    return this.server.writeResponseHeader(response);
  }

  writeResponseBody(data: Buffer | null, endOfStream: boolean): Promise<void> | undefined {
    const r = data !== null && data.length > 0 ? this.server.writeBody(data) : undefined;
    if (!endOfStream) return r;
    if (r !== undefined) return r.then(() => this.finishResponse(null));
    return this.finishResponse(null);
  }

  writeResponseTrailers(trailers: HeaderMap): Promise<void> | undefined {
    return this.finishResponse(trailers);
  }

  corkResponse(): void {
    const socket = this.server.stream.socket;
    if (socket.writableCorked > 0 || socket.destroyed) return;
    socket.cork();
    process.nextTick(uncork, socket);
  }

  flushed(): Promise<void> | undefined {
    return this.server.flushed();
  }

  lendRequestBody(): BodyLender | undefined {
    return this.server.retainBody() ? this.server : undefined;
  }

  writeWholeResponse(response: ResponseHeader, body: Buffer): Promise<void> | undefined {
    if (this.headSent) throw new SluiceError('InternalError', { context: 'response head written twice' });
    if (!this.keepaliveAllowed) response.headers.set('Connection', 'close');
    this.headSent = this.done = true;
    this.responseStatus = response.status;
    return this.server.respond(response, body);
  }

  finishResponse(trailers: HeaderMap | null): Promise<void> | undefined {
    if (this.done) return undefined;
    this.done = true;
    return this.server.finishResponse(trailers);
  }

  abort(): void {
    this.keepaliveAllowed = false;
    this.done = true;
    this.server.stream.destroy();
  }

  takeOver(): { socket: Socket; head: Buffer } {
    this.keepaliveAllowed = false;
    return this.server.takeOver();
  }

  /**
   * While an upstream exchange is attached, the client closing or breaking its connection ends it at
   * once: nginx likewise checks for a broken client connection while it waits for the upstream
   * (`proxy_ignore_client_abort off`), and Pingora reads the idle downstream for the same reason.
   */
  override attachUpstream(upstream: UpstreamHandle | null): void {
    super.attachUpstream(upstream);
    this.server.watchClientGone(upstream === null ? null : this);
  }

  /** @internal The client closed or broke the connection while an upstream exchange was attached. */
  peerEnded(): void {
    this.clientLeft();
  }

  bodyBytesSent(): number {
    return this.server.bodyBytesSent();
  }

  clientAddr(): SocketAddress | undefined {
    return this.server.stream.digest.peerAddr;
  }

  serverAddr(): SocketAddress | undefined {
    return this.server.stream.digest.localAddr;
  }

  digest(): Digest {
    return this.server.stream.digest;
  }

  isHttp2(): boolean {
    return false;
  }
}

function uncork(socket: Socket): void {
  socket.uncork();
}
