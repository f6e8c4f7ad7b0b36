import { SluiceError } from '@sluice/core';
import type { HeaderMap, RequestHeader, ResponseHeader, Stream } from '@sluice/core';
import { lastChunk } from './chunked.js';
import { frameRequest, methodExpectsBody } from './framing.js';
import type { BodyFraming } from './parser.js';
import { headBytes, serializeRequestHead } from './serializer.js';
import { Http1Session } from './session.js';
import type { Http1SessionOptions } from './session.js';

/** Options of {@link ClientSession}; durations in milliseconds. */
export interface ClientSessionOptions extends Http1SessionOptions {
  /** Longest wait for a response head after the request was sent. Default 60000. */
  readTimeoutMs?: number;
}

/**
 * The client side of an HTTP/1.x connection (Pingora's v1 client `HttpSession`): write a request,
 * read its response (skipping 1xx, no body for HEAD, 204, 304, body until close when unframed), and
 * tell whether the connection can go back to the pool.
 */
export class ClientSession extends Http1Session<ResponseHeader> {
  private readonly readTimeoutMs: number;
  private request: RequestHeader | null = null;
  private framing: BodyFraming = 'none';
  private remaining = 0;
  private requestDone = false;
  /** The final response head, once read. */
  response: ResponseHeader | null = null;
  /** Informational (1xx) responses received before the final one. */
  readonly informational: ResponseHeader[] = [];

  constructor(stream: Stream, options: ClientSessionOptions = {}) {
    super(stream, 'response', options);
    this.readTimeoutMs = options.readTimeoutMs ?? 60_000;
  }

  /**
   * Sends the request head in one write. `hasBody` says a body follows when the head gives no length:
   * it is then sent chunked (`Transfer-Encoding: chunked` is added). Default: whether the method
   * usually has a body.
   */
  writeRequestHeader(req: RequestHeader, hasBody = methodExpectsBody(req.method)): Promise<void> | undefined {
    if (this.request !== null) throw new SluiceError('InternalError', { context: 'one request per session exchange; call reuse() first' });
    this.request = req;
    this.framing = frameRequest(req, hasBody);
    this.remaining = this.framing === 'length' ? Number(req.headers.get('content-length')) : 0;
    this.requestDone = this.framing === 'none';
    // A response to HEAD has no body whatever its fields say (RFC 9110 §9.3.2); a 2xx to CONNECT
    // opens a tunnel (§9.3.6).
    this.reader.skipBody = req.method === 'HEAD';
    this.reader.connectRequest = req.method === 'CONNECT';
    const head = serializeRequestHead(req);
    const socket = this.stream.socket;
    // A head with nothing after it goes out at once as a Latin-1 string: no Buffer, no cork, no tick.
    if (this.requestDone && !this.corked && socket.writableCorked === 0 && !socket.destroyed) {
      return socket.write(head, 'latin1') ? undefined : this.stream.drain();
    }
    return this.write(headBytes(head));
  }

  /** Sends a piece of request body, framed as the head said. Returns a Promise only under backpressure. */
  writeBody(chunk: Buffer): Promise<void> | undefined {
    if (this.request === null || this.requestDone) throw new SluiceError('InternalError', { context: 'request body written without a head or after its end' });
    if (chunk.length === 0) return undefined;
    this.bytesSent += chunk.length;
    if (this.framing === 'chunked') return this.writeChunk(chunk);
    if (chunk.length > this.remaining) throw new SluiceError('InternalError', { context: `request body longer than its Content-Length (${this.remaining} bytes left)` });
    this.remaining -= chunk.length;
    return this.write(chunk);
  }

  /** Ends the request body (the last chunk with `trailers` when chunked). */
  finishBody(trailers?: HeaderMap | null): Promise<void> | undefined {
    if (this.requestDone) return undefined;
    this.requestDone = true;
    if (this.framing === 'chunked') return this.write(lastChunk(trailers));
    if (this.remaining > 0) throw new SluiceError('InternalError', { context: `request body ended ${this.remaining} bytes short of its Content-Length` });
    return undefined;
  }

  /**
   * Reads the final response head, collecting 1xx heads in {@link ClientSession.informational}
   * (a 101 is final: the connection then belongs to the new protocol).
   * @throws H1ParseError for a malformed response; SluiceError `ReadTimedout`, `ConnectionClosed`
   *   (also with code `ERR_H1_SESSION_CLOSED` when {@link ClientSession.close} ends the wait).
   */
  async readResponse(): Promise<ResponseHeader> {
    for (;;) {
      const head = await this.readResponseHead();
      if (head.status >= 200 || head.status === 101) return head;
      this.informational.push(head);
    }
  }

  /**
   * Reads the next response head as it arrives, 1xx included (RFC 9110 §15.2: a proxy forwards each
   * informational response when it comes, e.g. 103 Early Hints while the origin still works). After a
   * 1xx, call again for the next head; a final head (>= 200, or 101) is kept as
   * {@link ClientSession.response}. The read timeout applies to each wait.
   * @throws as {@link ClientSession.readResponse}.
   */
  async readResponseHead(): Promise<ResponseHeader> {
    // MessageReader.readHead's steps inline: one Promise fewer per response.
    const reader = this.reader;
    let head: ResponseHeader | null | undefined;
    reader.arm(this.readTimeoutMs);
    try {
      while ((head = reader.pollHead(this.readTimeoutMs)) === undefined) await reader.changed();
    } finally {
      reader.disarm();
    }
    if (head === null) throw new SluiceError('ConnectionClosed', { context: 'upstream closed the connection before responding' }).intoUp();
    if (head.status >= 200 || head.status === 101) {
      this.response = head;
      return head;
    }
    this.reader.nextMessage();
    this.reader.skipBody = this.request?.method === 'HEAD';
    return head;
  }

  /** The next piece of response body, or null at its end (for a close-delimited body: at EOF). */
  readBodyChunk(): Promise<Buffer | null> {
    return this.nextBodyChunk();
  }

  /**
   * The next piece of response body if it is here already (null at its end), or undefined: then
   * await {@link ClientSession.readBodyChunk}. Costs no Promise.
   * @throws as readBodyChunk does.
   */
  pollBodyChunk(): Buffer | null | undefined {
    const chunk = this.reader.pollBodyChunk();
    if (chunk) this.bytesRead += chunk.length;
    return chunk;
  }

  /**
   * The response body (what is left of it), taken as read, when all of it is here in one piece (often
   * so for a small response, which arrives with its head); an empty Buffer for none; undefined, taking
   * nothing, when more is to come or it came in pieces.
   */
  takeWholeBody(): Buffer | undefined {
    const body = this.reader.takeWholeBody();
    if (body !== undefined) this.bytesRead += body.length;
    return body;
  }

  /**
   * Whether the connection can carry another request (so a pool may keep it): the request and the
   * whole response were exchanged, both sides keep the connection alive (RFC 9112 §9.3), the response
   * was not close-delimited or an upgrade, and no stray bytes followed it.
   */
  isReusable(): boolean {
    const res = this.response;
    const req = this.request;
    if (res === null || req === null || !this.requestDone || !this.reader.complete || this.reader.error !== null) return false;
    if (this.reader.parser.upgraded || res.status === 101 || (req.method === 'CONNECT' && res.status < 300)) return false;
    if (!this.reader.parser.keepAlive || this.stream.closed) return false;
    if (/(?:^|,)\s*close\s*(?:,|$)/i.test(req.headers.get('connection') ?? '')) return false;
    return this.reader.takeLeftover() === null;
  }

  /** Prepares the session for the next request on the same connection; false when it cannot be reused. */
  reuse(): boolean {
    if (!this.isReusable()) return false;
    this.reader.nextMessage();
    this.request = null;
    this.response = null;
    this.informational.length = 0;
    this.bytesRead = this.bytesSent = 0;
    return true;
  }

  /**
   * Ends this session's use of the connection: returns the stream, no longer read by this session,
   * when it can carry another request (put it in core's `ConnectionPool`), or closes it and returns
   * null.
   */
  release(): Stream | null {
    if (!this.isReusable()) {
      this.close();
      return null;
    }
    this.flush();
    this.reader.detach();
    return this.stream;
  }

  /**
   * Closes the connection. A read still waiting (`readResponse`, a body read) fails with SluiceError
   * `ConnectionClosed`, code `ERR_H1_SESSION_CLOSED`, instead of waiting forever.
   */
  close(): void {
    this.flush();
    this.reader.cancel(new SluiceError('ConnectionClosed', { code: 'ERR_H1_SESSION_CLOSED', context: 'the client session was closed while a response was awaited' }));
    this.reader.detach();
    this.stream.destroy();
  }
}
