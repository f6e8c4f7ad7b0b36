// The client side of HTTP/2 (RFC 9113 §8): requests as core RequestHeaders over one multiplexed
// connection, and a connector that shares connections among requests up to the server's
// MAX_CONCURRENT_STREAMS (pingora keeps in-use h2 connections in its v2 connector for the same reason).
import type { TLSSocket } from 'node:tls';
import { connect, HeaderMap, ResponseHeader, SluiceError, type HttpPeer, type Peer, type RequestHeader, type Stream, type TlsUpgrade } from '@sluice/core';
import { Http2Connection, type Http2ConnectionOptions } from './connection.js';
import { ErrorCode, Http2Error } from './error.js';
import { Http2Stream, type StreamOwner } from './http2-stream.js';
import { appendOutgoingFields } from './message.js';

/** Options of a client session: the connection's limits. */
export type Http2ClientOptions = Http2ConnectionOptions;

/** Where a request goes: `:scheme` and `:authority` (RFC 9113 §8.3.1). */
export interface RequestTarget {
  /** Default 'http', or 'https' over TLS. */
  scheme?: string;
  /** Default: the request's Host header. */
  authority?: string;
  /** End the stream with the header (a request without body). Default false. */
  endStream?: boolean;
}

/** A response head from its `[':status', value, name, value, …]` field list. */
function responseOf(fields: string[]): ResponseHeader {
  const response = new ResponseHeader(Number(fields[1]), '2');
  for (let i = 2; i < fields.length; i += 2) response.headers.appendUnchecked(fields[i], fields[i + 1]);
  return response;
}

/** A request stream on the client: write the body and trailers, read the response. */
export class Http2ClientStream extends Http2Stream {
  /** Resolves with the final response header (1xx responses are in `informational`). */
  async readResponseHeader(): Promise<ResponseHeader> {
    return responseOf(await this.readHeaders());
  }

  /**
   * Resolves with the next response header as it arrives, 1xx included (each once): after a 1xx,
   * call again for the next one. For proxies that forward 103 Early Hints when they come.
   */
  async readNextResponseHeader(): Promise<ResponseHeader> {
    return responseOf(await this.readNextHeaders());
  }

  /** The response trailers, once the body has been read to its end (gRPC's status). */
  get responseTrailers(): HeaderMap | null {
    if (this.trailers === null) return null;
    const map = new HeaderMap();
    for (let i = 0; i < this.trailers.length; i += 2) map.appendUnchecked(this.trailers[i], this.trailers[i + 1]);
    return map;
  }

  /** Sends request body octets within the server's windows; a Promise when they could not all leave now. */
  writeBody(chunk: Buffer | string, endStream = false): Promise<void> | undefined {
    return this.writeData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, endStream);
  }

  /** Ends the request, with trailers when given. */
  finishRequest(trailers?: HeaderMap | null): Promise<void> | undefined {
    if (trailers != null && trailers.size > 0) return this.end(appendOutgoingFields(this.id, trailers, []));
    return this.end();
  }

  /** Reads the whole response body. */
  async readBody(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let chunk = await this.readBodyChunk(); chunk !== null; chunk = await this.readBodyChunk()) parts.push(chunk);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

/**
 * One HTTP/2 client connection over a core {@link Stream} (h2c with prior knowledge, or TLS after
 * ALPN chose "h2"), carrying up to the server's MAX_CONCURRENT_STREAMS requests at once.
 */
export class Http2ClientSession {
  readonly connection: Http2Connection;
  private readonly defaultScheme: string;

  constructor(transport: Stream, options: Http2ClientOptions = {}) {
    this.connection = new Http2Connection(transport, 'client', this, options);
    this.defaultScheme = (transport.socket as TLSSocket).encrypted === true ? 'https' : 'http';
    this.connection.start();
  }

  /** @internal */
  createStream(owner: StreamOwner, id: number, receiveWindow: number, sendWindow: number): Http2Stream {
    return new Http2ClientStream(owner, id, receiveWindow, sendWindow);
  }

  /** Streams that may be opened now (0 once closed, after GOAWAY, or at the server's limit). */
  get availableStreams(): number {
    return this.connection.availableStreams;
  }

  /** True while the connection can carry new requests. */
  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  /** Resolves when the connection has closed. */
  get closed(): Promise<void> {
    return this.connection.closed;
  }

  /**
   * Starts a request: sends its header section (`:method`, `:scheme`, `:authority`, `:path`, then
   * the fields with connection-specific ones and Host dropped).
   * @throws Http2Error ERR_H2_NO_STREAMS when no stream is available, or for a field that cannot be sent.
   */
  sendRequest(request: RequestHeader, target: RequestTarget = {}): Http2ClientStream {
    const authority = target.authority ?? request.header('host');
    let fields: string[];
    if (request.method === 'CONNECT') {
      if (authority === undefined) throw new Http2Error('ERR_H2_NO_AUTHORITY', ErrorCode.INTERNAL_ERROR, 'CONNECT needs an authority');
      fields = [':method', 'CONNECT', ':authority', authority];
    } else {
      fields = [':method', request.method, ':scheme', target.scheme ?? this.defaultScheme];
      if (authority !== undefined) fields.push(':authority', authority);
      fields.push(':path', request.uri);
    }
    appendOutgoingFields(0, request.headers, fields);
    return this.connection.openStream(fields, target.endStream === true) as Http2ClientStream;
  }

  /** Graceful close: GOAWAY, then the connection ends once its streams have. */
  close(): void {
    this.connection.shutdown();
  }
}

/** Options of {@link Http2Connector}. */
export interface Http2ConnectorOptions extends Http2ClientOptions {
  /** Opens the transport; default core's `connect` (TCP, then TLS with the peer's ALPN). */
  connect?: (peer: Peer) => Promise<Stream>;
  /** The TLS upgrade given to core's `connect`. */
  tlsUpgrade?: TlsUpgrade;
}

/**
 * Shares HTTP/2 connections among requests, keyed by the peer's `reuseHash()`: a request takes a
 * stream on an open connection with room under the server's MAX_CONCURRENT_STREAMS, else a new
 * connection is made. Connections leave the pool when they close or receive GOAWAY.
 */
export class Http2Connector {
  private readonly sessions = new Map<string, Http2ClientSession[]>();
  private readonly connecting = new Map<string, Promise<Http2ClientSession>>();
  private readonly options: Http2ConnectorOptions;

  constructor(options: Http2ConnectorOptions = {}) {
    this.options = options;
  }

  /**
   * An open session to `peer` with a free stream, reused when one exists; a new connection is
   * used once the server's SETTINGS (its stream limit) have arrived.
   */
  async session(peer: HttpPeer | Peer): Promise<Http2ClientSession> {
    const key = peer.reuseHash();
    for (;;) {
      const reused = this.reusable(key);
      if (reused !== undefined) return reused;
      await this.connectionTo(peer, key);
    }
  }

  /**
   * Sends a request to `peer` on a shared connection. The stream is taken in the same turn as the
   * free-stream check, so concurrent requests never overbook a connection.
   */
  async request(peer: HttpPeer | Peer, request: RequestHeader, target: RequestTarget = {}): Promise<Http2ClientStream> {
    const key = peer.reuseHash();
    const full: RequestTarget = { scheme: peer.tls ? 'https' : 'http', authority: request.header('host') ?? (peer.sni || undefined), ...target };
    for (;;) {
      const reused = this.reusable(key);
      if (reused !== undefined) return reused.sendRequest(request, full);
      await this.connectionTo(peer, key);
    }
  }

  /** Waits for a connection being made to `key`, or makes one. */
  private connectionTo(peer: Peer, key: string): Promise<Http2ClientSession> {
    let pending = this.connecting.get(key);
    if (pending === undefined) {
      pending = this.open(peer, key);
      this.connecting.set(key, pending);
      const done = (): void => {
        if (this.connecting.get(key) === pending) this.connecting.delete(key);
      };
      pending.then(done, done);
    }
    return pending;
  }

  /**
   * An open session to `peer` with a free stream slot now, or undefined when every open one is at the
   * server's stream limit (or none is open): then {@link Http2Connector.session} makes a new connection.
   * Synchronous, so a request on a shared connection costs no Promise, and a caller can tell a reused
   * connection from a new one (as core's `TransportConnector.reusedStream` does for HTTP/1).
   */
  reusedSession(peer: HttpPeer | Peer): Http2ClientSession | undefined {
    return this.reusable(peer.reuseHash());
  }

  /** Open connections to the peer with `reuseHash`. */
  connectionsTo(peer: Peer): number {
    return this.sessions.get(peer.reuseHash())?.length ?? 0;
  }

  /** Closes every pooled connection gracefully. */
  close(): void {
    for (const list of this.sessions.values()) for (const session of list) session.close();
    this.sessions.clear();
  }

  private reusable(key: string): Http2ClientSession | undefined {
    const list = this.sessions.get(key);
    if (list === undefined) return undefined;
    for (const session of list) if (session.availableStreams > 0) return session;
    return undefined;
  }

  private async open(peer: Peer, key: string): Promise<Http2ClientSession> {
    const transport = this.options.connect !== undefined ? await this.options.connect(peer) : await connect(peer, this.options.tlsUpgrade);
    if (peer.tls) {
      const protocol = (transport.socket as TLSSocket).alpnProtocol;
      if (protocol !== 'h2') {
        transport.destroy();
        throw new SluiceError('InvalidH2', { context: `${peer} did not negotiate h2 by ALPN (got ${protocol || 'none'})` });
      }
    }
    const session = new Http2ClientSession(transport, this.options);
    await session.connection.ready;
    let list = this.sessions.get(key);
    if (list === undefined) this.sessions.set(key, (list = []));
    list.push(session);
    const remove = (): void => {
      const current = this.sessions.get(key);
      if (current === undefined) return;
      const at = current.indexOf(session);
      if (at !== -1) current.splice(at, 1);
      if (current.length === 0) this.sessions.delete(key);
    };
    void session.closed.then(remove);
    session.connection.socket.once('close', remove);
    return session;
  }
}
