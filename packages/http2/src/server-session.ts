// The server side of HTTP/2 (RFC 9113 §8): each request stream becomes a core RequestHeader and
// a body to read; the handler answers with a core ResponseHeader, body and trailers.
import type { TLSSocket } from 'node:tls';
import { HeaderMap, RequestHeader, type ResponseHeader, type ServerApp, type Stream } from '@sluice/core';
import { Http2Connection, type Http2ConnectionOptions } from './connection.js';
import { ErrorCode, Http2Error } from './error.js';
import { Http2Stream, type StreamOwner } from './http2-stream.js';
import { appendOutgoingFields, type RequestControl } from './message.js';

/** Options of a server session: the connection's limits. */
export type Http2ServerOptions = Http2ConnectionOptions;

/** Answers one request stream; may return a Promise. A throw becomes a 500, or a reset once the response has started. */
export type Http2RequestHandler = (stream: Http2ServerStream) => Promise<void> | void;

function toHeaderMap(fields: string[], from: number): HeaderMap {
  const map = new HeaderMap();
  for (let i = from; i < fields.length; i += 2) map.appendUnchecked(fields[i], fields[i + 1]);
  return map;
}

/**
 * A request stream on the server: the request as a core {@link RequestHeader} (version '2',
 * method and target from `:method` and `:path`, the regular fields as its headers), its body and
 * trailers, and the calls that write the response.
 */
export class Http2ServerStream extends Http2Stream {
  /** The request; `uri` is `:path` (or the authority for CONNECT). */
  request!: RequestHeader;
  /** `:authority`, if sent (RFC 9113 §8.3.1); proxies use it as the HTTP/1.1 Host. */
  authority: string | undefined;
  /** `:scheme`. */
  scheme: string | undefined;
  /** `:protocol` of an extended CONNECT (RFC 8441). */
  protocol: string | undefined;
  private bodyless = false;

  /** @internal */
  handle(control: RequestControl): void {
    this.authority = control.authority;
    this.scheme = control.scheme;
    this.protocol = control.protocol;
    const fields = this.fields;
    let from = 0;
    while (from < fields.length && fields[from].charCodeAt(0) === 0x3a) from += 2;
    this.request = new RequestHeader(control.method, control.path ?? control.authority ?? '', '2', toHeaderMap(fields, from));
  }

  /** The request's trailers, once the body has been read to its end. */
  get requestTrailers(): HeaderMap | null {
    return this.trailers === null ? null : toHeaderMap(this.trailers, 0);
  }

  /**
   * Sends the response header (`:status` and the fields; connection-specific fields dropped).
   * @throws Http2Error for a field that cannot be sent, before anything is sent.
   */
  writeResponseHeader(response: ResponseHeader, endStream = false): void {
    const fields = appendOutgoingFields(this.id, response.headers, [':status', String(response.status)]);
    // RFC 9110 §8.6: no Content-Length in a 204 (a 304 may keep the length of what it validates).
    if (response.status === 204) dropField(fields, 'content-length');
    // RFC 9110 §9.3.2, §15.3.5, §15.4.5: a response to HEAD, a 204 and a 304 carry no content.
    this.bodyless = this.request.method === 'HEAD' || response.status === 204 || response.status === 304;
    this.writeHeaders(fields, endStream);
  }

  /**
   * Sends body octets within the client's windows; a Promise when they could not all leave now. For
   * a response that has no content (HEAD, 204, 304) the octets are dropped and only `endStream` acts.
   */
  writeBody(chunk: Buffer | string, endStream = false): Promise<void> | undefined {
    if (this.bodyless) return endStream ? this.end() : undefined;
    return this.writeData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, endStream);
  }

  /** Ends the response, with trailers when given (gRPC's status travels in them). */
  finishResponse(trailers?: HeaderMap | null): Promise<void> | undefined {
    if (trailers != null && trailers.size > 0) return this.end(appendOutgoingFields(this.id, trailers, []));
    return this.end();
  }

  /** Sends a whole response: header, then the body if any, ending the stream. */
  respond(response: ResponseHeader, body?: Buffer | string): Promise<void> | undefined {
    if (body === undefined || body.length === 0 || this.request.method === 'HEAD' || response.status === 204 || response.status === 304) {
      this.writeResponseHeader(response, true);
      return undefined;
    }
    this.writeResponseHeader(response, false);
    return this.writeBody(body, true);
  }
}

/** Removes every `name` entry from a flat [name, value, …] list (names already lowercase). */
function dropField(fields: string[], name: string): void {
  let write = 0;
  for (let read = 0; read < fields.length; read += 2) {
    if (fields[read] === name) continue;
    fields[write++] = fields[read];
    fields[write++] = fields[read + 1];
  }
  fields.length = write;
}

const INTERNAL_ERROR_RESPONSE = [':status', '500', 'content-length', '0'];

/**
 * One HTTP/2 server connection: runs `handler` for each request stream. Use {@link serveHttp2} or
 * {@link Http2ServerApp} rather than building it yourself.
 */
export class Http2ServerSession {
  readonly connection: Http2Connection;
  private readonly handler: Http2RequestHandler;

  constructor(transport: Stream, handler: Http2RequestHandler, options: Http2ServerOptions = {}) {
    this.handler = handler;
    this.connection = new Http2Connection(transport, 'server', this, options);
  }

  /** @internal */
  createStream(owner: StreamOwner, id: number, receiveWindow: number, sendWindow: number): Http2Stream {
    return new Http2ServerStream(owner, id, receiveWindow, sendWindow);
  }

  /** @internal */
  onStream(stream: Http2Stream, control: RequestControl): void {
    const serverStream = stream as Http2ServerStream;
    let result: Promise<void> | void;
    try {
      serverStream.handle(control);
      result = this.handler(serverStream);
    } catch (error) {
      handlerFailed(serverStream, error);
      return;
    }
    if (result !== undefined && typeof result.then === 'function') void settle(serverStream, result);
    else handlerDone(serverStream);
  }

  /** Starts reading; returns the Promise that settles when the connection has closed. */
  start(): Promise<void> {
    this.connection.start();
    return this.connection.closed;
  }

  /** Graceful shutdown: two GOAWAYs (RFC 9113 §6.8), streams in progress finish. */
  shutdown(): void {
    this.connection.shutdown();
  }
}

/** Waits for an async handler without a closure per request. */
async function settle(stream: Http2ServerStream, result: Promise<void>): Promise<void> {
  try {
    await result;
  } catch (error) {
    handlerFailed(stream, error);
    return;
  }
  handlerDone(stream);
}

/** After the handler: end a response it left open; tell a client still sending that we are done (§8.1). */
function handlerDone(stream: Http2ServerStream): void {
  if (stream.closed) return;
  if (!stream.headersSent) {
    handlerFailed(stream, new Http2Error('ERR_H2_NO_RESPONSE', ErrorCode.INTERNAL_ERROR, `handler returned without a response on stream ${stream.id}`, stream.id));
    return;
  }
  if (!stream.localEnded) {
    // Body still waiting for window: end the stream after it; otherwise end it now.
    if (stream.sendQueued || stream.sendQueue.length > 0) {
      if (stream.sendQueueTrailers === null) stream.sendQueueEnd = true;
    } else void stream.end()?.catch(ignore);
  }
  if (stream.localEnded && !stream.remoteEnded) stream.reset(ErrorCode.NO_ERROR);
}

function handlerFailed(stream: Http2ServerStream, error: unknown): void {
  void error;
  if (stream.closed) return;
  if (!stream.headersSent) {
    try {
      stream.writeHeaders(INTERNAL_ERROR_RESPONSE, true);
      if (!stream.remoteEnded) stream.reset(ErrorCode.NO_ERROR);
      return;
    } catch {
      // fall through to a reset
    }
  }
  stream.reset(ErrorCode.INTERNAL_ERROR);
}

function ignore(): void {}

/** Options of {@link serveHttp2}: the connection's, plus a signal that starts a graceful shutdown. */
export interface ServeHttp2Options extends Http2ServerOptions {
  shutdown?: AbortSignal;
}

/**
 * Serves HTTP/2 on a connection that already speaks it (h2c with prior knowledge, or TLS after
 * ALPN chose "h2"): reads the client preface and runs `handler` per request stream.
 * Resolves when the connection has closed.
 */
export function serveHttp2(transport: Stream, handler: Http2RequestHandler, options: ServeHttp2Options = {}): Promise<void> {
  const session = new Http2ServerSession(transport, handler, options);
  const closed = session.start();
  const signal = options.shutdown;
  if (signal !== undefined) {
    if (signal.aborted) session.shutdown();
    else {
      const onAbort = (): void => session.shutdown();
      signal.addEventListener('abort', onAbort, { once: true });
      void closed.then(() => signal.removeEventListener('abort', onAbort));
    }
  }
  return closed;
}

/** Options of {@link Http2ServerApp}: the connection's, plus where TLS connections that chose another protocol go. */
export interface Http2ServerAppOptions extends Http2ServerOptions {
  /**
   * Serves TLS connections whose ALPN chose something other than "h2" (e.g. "http/1.1" with
   * @sluice/tls `enableH2()`, which offers both). Without it such connections are closed.
   */
  fallback?: ServerApp;
}

/**
 * An HTTP/2 {@link ServerApp} for core's ListeningService: every connection is served as HTTP/2
 * (h2c with prior knowledge, or TLS where ALPN chose "h2"); a service shutdown sends the two-step
 * GOAWAY and lets streams in progress finish.
 */
export class Http2ServerApp implements ServerApp {
  private readonly handler: Http2RequestHandler;
  private readonly options: Http2ServerAppOptions;

  constructor(handler: Http2RequestHandler, options: Http2ServerAppOptions = {}) {
    this.handler = handler;
    this.options = options;
  }

  processNewConnection(stream: Stream, shutdown: AbortSignal): Promise<void> | void {
    const socket = stream.socket as TLSSocket;
    if (socket.encrypted === true && socket.alpnProtocol !== 'h2') {
      const fallback = this.options.fallback;
      if (fallback !== undefined) return fallback.processNewConnection(stream, shutdown);
      stream.destroy();
      return;
    }
    return serveHttp2(stream, this.handler, { ...this.options, shutdown });
  }

  cleanup(): Promise<void> | void {
    return this.options.fallback?.cleanup?.();
  }
}
