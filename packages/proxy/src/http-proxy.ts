import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpPeer, SluiceError, TransportConnector, defaultLogger, formatAddress, reportError, toSluiceError } from '@sluice/core';
import type { Digest, ErrorReporter, HeaderMap, Logger, RequestHeader, ServerApp, Stream, ResponseHeader } from '@sluice/core';
import { ClientSession, ServerSession } from '@sluice/http1';
import type { RequestHandler, ServerSessionOptions } from '@sluice/http1';
import { Http2Connector } from '@sluice/http2';
import type { Http2ClientSession, Http2ClientStream, Http2ServerOptions, Http2ServerSession, Http2ServerStream } from '@sluice/http2';
import { clientGoneWhileConnecting, connectWhileClientStays, hasClientLeft } from './connect-wait.js';
import { defaultFailStatus } from './fail-status.js';
import { connectionHas, removeHopByHop } from './hop-by-hop.js';
import { Http2Session, ProxyHttp2ServerSession } from './http2-session.js';
import { Http2Upstream } from './http2-upstream.js';
import type { ProxyObserver } from './observer.js';
import type { BodyChunk, ProxyHttp } from './proxy-http.js';
import { ProxyCache, SERVED_FROM_CACHE, type CacheFill } from './proxy-cache.js';
import { DEFAULT_RETRY_BUFFER_BYTES, RetryBuffer } from './retry-buffer.js';
import { Http1Session, type BodyLender, type DownstreamSession, type UpstreamHandle } from './session.js';
import { tunnel } from './tunnel.js';
import { ignore, isThenable } from './thenable.js';
import { downstreamWrite } from './downstream-write.js';

const RESPONSE_WRITE = 'writing the response downstream';

/** Options of {@link HttpProxy}; every one has a safe default. */
export interface HttpProxyOptions {
  /** How many times one request may be sent again (Pingora's `max_retries`, default 16). */
  maxRetries?: number;
  /** Upstream connector and pool (default: a new one with 128 idle connections). */
  connector?: TransportConnector;
  /** Requests served on one downstream connection before it is closed (default 1000). */
  keepaliveRequestLimit?: number;
  /** Forward CONNECT requests to the upstream peer (default false: answered 405). */
  allowConnect?: boolean;
  /** Adds `Via: <received protocol> <via>` both ways (`1.1 name`, `2 name`; RFC 9110 §7.6.3) when set (default: no Via). */
  via?: string;
  /** Request-body bytes kept so a failed request can be retried (default 65536). */
  retryBufferBytes?: number;
  /** Downstream HTTP/1 limits and timeouts (header/body timeouts, head sizes). */
  downstream?: ServerSessionOptions;
  /**
   * On a graceful shutdown, how long an HTTP/1 connection waiting for its next request stays open: a
   * request that arrives meanwhile is answered with `Connection: close`, then the rest are closed
   * (default 1000 ms; 0 closes them at once, as nginx does, failing requests already on the wire).
   */
  shutdownIdleLingerMs?: number;
  /** Where proxy errors are logged (default: stderr). */
  logger?: Logger;
  /**
   * Serve HTTP/2 with prior knowledge (h2c) on cleartext endpoints beside HTTP/1.1: a connection whose
   * first bytes are the HTTP/2 preface is served as HTTP/2 (default false).
   */
  h2c?: boolean;
  /** Downstream HTTP/2 limits (streams, windows, flood budgets); @sluice/http2's defaults. */
  http2?: Http2ServerOptions;
  /** Upstream HTTP/2 connections, shared by `reuseHash()` (default: a new one connecting through `connector`). */
  http2Connector?: Http2Connector;
  /**
   * Told about connections, streams, requests, upstream connects and TLS handshakes, for built-in
   * metrics, access logs and traces (e.g. @sluice/observability's `ProxyObservability`). Default none.
   */
  observe?: ProxyObserver;
  /**
   * Called for unexpected errors: a phase that crashed (an `InternalError`, not an upstream or client
   * failure), `newCtx`, `failToProxy` or `logging` throwing. Default: the server's `errorReporter`.
   */
  errorReporter?: ErrorReporter;
}

/** The HTTP/2 connection preface (RFC 9113 §3.4); a cleartext connection starting with it speaks h2c. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** How many first bytes tell the preface from an HTTP/1 request line ("PRI" is no HTTP/1 method in use). */
const PREFACE_SNIFF = 3;

/** Whether the first bytes of a connection are (the start of) the HTTP/2 preface. */
function startsWithPreface(chunk: Buffer): boolean {
  const n = Math.min(chunk.length, H2_PREFACE.length);
  return chunk.compare(H2_PREFACE, 0, n, 0, n) === 0;
}

/**
 * What the engine needs from one upstream exchange, over HTTP/1 (http1's `ClientSession`) or HTTP/2
 * ({@link Http2Upstream}).
 */
interface UpstreamExchange {
  /** The next response head as it arrives, 1xx included. */
  readResponseHead(): Promise<ResponseHeader>;
  readonly trailers: HeaderMap | null;
  writeBody(chunk: Buffer): Promise<void> | undefined;
  finishBody(trailers: HeaderMap | null): Promise<void> | undefined;
  readBodyChunk(): Promise<Buffer | null>;
  /** The next body piece if it is here (null at the end), undefined when it must be awaited. */
  pollBodyChunk?(): Buffer | null | undefined;
  /** The whole body when all of it is here in one piece, else undefined (see http1's ClientSession). */
  takeWholeBody?(): Buffer | undefined;
  bodyBytesRead(): number;
  /**
   * Undefined when every byte written so far is with the operating system, else a Promise settled
   * once it is (see http1's sessions). Without it, lent request-body pieces are sent as copies.
   */
  flushed?(): Promise<void> | undefined;
  close(): void;
}

/** Remembered peers that offered h2h1 and chose HTTP/1.1, bounded so many peers cannot grow it. */
const MAX_H1_PEERS = 4096;

/**
 * A 101 to a request that named no protocol in Upgrade (RFC 9110 §15.2.2: a server must not switch
 * to one the client did not ask for) or to a CONNECT (which a 2xx answers), or any 101 over HTTP/2
 * (RFC 9113 §8.6): a broken response, answered 502 rather than turned into a tunnel.
 */
function unsolicitedSwitch(): SluiceError {
  return new SluiceError('InvalidHTTPHeader', { code: 'ERR_PROXY_UNSOLICITED_101', context: 'the upstream answered 101 Switching Protocols to a request that asked for no protocol switch' }).intoUp();
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/** What one upstream exchange ended with. */
/**
 * A downstream HTTP/1 connection that leaves the proxy's set of idle connections when it closes (a
 * connection serve() finished with is closed, or was taken over while busy and so not idle): no
 * Promise waits for the end of serve() to remove it.
 */
class DownstreamServerSession extends ServerSession {
  private readonly idle: Set<ServerSession>;

  constructor(stream: Stream, options: ServerSessionOptions, idle: Set<ServerSession>) {
    super(stream, options);
    this.idle = idle;
  }

  override close(): void {
    this.idle.delete(this);
    super.close();
  }
}

const DONE = 0;
const UPGRADED = 1;

/**
 * The request-body sender of one request, shared by its attempts: it runs beside the response reader,
 * and a retry waits for the previous attempt's sender to stop before replaying.
 */
interface BodySend {
  running: Promise<void> | undefined;
  /** Ends the current attempt's upstream exchange when the client goes away. */
  upstream: UpstreamHandle | undefined;
  done: boolean;
  cancelled: boolean;
  failure: SluiceError | undefined;
  readonly retryBuffer: RetryBuffer;
  /** Where lent request-body pieces go back (see lendsRequestBodies); null once found not to lend. */
  lender: BodyLender | null | undefined;
}

/**
 * The HTTP proxy application (Pingora's `HttpProxy`): a core {@link ServerApp} that serves each
 * downstream connection and runs every request through the {@link ProxyHttp} phases, forwarding it to
 * the peer `upstreamPeer` picks over pooled connections, with retries, failover and streaming bodies.
 */
export class HttpProxy<Ctx> implements ServerApp {
  readonly proxy: ProxyHttp<Ctx>;
  readonly connector: TransportConnector;
  readonly maxRetries: number;
  readonly allowConnect: boolean;
  private readonly via: string | undefined;
  private readonly retryBufferBytes: number;
  private readonly downstreamOptions: ServerSessionOptions;
  private readonly logger: Logger;
  private readonly idle = new Set<ServerSession>();
  private readonly shutdownIdleLingerMs: number;
  /** Shutdown signals whose idle linger is over: HTTP/1 connections close instead of waiting. */
  private readonly lingerOver = new WeakSet<AbortSignal>();
  private readonly watched = new WeakSet<AbortSignal>();
  private readonly clients = new WeakMap<Stream, { client: ClientSession; timeoutMs: number | undefined }>();
  private readonly http1Handlers = new WeakMap<AbortSignal, RequestHandler>();
  /** Upstream HTTP/2 connections. */
  readonly http2: Http2Connector;
  private readonly h2c: boolean;
  private readonly http2Options: Http2ServerOptions;
  private readonly h1Peers = new Set<string>();
  private readonly http2Sessions = new Set<Http2ServerSession>();
  /** The cache phases, when the proxy implements `requestCacheFilter`. */
  private readonly cache: ProxyCache<Ctx> | undefined;
  /**
   * Response bodies no phase or cache sees are lent from the upstream connection's read buffers
   * (http1's ClientSession.retainBody): no copy, no allocation per read.
   */
  private readonly lendsBodies: boolean;
  /**
   * Request bodies are lent rather than copied out of the downstream connection's shared read buffer
   * (an upload passes through without a copy, as a large response does): when no requestBodyFilter
   * may keep or replace the pieces.
   */
  private readonly lendsRequestBodies: boolean;
  /** Whether runPhases has anything to run before the upstream (see processRequest). */
  private readonly hasRequestPhases: boolean;
  private readonly observer: ProxyObserver | undefined;
  private errorReporter: ErrorReporter | undefined;

  constructor(proxy: ProxyHttp<Ctx>, options: HttpProxyOptions = {}) {
    this.proxy = proxy;
    this.connector = options.connector ?? new TransportConnector();
    this.maxRetries = options.maxRetries ?? 16;
    this.allowConnect = options.allowConnect ?? false;
    this.via = options.via;
    this.retryBufferBytes = options.retryBufferBytes ?? DEFAULT_RETRY_BUFFER_BYTES;
    this.downstreamOptions = { ...options.downstream };
    if (options.keepaliveRequestLimit !== undefined) this.downstreamOptions.maxRequestsPerConnection = options.keepaliveRequestLimit;
    this.logger = options.logger ?? defaultLogger();
    this.shutdownIdleLingerMs = options.shutdownIdleLingerMs ?? 1000;
    this.h2c = options.h2c ?? false;
    this.http2Options = { ...options.http2 };
    this.observer = options.observe;
    this.errorReporter = options.errorReporter;
    const connector = this.connector;
    this.http2 = options.http2Connector ?? new Http2Connector({ ...options.http2, connect: (peer) => connector.newStream(peer) });
    this.cache = proxy.requestCacheFilter !== undefined ? new ProxyCache(proxy, this) : undefined;
    this.lendsBodies = this.cache === undefined && proxy.upstreamResponseBodyFilter === undefined && proxy.responseBodyFilter === undefined;
    this.lendsRequestBodies = proxy.requestBodyFilter === undefined;
    this.hasRequestPhases = proxy.earlyRequestFilter !== undefined || proxy.requestFilter !== undefined || proxy.proxyUpstreamFilter !== undefined || this.cache !== undefined;
    if (!Number.isFinite(this.shutdownIdleLingerMs) || this.shutdownIdleLingerMs < 0) {
      throw new SluiceError('ConfigError', { code: 'ERR_PROXY_INVALID_SHUTDOWN_IDLE_LINGER', context: `shutdownIdleLingerMs must be a number >= 0, got ${this.shutdownIdleLingerMs}` });
    }
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) {
      throw new SluiceError('ConfigError', { code: 'ERR_PROXY_INVALID_MAX_RETRIES', context: `maxRetries must be an integer >= 0, got ${this.maxRetries}` });
    }
  }

  /** Serves one downstream connection (see {@link HttpProxy.serveConnection}), telling the observer. */
  processNewConnection(stream: Stream, shutdown: AbortSignal): Promise<void> | void {
    if (this.observer !== undefined) return this.observeConnection(this.observer, stream, shutdown);
    // No async frame here, and for HTTP/1 no Promise for the listening service to wait on: serve()
    // never rejects and closes the connection itself, and a reaction held per idle keep-alive
    // connection would cost ~300 bytes of heap.
    return this.serveConnection(stream, shutdown, false);
  }

  private async observeConnection(observer: ProxyObserver, stream: Stream, shutdown: AbortSignal): Promise<void> {
    if ((stream.socket as TLSSocket).encrypted === true) observer.tlsHandshake?.('downstream', undefined);
    observer.connectionOpened?.(stream.digest);
    try {
      await this.serveConnection(stream, shutdown, true);
    } finally {
      observer.connectionClosed?.(stream.digest);
    }
  }

  /** A TLS handshake on a downstream endpoint failed (core's listening service tells). */
  tlsHandshakeFailed(error: SluiceError): void {
    this.observer?.tlsHandshake?.('downstream', error);
  }

  /** Takes the server's error reporter unless {@link HttpProxyOptions.errorReporter} was given. */
  inheritErrorReporter(reporter: ErrorReporter): void {
    this.errorReporter ??= reporter;
  }

  /**
   * Serves one downstream connection: HTTP/2 when TLS's ALPN chose h2, or (with `h2c`) when a cleartext
   * connection opens with the HTTP/2 preface; HTTP/1 otherwise.
   */
  private serveConnection(stream: Stream, shutdown: AbortSignal, untilClosed: boolean): Promise<void> | undefined {
    if (!this.watched.has(shutdown)) {
      // One listener per signal, not per connection: on a graceful shutdown, HTTP/2 connections send
      // the two-step GOAWAY and finish the streams in progress. HTTP/1 has no GOAWAY: a connection
      // waiting for its next request may have one on the wire already (a keep-alive client, or a new
      // connection not yet read), so it gets the linger to send it, answered with Connection: close,
      // before it is closed (Pingora likewise serves the next request without keep-alive).
      this.watched.add(shutdown);
      shutdown.addEventListener('abort', () => {
        for (const session of this.http2Sessions) session.shutdown();
        const closeIdle = () => {
          this.lingerOver.add(shutdown);
          for (const server of this.idle) server.close();
          this.idle.clear();
        };
        if (this.shutdownIdleLingerMs > 0) setTimeout(closeIdle, this.shutdownIdleLingerMs).unref();
        else closeIdle();
      }, { once: true });
    }
    const socket = stream.socket as TLSSocket;
    if (socket.encrypted === true) {
      if (socket.alpnProtocol === 'h2') return this.serveHttp2(stream, shutdown);
    } else if (this.h2c) return this.serveCleartext(stream, shutdown);
    return this.serveHttp1(stream, shutdown, untilClosed);
  }

  /** With h2c: HTTP/2 when the connection opens with its preface, HTTP/1 otherwise. */
  private async serveCleartext(stream: Stream, shutdown: AbortSignal): Promise<void> {
    const first = await this.firstBytes(stream);
    if (first === null) return;
    stream.unread(first);
    if (first.length >= PREFACE_SNIFF && startsWithPreface(first)) return this.serveHttp2(stream, shutdown);
    return this.serveHttp1(stream, shutdown, true);
  }

  /**
   * The first bytes of a cleartext connection (at least 3 unless they already differ from the
   * preface), within the header timeout; null when it closed or said nothing.
   */
  private async firstBytes(stream: Stream): Promise<Buffer | null> {
    const timer = setTimeout(() => stream.destroy(), this.downstreamOptions.headerTimeoutMs ?? 60_000);
    try {
      let first = await stream.read();
      while (first !== null && first.length < PREFACE_SNIFF && startsWithPreface(first)) {
        const more = await stream.read();
        if (more === null) break;
        first = Buffer.concat([first, more]);
      }
      return first;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Serves one HTTP/2 connection: each request stream runs through the phases as an {@link Http2Session}. */
  private async serveHttp2(stream: Stream, shutdown: AbortSignal): Promise<void> {
    const session = new ProxyHttp2ServerSession(stream, (h2: Http2ServerStream) => this.processHttp2Stream(h2, stream), this.http2Options);
    this.http2Sessions.add(session);
    try {
      const closed = session.start();
      if (shutdown.aborted) session.shutdown();
      await closed;
    } finally {
      this.http2Sessions.delete(session);
    }
  }

  private async processHttp2Stream(h2: Http2ServerStream, transport: Stream): Promise<void> {
    const observer = this.observer;
    if (observer === undefined) {
      await this.processRequest(new Http2Session(h2, transport));
      return;
    }
    observer.http2StreamOpened?.();
    try {
      await this.processRequest(new Http2Session(h2, transport));
    } finally {
      observer.http2StreamClosed?.();
    }
  }

  /**
   * Serves one downstream HTTP/1 connection until it closes, is upgraded, or the server shuts down.
   * Between requests it waits in ServerSession.serve (a reader callback, no Promise per wait) and keeps
   * no reference to the last request. Returns the end of serve() when `untilClosed` (serve() never
   * rejects: a failure it meets is answered, one thrown at its start reaches the caller at once).
   */
  private serveHttp1(stream: Stream, shutdown: AbortSignal, untilClosed: boolean): Promise<void> | undefined {
    const server = new DownstreamServerSession(stream, this.downstreamOptions, this.idle);
    if (this.lingerOver.has(shutdown)) {
      server.close();
      return undefined;
    }
    this.idle.add(server);
    const served = server.serve(this.http1Handler(shutdown));
    return untilClosed ? served : undefined;
  }

  /** What serveHttp1 runs for each request: one handler per shutdown signal, not per connection. */
  private http1Handler(shutdown: AbortSignal): RequestHandler {
    let handler = this.http1Handlers.get(shutdown);
    if (handler === undefined) {
      handler = (server, request) => this.serveHttp1Request(server, request, shutdown);
      this.http1Handlers.set(shutdown, handler);
    }
    return handler;
  }

  /**
   * One request of a downstream HTTP/1 connection. When it returns without closing the connection,
   * ServerSession.serve reuses it (drains what is left of the request body) and waits for the next.
   */
  private async serveHttp1Request(server: ServerSession, request: RequestHeader, shutdown: AbortSignal): Promise<void> {
    this.idle.delete(server);
    const session = new Http1Session(server, request);
    if (shutdown.aborted) session.setKeepalive(false);
    // An upgraded connection was taken over: serve() sees it closed and stops.
    if ((await this.processRequest(session)) === UPGRADED) return;
    if (!session.keepalive || !session.responseDone || this.lingerOver.has(shutdown)) return server.close();
    this.idle.add(server);
  }

  /** Closes the idle upstream connections when the service stops. */
  cleanup(): void {
    this.connector.pool.clear();
    this.http2.close();
  }

  /** Whether `peer` is spoken to over HTTP/2: ALPN 'h2' (h2c prior knowledge in cleartext), or 'h2h1' over TLS until it chose HTTP/1.1. */
  private speaksHttp2(peer: HttpPeer): boolean {
    const alpn = peer.options.alpn;
    if (alpn === 'h2') return true;
    return alpn === 'h2h1' && peer.tls && (this.h1Peers.size === 0 || !this.h1Peers.has(peer.reuseHash()));
  }

  /**
   * Runs one request through every phase. Never throws: a failure is answered (`failToProxy`),
   * logged (unless `suppressErrorLog`), and handed to `logging`.
   */
  async processRequest(session: DownstreamSession): Promise<number> {
    const proxy = this.proxy;
    const observer = this.observer;
    let started = 0;
    if (observer !== undefined) {
      started = performance.now();
      if (observer.requestStarted) session.observation = observer.requestStarted(session);
    }
    let ctx: Ctx;
    try {
      ctx = proxy.newCtx();
    } catch (e) {
      // No ctx, so no phase can run: answer 500 and say why.
      this.logger.error(`proxy: newCtx failed for ${defaultSummary(session)}`, e);
      this.report(e, 'proxy newCtx', session, undefined);
      session.setKeepalive(false);
      await session.respondError(500);
      if (observer !== undefined) observer.requestDone?.(session, toSluiceError(e, 'InternalError', 'newCtx failed', { source: 'Internal' }), performance.now() - started, session.observation);
      return DONE;
    }
    let error: SluiceError | undefined;
    let outcome = DONE;
    try {
      // Without request phases to run, straight to the upstream: one async frame fewer held per request.
      outcome = this.hasRequestPhases || session.request.method === 'CONNECT' ? await this.runPhases(session, ctx) : await this.proxyToUpstream(session, ctx);
    } catch (e) {
      error = toSluiceError(e, 'InternalError', 'proxying a request');
      if (error.source === 'Unset') error.source = 'Internal';
      if (this.cache === undefined || !(await this.cache.serveStaleOnError(session, ctx, error))) await this.fail(session, ctx, error);
      // A crash of the proxy or a phase, not a failing client or upstream, nor a status a phase chose.
      if (error.source === 'Internal' && error.type !== 'HTTPStatus') this.report(error, 'proxy phase', session, ctx);
    }
    if (this.cache !== undefined) this.cache.finish(session);
    if (proxy.logging) {
      try {
        const r = proxy.logging(session, error, ctx);
        if (isThenable(r)) await r;
      } catch (e) {
        this.logger.error('proxy: the logging phase failed', e);
        this.report(e, 'proxy logging', session, ctx);
      }
    }
    if (observer !== undefined) observer.requestDone?.(session, error, performance.now() - started, session.observation);
    return outcome;
  }

  private async runPhases(session: DownstreamSession, ctx: Ctx): Promise<number> {
    const proxy = this.proxy;
    if (proxy.earlyRequestFilter) {
      const r = proxy.earlyRequestFilter(session, ctx);
      if (isThenable(r)) await r;
    }
    if (proxy.requestFilter) {
      let handled = proxy.requestFilter(session, ctx);
      if (isThenable(handled)) handled = await handled;
      if (handled === true) {
        if (!session.responseWritten) throw new SluiceError('InternalError', { context: 'requestFilter returned true but wrote no response' });
        const r = session.finishResponse(null);
        if (r) await r;
        return DONE;
      }
    }
    if (session.request.method === 'CONNECT' && !this.allowConnect) {
      session.setKeepalive(false);
      await session.respondError(405);
      return DONE;
    }
    if (this.cache !== undefined) {
      let served = this.cache.start(session, ctx);
      if (isThenable(served)) served = await served;
      if (served) return DONE;
    }
    if (proxy.proxyUpstreamFilter) {
      let go = proxy.proxyUpstreamFilter(session, ctx);
      if (isThenable(go)) go = await go;
      if (go === false) {
        if (!session.responseWritten) await session.respondError(502);
        else {
          const r = session.finishResponse(null);
          if (r) await r;
        }
        return DONE;
      }
    }
    // Awaited rather than returned: an async function resolving with a Promise costs two more ticks.
    return await this.proxyToUpstream(session, ctx);
  }

  /** Picks a peer, connects, exchanges; retries as the errors' retry marks allow, up to `maxRetries`. */
  private async proxyToUpstream(session: DownstreamSession, ctx: Ctx): Promise<number> {
    const proxy = this.proxy;
    const send: BodySend | undefined = session.hasRequestBody
      ? { running: undefined, upstream: undefined, done: false, cancelled: false, failure: undefined, retryBuffer: new RetryBuffer(this.retryBufferBytes), lender: undefined }
      : undefined;
    const observer = this.observer;
    let retries = 0;
    let fresh = false;
    // An 'h2h1' peer whose ALPN chose HTTP/1.1: the same attempt goes on with it, not picked again.
    let sameAttempt: HttpPeer | undefined;
    for (;;) {
      let peer: HttpPeer;
      if (sameAttempt !== undefined) {
        peer = sameAttempt;
        sameAttempt = undefined;
      } else {
        const picked = proxy.upstreamPeer(session, ctx);
        peer = isThenable(picked) ? await picked : picked;
      }
      let h2 = this.speaksHttp2(peer);
      if (h2 && session.isUpgradeRequest) {
        peer = upgradablePeer(peer);
        h2 = false;
      }
      let stream: Stream | undefined;
      let h2Session: Http2ClientSession | undefined;
      let digest: Digest;
      let reused = false;
      // For the observer's failed-connect time; read only when a connect follows (clock reads cost).
      let connectStarted = 0;
      // An HTTP/2 client may have reset its stream (or closed) while the peer was chosen: no connect for it.
      if (hasClientLeft(session)) throw clientGoneWhileConnecting();
      try {
        if (h2) {
          // Reused only when an open connection has a free stream now: one opened because every open
          // one is at its stream limit is new (no retry-once treatment, and the client-gone wait).
          h2Session = this.http2.reusedSession(peer);
          reused = h2Session !== undefined;
          if (h2Session === undefined) {
            if (observer !== undefined) connectStarted = performance.now();
            // A shared connection: a client gone meanwhile only stops waiting for it.
            h2Session = await connectWhileClientStays(session, this.http2.session(peer));
          }
          digest = h2Session.connection.transport.digest;
        } else {
          // The pool is asked synchronously: a reused connection costs no Promise.
          const pooled = fresh ? undefined : this.connector.reusedStream(peer);
          reused = pooled !== undefined;
          if (!reused && observer !== undefined) connectStarted = performance.now();
          if (pooled !== undefined) stream = pooled;
          else {
            // This connect is the request's own: a client that leaves abandons it.
            const attempt = new AbortController();
            stream = await connectWhileClientStays(session, this.connector.newStream(peer, attempt.signal), closeUnused, attempt);
          }
          digest = stream.digest;
        }
      } catch (e) {
        if (h2 && e instanceof SluiceError && e.type === 'InvalidH2' && peer.options.alpn === 'h2h1') {
          // ALPN chose HTTP/1.1: remembered, and this attempt goes on over HTTP/1.1 (not a retry).
          if (this.h1Peers.size >= MAX_H1_PEERS) this.h1Peers.clear();
          this.h1Peers.add(peer.reuseHash());
          sameAttempt = peer;
          continue;
        }
        // The client left while the connection opened: nothing to answer, nor to retry for.
        if (session.clientGone === true) throw e instanceof SluiceError && e.source === 'Downstream' ? e : SluiceError.because('ConnectionClosed', 'the client went away while the upstream connection opened', e).intoDown();
        let error = toSluiceError(e, 'ConnectError', `connecting to ${peer}`).intoUp();
        if (observer !== undefined) observeConnectFailure(observer, session, peer, error, connectStarted === 0 ? 0 : performance.now() - connectStarted);
        if (proxy.failToConnect) error = proxy.failToConnect(session, peer, ctx, error);
        if (error.retryable(false) && retries < this.maxRetries) {
          retries++;
          continue;
        }
        throw error;
      }
      fresh = false;
      if (observer !== undefined) observeConnected(observer, session, peer, reused, digest);
      try {
        if (proxy.connectedToUpstream) {
          const r = proxy.connectedToUpstream(session, reused, peer, digest, ctx);
          if (isThenable(r)) await r;
        }
      } catch (e) {
        stream?.destroy();
        throw e;
      }
      try {
        const outcome = h2Session !== undefined ? await this.exchangeHttp2(session, ctx, peer, h2Session, reused, send) : await this.exchange(session, ctx, peer, stream!, reused, send);
        if (observer !== undefined) observer.upstreamDone?.(session, undefined, session.observation);
        return outcome;
      } catch (e) {
        let error = toSluiceError(e, 'InternalError', `proxying to ${peer}`);
        if (observer !== undefined) observer.upstreamDone?.(session, error, session.observation);
        // The client reset its stream and the exchange was cancelled for it: nothing to retry for.
        if (session.clientGone === true) throw SluiceError.because('ConnectionClosed', 'the client went away during the exchange', error).intoDown();
        if (proxy.errorWhileProxy) error = proxy.errorWhileProxy(peer, session, error, ctx, reused);
        const replayable = send === undefined || send.retryBuffer.replayable;
        if (!session.responseWritten && replayable && error.retryable(reused) && retries < this.maxRetries) {
          retries++;
          // A reused connection may simply have been closed by the peer: the retry takes a new one
          // (an HTTP/2 connection that failed or sent GOAWAY has already left the shared set).
          if (reused && !h2) fresh = true;
          continue;
        }
        throw error;
      }
    }
  }

  /** One request and its response over `stream`. */
  private async exchange(session: DownstreamSession, ctx: Ctx, peer: HttpPeer, stream: Stream, reused: boolean, send: BodySend | undefined): Promise<number> {
    const timeoutMs = peer.options.readTimeoutMs;
    // A pooled connection keeps its client session (parser and listeners) from its last exchange.
    let pooled = this.clients.get(stream);
    if (pooled === undefined || pooled.timeoutMs !== timeoutMs) {
      if (pooled !== undefined) pooled.client.takeOver();
      pooled = { client: new ClientSession(stream, { readTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs }), timeoutMs };
      this.clients.set(stream, pooled);
    }
    const client = pooled.client;
    let handedOver = false;
    try {
      const req = this.upstreamRequestHead(session, session.isUpgradeRequest && session.request.method !== 'CONNECT');
      if (req.version !== '1.1') {
        // Sent on as HTTP/1.1, which requires Host (RFC 9112 §3.2); an HTTP/1.0 client may have left it out.
        req.version = '1.1';
        if (!req.headers.has('host')) req.headers.appendUnchecked('Host', peer.addressText);
      }
      const phases = this.upstreamRequestPhases(session, ctx, req);
      if (phases) await phases;
      // A small body that is already here leaves with the head in one write.
      if (send !== undefined && stream.socket.writableCorked === 0) {
        stream.socket.cork();
        process.nextTick(uncork, stream.socket);
      }
      try {
        const w = client.writeRequestHeader(req, send !== undefined);
        if (w) await w;
      } catch (e) {
        throw this.upstreamError(e, reused, 'writing the request head');
      }
      session.attachUpstream?.(client);
      if (send !== undefined) {
        const previous = this.startBodySend(session, ctx, client, send);
        if (previous) await previous;
      }
      const lender = this.lendsBodies && session.flushed !== undefined && client.retainBody() ? client : undefined;
      // Each 1xx goes downstream as it arrives (RFC 9110 §15.2); the loop costs no Promise of its own.
      let res: ResponseHeader;
      for (;;) {
        try {
          res = await client.readResponseHead();
        } catch (e) {
          throw this.responseHeadError(e, client, reused, send);
        }
        if (res.status >= 200 || res.status === 101) break;
        await this.forwardInformational(session, res);
      }
      if (res.status === 101 && (!session.isUpgradeRequest || session.request.method === 'CONNECT')) throw unsolicitedSwitch();
      if (res.status === 101 || (session.request.method === 'CONNECT' && res.status >= 200 && res.status < 300)) {
        return await this.switchProtocols(session, ctx, client, res).then((r) => {
          handedOver = true;
          return r;
        });
      }
      // A request that asked to switch and was refused leaves its connection in an unknown state.
      if (session.isUpgradeRequest) session.setKeepalive(false);
      await this.forwardResponse(session, ctx, client, res, lender);
      if (send !== undefined && !send.done) {
        // The upstream answered before taking the whole body: the downstream connection cannot be
        // reused (the rest of the body is still on its way) and neither can the upstream one.
        session.setKeepalive(false);
        return DONE;
      }
      if (client.reuse()) {
        handedOver = true;
        this.connector.releaseStream(stream, peer);
      }
      return DONE;
    } finally {
      session.attachUpstream?.(null);
      if (send !== undefined && !send.done) send.cancelled = true;
      if (!handedOver) client.close();
    }
  }

  /** One request and its response as a stream on a shared HTTP/2 connection (RFC 9113 §8; h1 fields converted). */
  private async exchangeHttp2(session: DownstreamSession, ctx: Ctx, peer: HttpPeer, h2: Http2ClientSession, reused: boolean, send: BodySend | undefined): Promise<number> {
    const req = this.upstreamRequestHead(session, false);
    // `te: trailers` is the one TE value HTTP/2 allows (RFC 9113 §8.2.2); gRPC needs it end to end.
    if (connectionHas(session.request.headers.get('te'), 'trailers')) req.headers.appendUnchecked('te', 'trailers');
    // Host becomes :authority (RFC 9113 §8.3.1); an HTTP/1.0 request may have none.
    if (!req.headers.has('host')) req.headers.appendUnchecked('host', peer.sni || peer.addressText);
    req.version = '2';
    const phases = this.upstreamRequestPhases(session, ctx, req);
    if (phases) await phases;
    const target = { scheme: peer.tls ? 'https' : 'http', authority: req.headers.get('host'), endStream: send === undefined };
    let stream: Http2ClientStream;
    try {
      // The session had room when it was picked; a filter that waited may have let others take it.
      stream = h2.availableStreams > 0 ? h2.sendRequest(req, target) : await this.http2.request(peer, req, target);
    } catch (e) {
      throw this.upstreamError(e, reused, 'sending the request head');
    }
    const upstream = new Http2Upstream(stream, peer.options.readTimeoutMs);
    session.attachUpstream?.(upstream);
    let complete = false;
    try {
      if (send !== undefined) {
        const previous = this.startBodySend(session, ctx, upstream, send);
        if (previous) await previous;
      }
      // Each 1xx goes downstream as it arrives (RFC 9110 §15.2); the loop costs no Promise of its own.
      let res: ResponseHeader;
      for (;;) {
        try {
          res = await upstream.readResponseHead();
        } catch (e) {
          throw this.responseHeadError(e, upstream, reused, send);
        }
        if (res.status >= 200) break;
        if (res.status === 101) throw unsolicitedSwitch();
        await this.forwardInformational(session, res);
      }
      await this.forwardResponse(session, ctx, upstream, res, undefined);
      complete = true;
      // The upstream answered before taking the whole body: the rest of it cannot follow on HTTP/1.
      if (send !== undefined && !send.done) session.setKeepalive(false);
      return DONE;
    } finally {
      session.attachUpstream?.(null);
      if (send !== undefined && !send.done) send.cancelled = true;
      // An unfinished exchange resets its stream; the connection stays for the others.
      if (!complete || !stream.localEnded) upstream.close();
    }
  }

  /**
   * The request as it goes upstream, either protocol: a copy without hop-by-hop fields (the Upgrade
   * pair kept when `upgrade`) nor Expect, with Via when configured.
   */
  private upstreamRequestHead(session: DownstreamSession, upgrade: boolean): RequestHeader {
    const req = session.request.clone();
    removeHopByHop(req.headers, upgrade);
    // 100-continue is answered downstream by our session when the body is first read.
    req.headers.delete('expect');
    // Via names the protocol the message was received with (RFC 9110 §7.6.3).
    if (this.via !== undefined) req.headers.append('Via', `${req.version} ${this.via}`);
    return req;
  }

  /**
   * The cache's and the user's hooks on the upstream request, then the observer: a Promise only when
   * `upstreamRequestFilter` returned one (a sync phase costs no await).
   */
  private upstreamRequestPhases(session: DownstreamSession, ctx: Ctx, req: RequestHeader): Promise<void> | undefined {
    if (this.cache !== undefined) this.cache.upstreamRequest(session, req);
    const filter = this.proxy.upstreamRequestFilter;
    if (filter !== undefined) {
      const r = filter(session, req, ctx);
      if (isThenable(r)) return this.observeUpstreamRequestAfter(r, session, req);
    }
    if (this.observer !== undefined) this.observer.upstreamRequest?.(session, req, session.observation);
    return undefined;
  }

  private async observeUpstreamRequestAfter(filtering: PromiseLike<void>, session: DownstreamSession, req: RequestHeader): Promise<void> {
    await filtering;
    if (this.observer !== undefined) this.observer.upstreamRequest?.(session, req, session.observation);
  }

  /**
   * Starts this attempt's request-body sender beside the response reader. A retry's waits for the
   * previous attempt's sender to stop first: the Promise returned then is to be awaited (the first
   * attempt gets none).
   */
  private startBodySend(session: DownstreamSession, ctx: Ctx, upstream: UpstreamExchange, send: BodySend): Promise<void> | undefined {
    const previous = send.running;
    if (previous !== undefined) {
      send.running = undefined;
      return previous.then(() => void this.startBodySend(session, ctx, upstream, send));
    }
    send.done = send.cancelled = false;
    send.failure = undefined;
    send.upstream = upstream;
    send.running = this.sendBody(session, ctx, upstream, send);
    return undefined;
  }

  /**
   * Why a response head did not come: the client's failure when the body sender saw it leave, else the
   * upstream's (retryable once when a reused connection failed before any response byte).
   */
  private responseHeadError(e: unknown, upstream: UpstreamExchange, reused: boolean, send: BodySend | undefined): SluiceError {
    if (send?.failure?.source === 'Downstream') return send.failure;
    return this.upstreamError(e, reused && upstream.bodyBytesRead() === 0, 'reading the response head');
  }

  /**
   * Sends a 1xx head downstream while the origin still works on the final one (103 Early Hints…).
   * 100 Continue is not forwarded: our own session answers the client's `Expect` when it reads the body.
   */
  private async forwardInformational(session: DownstreamSession, res: ResponseHeader): Promise<void> {
    if (res.status === 100) return;
    removeHopByHop(res.headers);
    res.version = '1.1';
    const w = session.writeResponseHeader(res);
    if (w) await downstreamWrite(w, RESPONSE_WRITE);
  }

  /** Marks a failure on the upstream connection; before any response byte on a reused one, it may retry once. */
  private upstreamError(e: unknown, reusedBeforeResponse: boolean, what: string): SluiceError {
    const error = toSluiceError(e, 'ReadError', what);
    if (error.source === 'Unset') error.intoUp();
    if (reusedBeforeResponse && error.retry === false && error.type !== 'ReadTimedout' && error.type !== 'WriteTimedout') error.setRetry('ReusedOnly');
    return error;
  }

  /** Streams the request body upstream (replaying what an earlier attempt sent), beside the response. */
  private async sendBody(session: DownstreamSession, ctx: Ctx, client: UpstreamExchange, state: BodySend): Promise<void> {
    const proxy = this.proxy;
    const retryBuffer = state.retryBuffer;
    // Lending starts with the first attempt's sender, after every phase that might read the body itself.
    if (state.lender === undefined) state.lender = (this.lendsRequestBodies ? session.lendRequestBody?.() : undefined) ?? null;
    const lender = state.lender;
    try {
      const recorded = retryBuffer.recorded;
      for (let i = 0; i < recorded.length; i++) {
        const w = this.writeRequestBody(client, recorded[i]);
        if (w) await w;
      }
      const chunk: BodyChunk | undefined = proxy.requestBodyFilter ? { data: null } : undefined;
      while (!session.requestBodyDone) {
        let data = await session.readBodyChunk();
        if (chunk !== undefined) {
          chunk.data = data;
          const r = proxy.requestBodyFilter!(session, chunk, data === null, ctx);
          if (isThenable(r)) await r;
          data = chunk.data;
        }
        if (data !== null && data.length > 0) {
          const lent = lender !== null && lender.isLent(data);
          // Recorded before it is written: a retry replays it even when this attempt was cancelled.
          retryBuffer.record(data, lent);
          if (lent) await this.writeLentPiece(client, data, lender, state);
          else {
            if (state.cancelled) return;
            const w = this.writeRequestBody(client, data);
            if (w) await w;
          }
          if (state.cancelled) return;
        }
      }
      if (state.cancelled) return;
      const w = client.finishBody(session.requestTrailers);
      if (w) await w;
      state.done = true;
    } catch (e) {
      state.failure = toSluiceError(e, 'WriteError', 'sending the request body');
      if (state.failure.source === 'Unset') state.failure.intoUp();
      // The client is gone: ending the upstream exchange ends the wait for a response that no one will
      // read. An upstream write failure leaves the connection alone: an upstream may answer early and
      // stop reading, and that answer must still go out.
      if (state.failure.source === 'Downstream') state.upstream?.close();
    }
  }

  /**
   * Writes a lent request-body piece upstream and gives it back once the upstream socket holds none of
   * its bytes (a write taken in part keeps referring to it); where that cannot be known (an HTTP/2
   * upstream) a copy is written. Given back on every path, a cancelled attempt's and a failed write's too.
   */
  private async writeLentPiece(client: UpstreamExchange, piece: Buffer, lender: BodyLender, state: BodySend): Promise<void> {
    try {
      if (state.cancelled) return;
      const lends = client.flushed !== undefined;
      const w = this.writeRequestBody(client, lends ? piece : Buffer.from(piece));
      if (w) await w;
      const flushed = lends ? client.flushed!() : undefined;
      if (flushed) await flushed;
    } finally {
      lender.releaseBody(piece);
    }
  }

  /** Writes a request-body piece upstream: a Promise only under backpressure, failing as the upstream's error. */
  private writeRequestBody(client: UpstreamExchange, data: Buffer): Promise<void> | undefined {
    const w = client.writeBody(data);
    return w && w.catch((e: unknown) => Promise.reject(this.upstreamError(e, false, 'writing the request body')));
  }

  /**
   * Sends the response head, body and trailers downstream through the response phases. `lender`:
   * the body pieces may be lent from the upstream connection's buffers (see lendsBodies); each lent
   * one is given back once the client's socket took it whole (the session then has `flushed`).
   */
  private async forwardResponse(session: DownstreamSession, ctx: Ctx, client: UpstreamExchange, res: ResponseHeader, lender: BodyLender | undefined): Promise<void> {
    const proxy = this.proxy;
    if (proxy.upstreamResponseFilter) {
      const r = proxy.upstreamResponseFilter(session, res, ctx);
      if (isThenable(r)) await r;
    }
    removeHopByHop(res.headers);
    if (this.via !== undefined) res.headers.append('Via', `${res.version} ${this.via}`);
    res.version = '1.1';
    let fill: CacheFill | undefined;
    if (this.cache !== undefined) {
      let cached = this.cache.responseArrived(session, ctx, res, client);
      if (isThenable(cached)) cached = await cached;
      if (cached === SERVED_FROM_CACHE) return;
      fill = cached;
    }
    if (proxy.responseFilter) {
      const r = proxy.responseFilter(session, res, ctx);
      if (isThenable(r)) await r;
    }
    const filtered = proxy.upstreamResponseBodyFilter !== undefined || proxy.responseBodyFilter !== undefined;
    if (!filtered && fill === undefined && session.writeWholeResponse !== undefined && client.takeWholeBody !== undefined && res.headers.has('content-length')) {
      // A small response usually arrives whole with its head: it leaves in one write, nothing awaited.
      const body = client.takeWholeBody();
      if (body !== undefined) {
        const w = session.writeWholeResponse(res, body);
        if (w) await downstreamWrite(w, RESPONSE_WRITE);
        // A lent body (on a connection that carried a large one before) waits until the client's
        // socket took it; a copy needs nothing.
        if (lender?.isLent(body)) {
          const flushed = session.flushed!();
          if (flushed !== undefined) await flushed;
          lender.releaseBody(body);
        }
        return;
      }
    }
    session.corkResponse();
    const head = session.writeResponseHeader(res);
    if (head) await downstreamWrite(head, RESPONSE_WRITE);
    const chunk: BodyChunk | undefined = filtered ? { data: null } : undefined;
    /** A lent piece written and not yet flushed: given back once `draining` settled. */
    let unflushed: Buffer | null = null;
    // One write may be draining while the next piece is read (double buffering): the upstream is not
    // left idle while the client catches up, and at most one more piece is held.
    let draining: Promise<void> | undefined;
    for (;;) {
      let data: Buffer | null | undefined;
      try {
        // Read synchronously when the piece is here: most bodies need no await at all.
        data = client.pollBodyChunk?.();
        if (data === undefined) data = await client.readBodyChunk();
      } catch (e) {
        throw this.upstreamError(e, false, 'reading the response body');
      }
      let end = false;
      if (chunk !== undefined) {
        chunk.data = data;
        end = data === null;
        if (proxy.upstreamResponseBodyFilter) proxy.upstreamResponseBodyFilter(session, chunk, end, ctx);
        if (fill !== undefined) fill.body(chunk.data, end);
        if (proxy.responseBodyFilter) {
          let delay = proxy.responseBodyFilter(session, chunk, end, ctx);
          if (isThenable(delay)) delay = await delay;
          if (typeof delay === 'number' && delay > 0) await sleep(delay);
        }
        data = chunk.data;
        if (data === null || data.length === 0) {
          if (end) break;
          continue;
        }
      } else {
        if (fill !== undefined) fill.body(data, data === null);
        if (data === null) break;
      }
      if (draining !== undefined) {
        const previous = draining;
        draining = undefined;
        await downstreamWrite(previous, RESPONSE_WRITE);
        if (unflushed !== null) {
          lender!.releaseBody(unflushed);
          unflushed = null;
        }
      }
      let w = session.writeResponseBody(data, false);
      if (lender?.isLent(data)) {
        // The piece is given back once the client's socket holds none of its bytes: now, or when the
        // write drained (a write taken in part leaves the rest referenced, not copied).
        w ??= session.flushed!();
        if (w === undefined) lender.releaseBody(data);
        else unflushed = data;
      }
      if (w !== undefined) {
        draining = w;
        w.catch(ignore); // awaited before the next write; an upstream failure meanwhile must not leave it unhandled
      }
      if (end) break; // a filter added bytes at the end of the body
    }
    if (draining !== undefined) await downstreamWrite(draining, RESPONSE_WRITE);
    if (unflushed !== null) lender!.releaseBody(unflushed);
    const trailers = client.trailers;
    if (trailers !== null) {
      if (proxy.upstreamResponseTrailerFilter) proxy.upstreamResponseTrailerFilter(session, trailers, ctx);
      if (proxy.responseTrailerFilter) {
        const r = proxy.responseTrailerFilter(session, trailers, ctx);
        if (isThenable(r)) await r;
      }
    }
    const end = session.finishResponse(trailers);
    if (end) await downstreamWrite(end, RESPONSE_WRITE);
  }

  /** Forwards a 101 (or a CONNECT 2xx) and joins the two connections into one byte stream. */
  private async switchProtocols(session: DownstreamSession, ctx: Ctx, client: ClientSession, res: ResponseHeader): Promise<number> {
    const proxy = this.proxy;
    if (proxy.upstreamResponseFilter) {
      const r = proxy.upstreamResponseFilter(session, res, ctx);
      if (isThenable(r)) await r;
    }
    removeHopByHop(res.headers, res.status === 101);
    if (this.via !== undefined) res.headers.append('Via', `1.1 ${this.via}`);
    res.version = '1.1';
    if (proxy.responseFilter) {
      const r = proxy.responseFilter(session, res, ctx);
      if (isThenable(r)) await r;
    }
    const w = session.writeResponseHeader(res);
    if (w) await downstreamWrite(w, RESPONSE_WRITE);
    const up = client.takeOver();
    const down = session.takeOver();
    await tunnel(down.socket, down.head, up.socket, up.head);
    return UPGRADED;
  }

  /** Answers a failed request (or aborts a started response), and logs the error. */
  private async fail(session: DownstreamSession, ctx: Ctx, error: SluiceError): Promise<void> {
    const proxy = this.proxy;
    let status = defaultFailStatus(error);
    if (proxy.failToProxy) {
      try {
        const r = proxy.failToProxy(session, error, ctx);
        status = isThenable(r) ? await r : r;
      } catch (e) {
        this.logger.error('proxy: the failToProxy phase failed', e);
        this.report(e, 'proxy failToProxy', session, ctx);
      }
    }
    if (!session.responseWritten) {
      if (error.source === 'Downstream') session.setKeepalive(false);
      if (status > 0) await session.respondError(status);
      else session.abort();
    } else {
      // Never let a response that lost its upstream end look complete (RFC 9112 §9.8).
      session.abort();
    }
    if (proxy.suppressErrorLog?.(session, ctx, error)) return;
    const summary = proxy.requestSummary ? proxy.requestSummary(session, ctx) : defaultSummary(session);
    const message = `${summary}: ${error.source.toLowerCase()} error: ${error.message}`;
    if (error.source === 'Downstream') this.logger.warn(message);
    else this.logger.error(message);
  }

  /** Hands an unexpected error to the error reporter, with the request's summary and client. */
  private report(error: unknown, where: string, session: DownstreamSession, ctx: Ctx | undefined): void {
    const reporter = this.errorReporter;
    if (reporter === undefined) return;
    let request: string;
    try {
      request = ctx !== undefined && this.proxy.requestSummary ? this.proxy.requestSummary(session, ctx) : defaultSummary(session);
    } catch {
      request = defaultSummary(session);
    }
    const client = session.clientAddr();
    reportError(reporter, error, { where, request, client: client && formatAddress(client) }, this.logger);
  }
}

/** Tells the observer about a connection ready for a request, and about its TLS handshake if new. */
function observeConnected(observer: ProxyObserver, session: DownstreamSession, peer: HttpPeer, reused: boolean, digest: Digest): void {
  if (!reused && digest.tls !== undefined) observer.tlsHandshake?.('upstream', undefined);
  observer.upstreamConnected?.(session, peer, reused, digest, session.observation);
}

/** Tells the observer about a failed connect, and a failed TLS handshake when that was the cause. */
function observeConnectFailure(observer: ProxyObserver, session: DownstreamSession, peer: HttpPeer, error: SluiceError, connectMs: number): void {
  if (error.type === 'TLSHandshakeFailure' || error.type === 'TLSHandshakeTimedout') observer.tlsHandshake?.('upstream', error);
  observer.upstreamConnectFailed?.(session, peer, error, connectMs, session.observation);
}

/**
 * The peer to send an Upgrade (WebSocket) request to when `peer`'s ALPN policy would pick HTTP/2,
 * which has no Upgrade (RFC 9113 §8.6; extended CONNECT, RFC 8441, is not spoken): for 'h2h1' the
 * same peer offering only HTTP/1.1 (its own pool key, since the ALPN policy is part of it).
 * @throws SluiceError `HTTPStatus` 502, code `ERR_PROXY_UPGRADE_TO_H2_PEER`, for an 'h2'-only peer.
 */
function upgradablePeer(peer: HttpPeer): HttpPeer {
  if (peer.options.alpn === 'h2') {
    throw new SluiceError('HTTPStatus', {
      status: 502,
      code: 'ERR_PROXY_UPGRADE_TO_H2_PEER',
      source: 'Internal',
      context: `an Upgrade (WebSocket) or CONNECT request cannot go to ${peer}: its ALPN policy 'h2' allows only HTTP/2, which has no Upgrade; give such routes a peer with alpn 'h1' or 'h2h1'`,
    });
  }
  return new HttpPeer(peer.address, peer.tls, peer.sni, { ...peer.options, alpn: 'h1' });
}

/** `GET /path, Host: example.org` (Pingora's default request summary). */
function defaultSummary(session: DownstreamSession): string {
  const req = session.request;
  return `${req.method} ${req.uri}, Host: ${req.headers.get('host') ?? ''}`;
}

/** A connection opened for a client that left meanwhile: closed, as the request never went out on it. */
function closeUnused(stream: Stream): void {
  stream.destroy();
}
