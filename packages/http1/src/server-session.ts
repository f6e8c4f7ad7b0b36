import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { SluiceError } from '@sluice/core';
import type { HeaderMap, RequestHeader, ResponseHeader, Stream } from '@sluice/core';
import { lastChunk } from './chunked.js';
import { H1ParseError, H1_ERRORS } from './error.js';
import { frameResponse, responseHasBody } from './framing.js';
import type { PeerEndListener } from './message-reader.js';
import type { BodyFraming } from './parser.js';
import { headBytes, httpDateFieldLine, serializeResponseHead } from './serializer.js';
import { Http1Session } from './session.js';
import type { Http1SessionOptions } from './session.js';

/** Options of {@link ServerSession}; all durations in milliseconds. */
export interface ServerSessionOptions extends Http1SessionOptions {
  /** Longest wait for a complete request head, idle time included (slowloris). Default 60000. */
  headerTimeoutMs?: number;
  /** Requests served on one connection before it is closed (nginx keepalive_requests). Default 1000. */
  maxRequestsPerConnection?: number;
  /** Body bytes of an unread request body drained to keep the connection. Default 65536. */
  maxDrainBytes?: number;
  /**
   * Answer 400 to an HTTP/1.1 request without a Host field, and to any request with more than one or
   * with an invalid value (RFC 9112 §3.2). Default true.
   */
  requireHost?: boolean;
  /**
   * Send a `Date` field (the current time, formatted once a second) with every final response that
   * has none: RFC 9110 §6.6.1 requires it of an origin server with a clock, and of a proxy forwarding
   * a response without one. Default true.
   */
  date?: boolean;
}

// RFC 9110 §7.2 / RFC 3986 §3.2.2: uri-host [ ":" port ]; a reg-name, an IPv4 address or an IP literal.
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::[0-9]*)?$/;
/** The last Host value found valid: a keep-alive client sends the same one each time. */
let lastValidHost = '';

/** Why `head` breaks RFC 9112 §3.2's Host rule, or undefined when it does not. */
export function hostFieldProblem(head: RequestHeader): string | undefined {
  // One pass over the fields, no array: most requests have exactly one valid Host.
  const headers = head.headers;
  let host: string | undefined;
  let count = 0;
  for (let i = 0; i < headers.size; i++) {
    if (headers.keyAt(i) === 'host') {
      count++;
      host ??= headers.valueAt(i);
    }
  }
  if (host === undefined) return head.version === '1.1' ? 'HTTP/1.1 request without a Host field (RFC 9112 §3.2)' : undefined;
  if (count > 1) return `${count} Host fields (RFC 9112 §3.2)`;
  if (host === lastValidHost) return undefined;
  if (!HOST_VALUE.test(host)) return `invalid Host value ${JSON.stringify(host)} (RFC 9112 §3.2)`;
  lastValidHost = host;
  return undefined;
}

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** Where the response of the current request is. */
const R_NONE = 0;
const R_HEAD = 1;
const R_DONE = 2;

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** Bodies up to this size are written together with their head. */
const SMALL_BODY = 16 * 1024;

/**
 * The server side of an HTTP/1.x connection (Pingora's v1 server `HttpSession`): read a request
 * head and body, answer it, then {@link ServerSession.reuse} for the next one. Pipelined requests are
 * answered in order; bad requests are answered with their status (400, 413, 414, 431, 501, 505) and
 * `Connection: close`.
 */
export class ServerSession extends Http1Session<RequestHeader> {
  private readonly headerTimeoutMs: number;
  private readonly maxRequests: number;
  private readonly maxDrainBytes: number;
  private readonly requireHost: boolean;
  private readonly date: boolean;
  private requests = 0;
  private responseState = R_NONE;
  private framing: BodyFraming = 'none';
  private remaining = 0;
  private keepAlive = false;
  private continueSent = false;
  private closed = false;
  /** What {@link ServerSession.serve} calls for each request, and how it tells it is done. */
  private handler: RequestHandler | null = null;
  private served: (() => void) | null = null;
  private finishServingBound: (() => void) | undefined;
  /** serve() waits for the current request's head (its deadline is armed). */
  private awaitingHead = false;
  // What scanFields found in the response being sent.
  private contentLengthField: string | undefined = undefined;
  private transferEncodingField = false;
  private dateFieldPresent = false;
  /** The current request's head; set by {@link ServerSession.readRequest}. */
  request: RequestHeader | null = null;

  constructor(stream: Stream, options: ServerSessionOptions = {}) {
    super(stream, 'request', options);
    this.headerTimeoutMs = options.headerTimeoutMs ?? 60_000;
    this.maxRequests = options.maxRequestsPerConnection ?? 1000;
    this.maxDrainBytes = options.maxDrainBytes ?? 65_536;
    this.requireHost = options.requireHost ?? true;
    this.date = options.date ?? true;
  }

  /**
   * Reads the next request head. Returns null when the client closed the connection between
   * requests (or the header deadline passed before any byte of a request arrived).
   * @throws H1ParseError for a malformed request, after answering it with `error.status` and closing;
   *   SluiceError `ReadTimedout` when a started head missed the deadline (answered 408 and closed).
   */
  async readRequest(): Promise<RequestHeader | null> {
    let head: RequestHeader | null | undefined;
    const reader = this.reader;
    // MessageReader.readHead's steps inline: one Promise fewer per request.
    reader.arm(this.headerTimeoutMs);
    try {
      reader.feedHeld();
      while ((head = reader.pollHead(this.headerTimeoutMs)) === undefined) await reader.changed();
    } catch (e) {
      return this.headFailed(e);
    } finally {
      reader.disarm();
    }
    if (head === null) {
      this.close();
      return null;
    }
    const hostError = this.startRequest(head);
    if (hostError !== undefined) {
      await this.respondError(400);
      throw hostError;
    }
    return head;
  }

  /**
   * Answers a head that could not be read (its status for a parse error, 408 for a started head past
   * the deadline) and closes. Returns null when the deadline passed before any byte of a request.
   */
  private async headFailed(e: unknown): Promise<null> {
    if (e instanceof H1ParseError) await this.respondError(e.status ?? 400);
    else if (e instanceof SluiceError && e.type === 'ReadTimedout') {
      if (this.reader.started) await this.respondError(408);
      else {
        this.close();
        return null;
      }
    } else this.close();
    throw e;
  }

  /** Takes `head` as the current request; returns the error when it breaks the Host rule. */
  private startRequest(head: RequestHeader): H1ParseError | undefined {
    const hostProblem = this.requireHost ? hostFieldProblem(head) : undefined;
    if (hostProblem !== undefined) return new H1ParseError(H1_ERRORS.INVALID_HOST, hostProblem, this.reader.parser.consumed);
    this.requests++;
    this.request = head;
    this.responseState = R_NONE;
    this.continueSent = false;
    this.bytesRead = 0;
    this.bytesSent = 0;
    this.keepAlive = this.reader.parser.keepAlive && this.requests < this.maxRequests;
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing: serve it, then close.
    if (head.version === '1.0' && head.headers.has('transfer-encoding')) this.keepAlive = false;
    return undefined;
  }

  /**
   * Serves requests on this connection until it closes (what {@link serveHttp1} does): each request
   * to `handler`, in order. The handler runs in the tick its request's bytes arrived, from the read
   * itself; a request costs no Promise unless the handler returns one.
   */
  serve(handler: RequestHandler): Promise<void> {
    this.handler = handler;
    const served = new Promise<void>((resolve) => (this.served = resolve));
    // Outside the executor: a failure here is thrown to the caller, never a rejection no one handles.
    this.serveNext();
    return served;
  }

  /**
   * Serves the requests that are here, then asks the reader to call again when more bytes come (no
   * Promise). Runs from the socket's read callback, so it never throws: every failure is answered.
   */
  private serveNext(): void {
    const reader = this.reader;
    for (;;) {
      let head: RequestHeader | null | undefined;
      try {
        // The header deadline runs from the first wait for this request, not from each wake-up.
        if (!this.awaitingHead) reader.arm(this.headerTimeoutMs);
        reader.feedHeld();
        head = reader.pollHead(this.headerTimeoutMs);
      } catch (e) {
        this.awaitingHead = false;
        reader.disarm();
        this.headFailed(e).then(this.finishServingListener, this.finishServingListener);
        return;
      }
      if (head === undefined) {
        this.awaitingHead = true;
        reader.onChange(this.serveNextBound);
        return;
      }
      this.awaitingHead = false;
      reader.disarm();
      if (head === null) {
        this.close();
        return this.finishServing();
      }
      if (this.startRequest(head) !== undefined) {
        this.respondError(400).then(this.finishServingListener, this.finishServingListener);
        return;
      }
      let r: Promise<void> | void;
      try {
        r = (this.handler as RequestHandler)(this, head);
      } catch (e) {
        return this.handlerFailed(e);
      }
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).then(this.handled, this.handlerFailed);
        return;
      }
      if (!this.readyForNext()) return;
    }
  }

  private readonly serveNextBound = (): void => this.serveNext();

  /** After a handler that returned a Promise: the next request, if the connection carries one. */
  private readonly handled = (): void => {
    if (this.readyForNext()) this.serveNext();
  };

  private readonly handlerFailed = (e: unknown): void => {
    this.respondError(e instanceof H1ParseError ? (e.status ?? 400) : 500).then(this.finishServingListener, this.finishServingListener);
  };

  /**
   * Whether the next request can be read now: true when the response is done and the request read to
   * its end (the common case, no Promise); otherwise {@link ServerSession.reuse} drains what is left
   * and serving goes on (or ends) once it has.
   */
  private readyForNext(): boolean {
    if (this.tryReuse()) return true;
    this.reuse().then((again) => (again ? this.serveNext() : this.finishServing()), this.finishServingListener);
    return false;
  }

  /** {@link ServerSession.finishServing} bound, made when a connection ends in a Promise (most end without one). */
  private get finishServingListener(): () => void {
    return (this.finishServingBound ??= () => this.finishServing());
  }

  private finishServing(): void {
    const served = this.served;
    this.served = null;
    this.handler = null;
    if (served !== null) served();
  }

  /**
   * Tells `listener` once when the client ends or breaks the connection while it is set (null stops
   * watching), even when no read is waiting: a proxy waiting for its upstream learns at once that no
   * one will read the answer (nginx checks for a broken client connection likewise). Called at once
   * when the client already left.
   */
  watchClientGone(listener: PeerEndListener | null): void {
    const reader = this.reader;
    if (listener !== null && (reader.eof || reader.error !== null || this.stream.socket.destroyed)) {
      reader.endListener = null;
      listener.peerEnded();
      return;
    }
    reader.endListener = listener;
    if (listener !== null) reader.listen();
  }

  /** Whether the request has a body to read (RFC 9112 §6.3). */
  get hasBody(): boolean {
    const f = this.reader.parser.framing;
    return f === 'length' || f === 'chunked';
  }

  /** Whether the request asked to switch protocols (Upgrade) or open a tunnel (CONNECT). */
  get isUpgrade(): boolean {
    const req = this.request;
    if (req === null) return false;
    return req.method === 'CONNECT' || (req.headers.has('upgrade') && /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(req.headers.get('connection') ?? ''));
  }

  /**
   * The next piece of request body, or null at its end. Sends `100 Continue` first when the client
   * asked for it (RFC 9110 §10.1.1) and no response was sent yet.
   * @throws H1ParseError for a malformed body (answered 400/413 and closed when no response was sent).
   */
  async readBodyChunk(): Promise<Buffer | null> {
    if (!this.continueSent && this.responseState === R_NONE && this.expectsContinue()) {
      this.continueSent = true;
      await this.write(CONTINUE);
    }
    try {
      return await this.nextBodyChunk();
    } catch (e) {
      this.keepAlive = false;
      if (this.responseState === R_NONE) {
        if (e instanceof H1ParseError) await this.respondError(e.status ?? 400);
        else if (e instanceof SluiceError && e.type === 'ReadTimedout') await this.respondError(408);
        else this.close();
      } else this.close();
      throw e;
    }
  }

  private expectsContinue(): boolean {
    const req = this.request;
    return req !== null && req.version === '1.1' && this.hasBody && (req.headers.get('expect') ?? '').toLowerCase() === '100-continue';
  }

  /** Sends `100 Continue` now, if the client asked for it and it was not sent yet. */
  writeContinue(): Promise<void> | undefined {
    if (this.continueSent || !this.expectsContinue()) return undefined;
    this.continueSent = true;
    return this.write(CONTINUE);
  }

  /**
   * Sends the response head in one write. Adds `Transfer-Encoding: chunked` when the body length is
   * unknown and the client speaks HTTP/1.1, and `Connection: close` when this is the connection's last
   * response. A 1xx head (other than 101) may precede the final one.
   * Returns a Promise only when the socket is backed up.
   */
  writeResponseHeader(res: ResponseHeader): Promise<void> | undefined {
    const req = this.request;
    if (req === null || this.responseState !== R_NONE) throw new SluiceError('InternalError', { context: 'response head written twice or without a request' });
    if (res.status < 200 && res.status !== 101) {
      // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client, which would take it for the final response.
      if (req.version === '1.0') return undefined;
      return this.write(headBytes(serializeResponseHead(res)));
    }
    this.framing = res.status === 101 ? 'none' : frameResponse(req.method, req.version, res);
    // A final answer to "Expect: 100-continue" without a 100: the client may never send the body,
    // so the connection cannot be reused (RFC 9110 §10.1.1).
    if (this.expectsContinue() && !this.continueSent && !this.reader.complete) this.keepAlive = false;
    if (this.framing === 'close') this.keepAlive = false;
    if (this.framing === 'length') this.remaining = Number(res.headers.get('content-length'));
    if (res.status === 101 || (req.method === 'CONNECT' && res.status < 300)) this.keepAlive = false;
    else if (!this.keepAlive) res.headers.set('Connection', 'close');
    else if (req.version === '1.0') res.headers.set('Connection', 'keep-alive');
    this.responseState = R_HEAD;
    return this.write(headBytes(serializeResponseHead(res, this.dateField(res))));
  }

  /**
   * Sends a piece of response body, framed as the head said (the Buffer itself is written, not copied).
   * Returns a Promise only when the socket is backed up: await it then.
   */
  writeBody(chunk: Buffer): Promise<void> | undefined {
    if (this.responseState !== R_HEAD) throw new SluiceError('InternalError', { context: 'response body written before the head or after the end' });
    if (chunk.length === 0 || this.framing === 'none') return undefined;
    this.bytesSent += chunk.length;
    if (this.framing === 'chunked') return this.writeChunk(chunk);
    if (this.framing === 'length') {
      if (chunk.length > this.remaining) throw new SluiceError('InternalError', { context: `response body longer than its Content-Length (${this.remaining} bytes left, ${chunk.length} given)` });
      this.remaining -= chunk.length;
    }
    return this.write(chunk);
  }

  /**
   * Ends the response: the last chunk with `trailers` for a chunked body; nothing more for a
   * Content-Length body (which must be complete); the end of the connection for a close-delimited one.
   */
  finishResponse(trailers?: HeaderMap | null): Promise<void> | undefined {
    if (this.responseState !== R_HEAD) throw new SluiceError('InternalError', { context: 'finishResponse without a response head' });
    this.responseState = R_DONE;
    if (this.framing === 'chunked') return this.write(lastChunk(trailers));
    if (this.framing === 'length' && this.remaining > 0) {
      this.keepAlive = false;
      this.close();
      return Promise.reject(new SluiceError('InternalError', { context: `response ended ${this.remaining} bytes short of its Content-Length` }));
    }
    if (this.framing === 'close') {
      this.flush();
      this.stream.end();
    }
    return undefined;
  }

  /** Writes a whole response: head, body (Content-Length set from it) and end. */
  respond(res: ResponseHeader, body?: Buffer | string): Promise<void> | undefined {
    const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    const req = this.request;
    this.scanFields(res);
    // No Content-Length on 1xx, 204 (RFC 9110 §8.6) or 304 (it would describe the unsent 200's body);
    // a response to HEAD carries the length a GET would get.
    const bodyAllowed = req !== null && responseHasBody(req.method === 'HEAD' ? 'GET' : req.method, res.status);
    if (bodyAllowed && this.contentLengthField === undefined && !this.transferEncodingField) {
      this.contentLengthField = String(bytes?.length ?? 0);
      res.headers.appendUnchecked('Content-Length', this.contentLengthField, 'content-length');
    }
    if (bytes !== undefined && bytes.length > 0 && bytes.length <= SMALL_BODY && this.canWriteWhole(res, bytes.length)) {
      // Head and a small body in one write() rather than a writev of two.
      const head = serializeResponseHead(res, this.date && !this.dateFieldPresent ? httpDateFieldLine() : '');
      const socket = this.stream.socket;
      this.bytesSent += bytes.length;
      this.responseState = R_DONE;
      // Alone, it goes straight out as one Latin-1 string (Node writes a string from the stack, no
      // Buffer; -2.4% CPU per request); with pipelined requests waiting, as a Buffer joining their batch.
      if (!this.corked && !this.reader.holding && !socket.destroyed) {
        return socket.write(head + (bytes as Latin1Buffer).latin1Slice(0, bytes.length), 'latin1') ? undefined : this.stream.drain();
      }
      const whole = Buffer.allocUnsafe(head.length + bytes.length);
      whole.write(head, 0, 'latin1');
      bytes.copy(whole, head.length);
      return this.corked || this.reader.holding ? this.write(whole) : this.stream.write(whole);
    }
    this.writeResponseHeader(res);
    if (bytes !== undefined && bytes.length > 0) this.writeBody(bytes);
    const r = this.finishResponse();
    return r ?? (this.stream.socket.writableNeedDrain ? this.stream.drain() : undefined);
  }

  /** Finds the fields respond() decides on in one pass over `res`'s fields (no lookup by name each). */
  private scanFields(res: ResponseHeader): void {
    const headers = res.headers;
    this.contentLengthField = undefined;
    this.transferEncodingField = false;
    this.dateFieldPresent = false;
    for (let i = 0; i < headers.size; i++) {
      const key = headers.keyAt(i);
      if (key === 'content-length') this.contentLengthField ??= headers.valueAt(i);
      else if (key === 'transfer-encoding') this.transferEncodingField = true;
      else if (key === 'date') this.dateFieldPresent = true;
    }
  }

  /**
   * Whether `res` (its fields scanned) frames exactly `bodyLength` (> 0) bytes by Content-Length
   * (RFC 9112 §6.3: a body allowed, no Transfer-Encoding); if so, adds the connection fields
   * writeResponseHeader would and takes the response as sent whole.
   */
  private canWriteWhole(res: ResponseHeader, bodyLength: number): boolean {
    const req = this.request;
    if (req === null || this.responseState !== R_NONE || res.status < 200) return false;
    if (this.expectsContinue() && !this.continueSent && !this.reader.complete) this.keepAlive = false;
    if (!responseHasBody(req.method, res.status) || this.transferEncodingField || Number(this.contentLengthField) !== bodyLength) return false;
    if (!this.keepAlive) res.headers.set('Connection', 'close');
    else if (req.version === '1.0') res.headers.set('Connection', 'keep-alive');
    this.framing = 'length';
    return true;
  }

  /** The Date field line a final response gets when it has none and the option is on (else ''). */
  private dateField(res: ResponseHeader): string {
    if (!this.date || res.status < 200) return '';
    const headers = res.headers;
    for (let i = 0; i < headers.size; i++) if (headers.keyAt(i) === 'date') return '';
    return httpDateFieldLine();
  }

  /**
   * Answers with an error status, `Connection: close` and an empty body, then closes (nothing after a
   * bad request is read, RFC 9112 §11.2 on smuggling).
   */
  async respondError(status: number): Promise<void> {
    if (this.closed) return;
    this.keepAlive = false;
    if (this.responseState === R_NONE && !this.stream.socket.destroyed) {
      this.responseState = R_DONE;
      const date = this.date ? httpDateFieldLine() : '';
      const text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n${date}\r\n`;
      try {
        await this.write(Buffer.from(text, 'latin1'));
      } catch {
        // the client is gone; nothing to tell it
      }
    }
    this.close();
  }

  /**
   * After a response is finished: whether the connection can carry the next request. Drains what is
   * left of the request body (up to `maxDrainBytes`) so the next request starts where it should.
   */
  async reuse(): Promise<boolean> {
    if (this.responseState !== R_DONE || !this.keepAlive || this.closed) {
      this.close();
      return false;
    }
    let drained = 0;
    try {
      while (!this.reader.complete) {
        const chunk = await this.reader.readBodyChunk(this.bodyTimeoutMs);
        if (chunk === null) break;
        drained += chunk.length;
        // A piece lent (see retainBody) and dropped unread must still free its buffer.
        this.reader.releaseBody(chunk);
        if (drained > this.maxDrainBytes) throw new SluiceError('InternalError', { context: 'unread request body too large to drain' });
      }
    } catch {
      this.close();
      return false;
    }
    this.nextRequest();
    return true;
  }

  /**
   * The synchronous step of {@link ServerSession.reuse}: when the response is done, the connection
   * stays and the request was read to its end (nothing to drain), prepares for the next request and
   * returns true, costing no Promise; false otherwise (then call reuse()).
   */
  tryReuse(): boolean {
    if (this.responseState !== R_DONE || !this.keepAlive || this.closed || !this.reader.complete) return false;
    this.nextRequest();
    return true;
  }

  /** Forgets the finished exchange; the next request's body is copied again unless it is lent too. */
  private nextRequest(): void {
    this.reader.nextMessage();
    this.request = null;
    // Between requests no response is under way: a bad next head must still get its error status.
    this.responseState = R_NONE;
  }

  /** Hands the connection over after a 101 or a CONNECT 2xx (see {@link Http1Session.takeOver}). */
  override takeOver(): { socket: Socket; head: Buffer } {
    this.closed = true;
    return super.takeOver();
  }

  /** Closes the connection (after pending writes). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.detach();
    // serve() waiting for the next head is told nothing more by the detached reader: it ends here.
    if (this.awaitingHead) {
      this.awaitingHead = false;
      this.finishServing();
    }
    this.flush();
    this.stream.end();
    // Read on (and drop) what the peer still sends, so its FIN is seen and the socket closes as soon as
    // the peer closes too; a peer that never reads must not hold the socket open either.
    const socket = this.stream.socket;
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), 5000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}

/** What {@link serveHttp1} calls for each request. */
export type RequestHandler = (session: ServerSession, request: RequestHeader) => Promise<void> | void;

/**
 * Serves requests on one connection until it closes: reads each request, lets `handler` answer it,
 * and reuses the connection when both sides allow it. Errors are answered and end the connection; a
 * handler that fails before answering gets a 500.
 */
export async function serveHttp1(stream: Stream, handler: RequestHandler, options: ServerSessionOptions = {}): Promise<void> {
  return new ServerSession(stream, options).serve(handler);
}
