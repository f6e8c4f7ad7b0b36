import { HeaderMap, RequestHeader, ResponseHeader } from '@sluice/core';
import type { HttpVersion } from '@sluice/core';
import { H1ParseError, H1_ERRORS } from './error.js';
import type { H1ErrorKind } from './error.js';
import { COLON, CR, HTAB, LF, MAX_SAFE, REASON_CHARS, SCHEME_CHARS, SP, TOKEN, URL_CHARS, VALUE_CHARS, equalsLower, overflowOffset } from './chars.js';
import { parseChunkSizeLine } from './chunked.js';

/** Limits of {@link Http1Parser}; every one has a safe default. */
export interface Http1ParserOptions {
  /** Longest start line in bytes, CRLF included. Default 8192 (nginx's buffer size); 414 when serving. */
  maxStartLineBytes?: number;
  /** Most bytes of field lines (or of trailer lines) in one message. Default 16384 (Node's); 431. */
  maxHeaderBytes?: number;
  /** Most field lines (or trailer lines) in one message. Default 256 (Pingora's); 431. */
  maxHeaderCount?: number;
  /** Longest chunk-size line with its extensions. Default 4096; 413. */
  maxChunkLineBytes?: number;
  /** Most body bytes in one message. Default unlimited; 413. */
  maxBodyBytes?: number;
}

/**
 * What the parser reports. Calls happen synchronously inside {@link Http1Parser.execute}; a handler may
 * call {@link Http1Parser.pause} to make `execute` return right after the current event.
 */
export interface Http1ParserHandler<Head extends RequestHeader | ResponseHeader> {
  /**
   * The start line and fields are complete. Return `true` when the message has no body whatever its
   * fields say (a response to HEAD, RFC 9110 §9.3.2).
   */
  onHead(head: Head): boolean | void;
  /** A piece of body: a view of the Buffer given to `execute`, valid until the caller reuses it. */
  onBody(chunk: Buffer): void;
  /** The trailer section of a chunked message (RFC 9112 §7.1.2); only called when it is not empty. */
  onTrailers(trailers: HeaderMap): void;
  /** The message ended. */
  onMessageComplete(): void;
}

/** How the body of the current message is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

// Parser states.
const S_START = 0; // before a start line (empty lines allowed)
const S_HEADER = 1; // a field line or the empty line ending the head
const S_BODY_LENGTH = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_DATA = 4;
const S_CHUNK_DATA_END = 5;
const S_TRAILER = 6;
const S_BODY_EOF = 7;
const S_CLOSED = 8; // after a message that ends the connection
const S_UPGRADED = 9; // the rest of the stream belongs to another protocol
const S_FAILED = 10;

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** A chunk up to this size is taken as text whole, without looking for the end of the head first. */
const SMALL_CHUNK = 2048;

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** The method as a shared string for the common ones, so a GET allocates nothing. */
function methodString(data: Latin1Buffer, start: number, end: number): string {
  const len = end - start;
  const c = data[start];
  if (len === 3 && c === 0x47 && data[start + 1] === 0x45 && data[start + 2] === 0x54) return 'GET';
  if (len === 4 && c === 0x50 && data[start + 1] === 0x4f && data[start + 2] === 0x53 && data[start + 3] === 0x54) return 'POST';
  if (len === 4 && c === 0x48 && data[start + 1] === 0x45 && data[start + 2] === 0x41 && data[start + 3] === 0x44) return 'HEAD';
  if (len === 3 && c === 0x50 && data[start + 1] === 0x55 && data[start + 2] === 0x54) return 'PUT';
  return data.latin1Slice(start, end);
}

/**
 * A push parser of HTTP/1.x requests or responses (RFC 9112). Feed it bytes as they arrive, split
 * anywhere, with {@link Http1Parser.execute}; it reports heads, body views, trailers and message ends
 * to its handler. It is strict exactly where llhttp is strict (see the README for the few deliberate
 * differences) and throws {@link H1ParseError} on the first fault.
 */
export class Http1Parser<Head extends RequestHeader | ResponseHeader = RequestHeader | ResponseHeader> {
  /** Whether this parser reads requests (a server) or responses (a client). */
  readonly kind: 'request' | 'response';
  /** Where events go; may be replaced between messages. */
  handler: Http1ParserHandler<Head>;
  private readonly maxStartLineBytes: number;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaderCount: number;
  private readonly maxChunkLineBytes: number;
  private readonly maxBodyBytes: number;

  private state = S_START;
  /** Stream offset of the first byte of the next `execute` chunk. */
  private streamOffset = 0;

  /** Bytes of the stream consumed so far (the offset of the next byte to parse). */
  get consumed(): number {
    return this.streamOffset;
  }
  /** Copy of the unfinished line from earlier chunks. */
  private pending: Buffer | null = null;
  private paused = false;
  private error: H1ParseError | null = null;

  // The message being parsed.
  private method = '';
  private uri = '';
  private status = 0;
  private reason: string | undefined = undefined;
  private version: HttpVersion = '1.1';
  private headers: HeaderMap | null = null;
  private headerBytes = 0;
  private contentLength = -1;
  private transferEncoding = false;
  private chunkedFinal = false;
  private unknownCoding = false;
  private connectionClose = false;
  private connectionKeepAlive = false;
  private connectionUpgrade = false;
  private upgradeHeader = false;
  private remaining = 0;
  private bodyBytes = 0;
  /** Where parseChunkSizeLine leaves the size it read. */
  private readonly chunk = { size: 0 };
  // The head as one Latin-1 string when it arrived whole: field names and values are cut from it,
  // which costs far less than a latin1Slice() call per string.
  private headText = '';
  private headTextData: Buffer | null = null;
  private headTextStart = 0;

  private trailers: HeaderMap | null = null;

  /** How the current (or last) message's body is delimited. */
  framing: BodyFraming = 'none';
  /** Whether the connection may carry another message after the current one (RFC 9112 §9.3). */
  keepAlive = true;
  /** Set when the stream switched protocols (101, CONNECT, Upgrade); `execute` consumes no more. */
  upgraded = false;
  /** The head of the current (or last) message. */
  head: Head | null = null;

  constructor(kind: 'request' | 'response', handler: Http1ParserHandler<Head>, options: Http1ParserOptions = {}) {
    this.kind = kind;
    this.handler = handler;
    this.maxStartLineBytes = options.maxStartLineBytes ?? 8192;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16384;
    this.maxHeaderCount = options.maxHeaderCount ?? 256;
    this.maxChunkLineBytes = options.maxChunkLineBytes ?? 4096;
    this.maxBodyBytes = options.maxBodyBytes ?? Infinity;
  }

  /** Stops `execute` after the current event; the caller feeds the unconsumed rest again later. */
  pause(): void {
    this.paused = true;
  }

  /**
   * Forgets the head of the finished message (its fields, the text they were cut from), so a
   * connection waiting for its next message keeps none of the last one alive.
   */
  forgetMessage(): void {
    this.head = null;
    this.headers = null;
    this.trailers = null;
    this.headText = '';
    this.uri = '';
    this.reason = undefined;
  }

  /** Starts a new stream: forgets everything, including an error. */
  reset(): void {
    this.state = S_START;
    this.streamOffset = 0;
    this.pending = null;
    this.paused = false;
    this.error = null;
    this.upgraded = false;
    this.head = null;
    this.keepAlive = true;
  }

  /**
   * Parses `chunk[0, end)` (all of it by default). Returns how many of those bytes were consumed: all
   * of them, unless a handler paused the parser or the stream was upgraded, in which case the rest is
   * the caller's to keep.
   * @throws H1ParseError on the first protocol violation; later calls throw it again.
   */
  execute(chunk: Buffer, end: number = chunk.length): number {
    if (this.error !== null) throw this.error;
    this.paused = false;
    if (this.state === S_UPGRADED) return 0;
    let data = chunk as Latin1Buffer;
    let held = 0;
    if (this.pending !== null) {
      held = this.pending.length;
      data = Buffer.concat([this.pending, end === chunk.length ? chunk : chunk.subarray(0, end)]) as Latin1Buffer;
      end += held;
      this.pending = null;
    }
    const base = this.streamOffset - held;
    let pos = 0;
    try {
      pos = this.run(data, 0, end, base);
    } catch (e) {
      if (e instanceof H1ParseError) {
        this.state = S_FAILED;
        this.error = e;
      }
      throw e;
    }
    // Chunks are not kept past the call that parsed them.
    this.headTextData = null;
    const consumed = pos - held < 0 ? 0 : pos - held;
    this.streamOffset += consumed;
    return consumed;
  }

  /**
   * Tells the parser the stream ended. A close-delimited body completes; anything else unfinished is
   * an error.
   * @throws H1ParseError `ERR_H1_INCOMPLETE_MESSAGE` when the stream ended inside a message.
   */
  finish(): void {
    if (this.error !== null) throw this.error;
    if (this.state === S_BODY_EOF) {
      this.state = S_CLOSED;
      this.handler.onMessageComplete();
      return;
    }
    if ((this.state === S_START || this.state === S_CLOSED || this.state === S_UPGRADED) && this.pending === null) return;
    const e = new H1ParseError(H1_ERRORS.INCOMPLETE_MESSAGE, 'stream ended inside a message', this.streamOffset + (this.pending?.length ?? 0));
    this.state = S_FAILED;
    this.error = e;
    throw e;
  }

  private fail(kind: H1ErrorKind, reason: string, offset: number): never {
    throw new H1ParseError(kind, reason, offset);
  }

  /** The parse loop; returns the position reached in `data`. */
  private run(data: Latin1Buffer, pos: number, end: number, base: number): number {
    while (pos < end && !this.paused) {
      switch (this.state) {
        case S_START: {
          const c = data[pos];
          // RFC 9112 §2.2: ignore empty lines before a request-line.
          if (c === CR || c === LF) {
            pos++;
            continue;
          }
          this.cacheHeadText(data, pos, end);
          const next = this.kind === 'request' ? this.requestLine(data, pos, end, base) : this.statusLine(data, pos, end, base);
          if (next < 0) return this.hold(data, pos, end);
          pos = next;
          this.newMessageFields();
          this.state = S_HEADER;
          this.headerBytes = 0;
          break;
        }
        case S_HEADER:
        case S_TRAILER: {
          const next = this.fieldLine(data, pos, end, base);
          if (next < 0) return this.hold(data, pos, end);
          pos = next;
          break;
        }
        case S_BODY_LENGTH: {
          const n = end - pos < this.remaining ? end - pos : this.remaining;
          this.remaining -= n;
          const from = pos;
          pos += n;
          this.handler.onBody(data.subarray(from, pos));
          if (this.remaining === 0) this.messageComplete();
          break;
        }
        case S_CHUNK_SIZE: {
          const next = this.chunkSizeLine(data, pos, end, base);
          if (next < 0) return this.hold(data, pos, end);
          pos = next;
          break;
        }
        case S_CHUNK_DATA: {
          const n = end - pos < this.remaining ? end - pos : this.remaining;
          this.remaining -= n;
          const from = pos;
          pos += n;
          if (this.remaining === 0) this.state = S_CHUNK_DATA_END;
          this.handler.onBody(data.subarray(from, pos));
          break;
        }
        case S_CHUNK_DATA_END: {
          // RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
          if (data[pos] === LF) this.fail(H1_ERRORS.CR_EXPECTED, 'expected CR before LF after chunk data', base + pos + 1);
          if (data[pos] !== CR) this.fail(H1_ERRORS.LF_EXPECTED, 'expected CRLF after chunk data', base + pos);
          if (pos + 1 === end) return this.hold(data, pos, end);
          if (data[pos + 1] !== LF) this.fail(H1_ERRORS.LF_EXPECTED, 'expected LF after chunk data', base + pos + 1);
          pos += 2;
          this.state = S_CHUNK_SIZE;
          break;
        }
        case S_BODY_EOF: {
          const from = pos;
          pos = end;
          this.handler.onBody(data.subarray(from, end));
          break;
        }
        case S_CLOSED:
          if (data[pos] === CR || data[pos] === LF) {
            pos++;
            continue;
          }
          return this.fail(H1_ERRORS.DATA_AFTER_CLOSE, 'data after a message that closes the connection', base + pos + 1);
        case S_UPGRADED:
          return pos;
        default:
          throw this.error;
      }
    }
    return pos;
  }

  /**
   * Takes the head as one string: the whole rest of a small chunk (usually exactly one message), or up
   * to the end of the head found with one memmem in a larger one. Strings outside it are sliced alone.
   */
  private cacheHeadText(data: Latin1Buffer, pos: number, end: number): void {
    let to = end;
    if (end - pos > SMALL_CHUNK) {
      const headEnd = data.indexOf(HEAD_END, pos);
      if (headEnd === -1 || headEnd > pos + this.maxStartLineBytes + this.maxHeaderBytes) {
        this.headTextData = null;
        return;
      }
      to = headEnd + 4;
    }
    this.headTextData = data;
    this.headTextStart = pos;
    this.headText = data.latin1Slice(pos, to);
  }

  /** The Latin-1 text of `data[from, to)`. */
  private text(data: Latin1Buffer, from: number, to: number): string {
    const at = from - this.headTextStart;
    if (this.headTextData === data && at >= 0 && to - this.headTextStart <= this.headText.length) return this.headText.slice(at, at + to - from);
    return data.latin1Slice(from, to);
  }

  /** Keeps the unfinished line `data[pos, end)` for the next chunk and reports all of `data` consumed. */
  private hold(data: Buffer, pos: number, end: number): number {
    this.pending = Buffer.from(data.subarray(pos, end));
    return end;
  }

  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF
  private requestLine(data: Latin1Buffer, start: number, end: number, base: number): number {
    const limit = start + this.maxStartLineBytes;
    let i = start;
    while (i < end && TOKEN[data[i]] === 1) i++;
    if (i === end) return this.partialStartLine(end, limit, base);
    if (i === start) this.fail(H1_ERRORS.INVALID_METHOD, 'invalid method', base + i);
    if (data[i] !== SP) this.fail(H1_ERRORS.INVALID_METHOD, 'expected space after method', base + i);
    const methodEnd = i;
    // llhttp (and RFC 9112 §3 "MAY parse on whitespace boundaries") accept several spaces here.
    while (i < end && data[i] === SP) i++;
    const uriStart = i;
    while (i < end && URL_CHARS[data[i]] === 1) i++;
    if (i === end) return this.partialStartLine(end, limit, base);
    if (i === uriStart || data[i] !== SP) {
      const c = data[i];
      if (c === CR && i + 1 === end) return this.partialStartLine(end, limit, base);
      // CRLF or LF right after the target is an HTTP/0.9 request, which HTTP/1.1 no longer has.
      if (i > uriStart && ((c === CR && data[i + 1] === LF) || c === LF)) this.fail(H1_ERRORS.INVALID_CONSTANT, 'expected HTTP-version after request target', base + i);
      // llhttp reports HTAB, FF and a bare CR one byte on, other bytes where they are.
      this.fail(H1_ERRORS.INVALID_URL, 'invalid character in request target', base + i + (c === HTAB || c === CR || c === 0x0c ? 1 : 0));
    }
    const uriEnd = i;
    this.checkTargetForm(data, start, methodEnd, uriStart, uriEnd, base);
    while (i < end && data[i] === SP) i++;
    if (i === end) return this.partialStartLine(end, limit, base);
    if (i > limit) this.fail(H1_ERRORS.START_LINE_TOO_LONG, 'request line too long', base + limit);
    const next = this.httpVersion(data, i, end, base, true);
    if (next < 0) return this.partialStartLine(end, limit, base);
    if (next > limit) this.fail(H1_ERRORS.START_LINE_TOO_LONG, 'request line too long', base + limit);
    this.method = methodString(data, start, methodEnd);
    this.uri = this.text(data, uriStart, uriEnd);
    return next;
  }

  /**
   * RFC 9112 §3.2: origin-form starts with "/", asterisk-form is "*", absolute-form with a scheme and
   * "://"; any other start is authority-form, which only CONNECT uses (§3.2.3).
   */
  private checkTargetForm(data: Buffer, start: number, methodEnd: number, uriStart: number, uriEnd: number, base: number): void {
    const c = data[uriStart];
    if (c === 0x2f || c === 0x2a) return;
    if (methodEnd - start === 7 && equalsLower(data, start, 'connect') && data[start] === 0x43) return;
    let i = uriStart;
    if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) {
      while (i < uriEnd && SCHEME_CHARS[data[i]] === 1) i++;
      if (i + 3 <= uriEnd && data[i] === COLON && data[i + 1] === 0x2f && data[i + 2] === 0x2f) return;
    }
    this.fail(H1_ERRORS.INVALID_URL, 'request target is not in origin-, absolute- or asterisk-form', base + i);
  }

  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
  private statusLine(data: Latin1Buffer, start: number, end: number, base: number): number {
    const limit = start + this.maxStartLineBytes;
    let i = this.httpVersion(data, start, end, base, false);
    if (i < 0) return this.partialStartLine(end, limit, base);
    if (i + 3 >= end) return this.partialStatus(data, i, end, base, limit);
    let status = 0;
    for (let k = 0; k < 3; k++) {
      const d = data[i + k] - 0x30;
      if (d < 0 || d > 9) this.fail(H1_ERRORS.INVALID_STATUS, 'invalid status code', base + i + k);
      status = status * 10 + d;
    }
    i += 3;
    let reasonStart = i;
    let reasonEnd = i;
    if (data[i] === SP) {
      reasonStart = ++i;
      while (i < end && REASON_CHARS[data[i]] === 1) i++;
      if (i === end) return this.partialStartLine(end, limit, base);
      reasonEnd = i;
    }
    const c = data[i];
    if (c === LF) this.fail(H1_ERRORS.CR_EXPECTED, 'expected CR after status line', base + i + 1);
    if (c !== CR) this.fail(H1_ERRORS.INVALID_STATUS, 'invalid character in status line', base + i);
    if (i + 1 === end) return this.partialStartLine(end, limit, base);
    if (data[i + 1] !== LF) this.fail(H1_ERRORS.LF_EXPECTED, 'expected LF after CR', base + i + 1);
    if (i + 2 > limit) this.fail(H1_ERRORS.START_LINE_TOO_LONG, 'status line too long', base + limit);
    this.status = status;
    this.reason = reasonEnd > reasonStart || data[reasonStart - 1] === SP ? data.latin1Slice(reasonStart, reasonEnd) : undefined;
    return i + 2;
  }

  /** Status digits split across chunks: validates what is there, then waits. */
  private partialStatus(data: Buffer, i: number, end: number, base: number, limit: number): number {
    for (let k = i; k < end && k < i + 3; k++) {
      const d = data[k] - 0x30;
      if (d < 0 || d > 9) this.fail(H1_ERRORS.INVALID_STATUS, 'invalid status code', base + k);
    }
    return this.partialStartLine(end, limit, base);
  }

  /**
   * `HTTP/` DIGIT `.` DIGIT, then (request) CRLF or (response) SP. Returns the position after it, or -1
   * when the data ends first. Only 1.0 and 1.1 are HTTP/1 (RFC 9112 §2.3).
   */
  private httpVersion(data: Buffer, i: number, end: number, base: number, request: boolean): number {
    const constant = 'HTTP/';
    const from = i;
    for (let k = 0; k < 5; k++, i++) {
      if (i === end) return -1;
      if (data[i] !== constant.charCodeAt(k)) return this.protocolError(data, from, end, base);
    }
    if (i === end) return -1;
    const major = data[i] - 0x30;
    if (major < 0 || major > 9) this.fail(H1_ERRORS.INVALID_VERSION, 'invalid major version', base + i);
    if (++i === end) return -1;
    if (data[i] !== 0x2e) this.fail(H1_ERRORS.INVALID_VERSION, 'expected dot in version', base + i);
    if (++i === end) return -1;
    const minor = data[i] - 0x30;
    if (minor < 0 || minor > 9) this.fail(H1_ERRORS.INVALID_VERSION, 'invalid minor version', base + i);
    i++;
    if (major !== 1 || minor > 1) {
      // llhttp accepts 0.9 and 2.0 as well; they are not HTTP/1.x messages (see README).
      const kind = major === 0 && minor === 9 || major === 2 && minor === 0 ? H1_ERRORS.UNSUPPORTED_VERSION : H1_ERRORS.INVALID_VERSION;
      this.fail(kind, `unsupported HTTP version ${major}.${minor}`, base + i);
    }
    this.version = minor === 1 ? '1.1' : '1.0';
    if (i === end) return -1;
    const c = data[i];
    if (!request) {
      if (c !== SP) this.fail(H1_ERRORS.INVALID_VERSION, 'expected space after version', base + i);
      return i + 1;
    }
    if (c === LF) this.fail(H1_ERRORS.INVALID_VERSION, 'expected CRLF after version', base + i + 1);
    if (c !== CR) this.fail(H1_ERRORS.INVALID_VERSION, 'expected CRLF after version', base + i);
    if (i + 1 === end) return -1;
    if (data[i + 1] !== LF) this.fail(H1_ERRORS.LF_EXPECTED, 'expected LF after CR', base + i + 1);
    return i + 2;
  }

  /**
   * Fails at the byte where no protocol name llhttp knows (HTTP/, RTSP, ICE) can match any more, so the
   * offset agrees with llhttp's; waits when the bytes so far could still be one.
   */
  private protocolError(data: Buffer, from: number, end: number, base: number): number {
    let best = 0;
    for (const name of ['HTTP/', 'RTSP', 'ICE']) {
      let m = 0;
      while (m < name.length && from + m < end && data[from + m] === name.charCodeAt(m)) m++;
      if (from + m === end && m < name.length) return -1;
      if (m > best) best = m;
    }
    return this.fail(H1_ERRORS.INVALID_CONSTANT, 'expected HTTP/', base + from + best);
  }

  /** A start line that has not ended yet: fails if it is already too long, else asks for more bytes. */
  private partialStartLine(end: number, limit: number, base: number): number {
    if (end > limit) this.fail(H1_ERRORS.START_LINE_TOO_LONG, 'start line too long', base + limit);
    return -1;
  }

  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, CRLF; no obs-fold, no space before ":".
  private fieldLine(data: Latin1Buffer, start: number, end: number, base: number): number {
    const trailer = this.state === S_TRAILER;
    const limit = start + (this.maxHeaderBytes - this.headerBytes);
    const first = data[start];
    if (first === CR) {
      if (start + 1 === end) return -1;
      if (data[start + 1] !== LF) this.fail(H1_ERRORS.LF_EXPECTED, 'expected LF after headers', base + start + 1);
      if (trailer) this.trailersComplete();
      else this.headersComplete(data, start + 2, base);
      return start + 2;
    }
    if (first === LF) this.fail(H1_ERRORS.INVALID_HEADER_TOKEN, 'bare LF ending the field section', base + start + 1);
    if (first === SP || first === HTAB) {
      const fields = trailer ? this.trailers : this.headers;
      if (trailer && (fields === null || fields.size === 0)) this.fail(H1_ERRORS.INVALID_HEADER_TOKEN, 'whitespace before a trailer field', base + start);
      if (fields === null || fields.size === 0) {
        if (first === HTAB) this.fail(H1_ERRORS.INVALID_HEADER_TOKEN, 'HTAB after start line', base + start);
        this.fail(H1_ERRORS.UNEXPECTED_SPACE, 'unexpected space after start line', base + start + 1);
      }
      // RFC 9112 §5.2: obs-fold is obsolete; a server may reject it, and llhttp does.
      this.fail(H1_ERRORS.OBS_FOLD, 'obsolete line folding', base + start);
    }
    // Tables in locals: the scans below are the parser's hottest loops.
    const token = TOKEN;
    const valueChars = VALUE_CHARS;
    let i = start;
    while (i < end && token[data[i]] === 1) i++;
    if (i === end) return this.partialField(end, limit, base);
    if (data[i] !== COLON || i === start) {
      // llhttp reports one byte further when the name is one it tracks (framing fields).
      const tracked = data[i] === SP && isFramingFieldName(data, start, i) ? 1 : 0;
      this.fail(H1_ERRORS.INVALID_HEADER_TOKEN, data[i] === SP || data[i] === HTAB ? 'whitespace before colon' : 'invalid character in field name', base + i + tracked);
    }
    const nameEnd = i;
    i++;
    while (i < end && (data[i] === SP || data[i] === HTAB)) i++;
    const valueStart = i;
    // Four bytes at a time while none is below SP or DEL (SWAR "has less than" / "has zero"; obs-text
    // passes), then byte by byte from the word that has one (HTAB, CR, or a fault).
    while (i + 4 <= end) {
      const x = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
      const del = x ^ 0x7f7f7f7f;
      if ((((x - 0x20202020) & ~x) | ((del - 0x01010101) & ~del)) & 0x80808080) break;
      i += 4;
    }
    while (i < end && valueChars[data[i]] === 1) i++;
    if (i === end) return this.partialField(end, limit, base);
    const c = data[i];
    if (c !== CR) {
      if (c === LF) {
        if (i === valueStart) this.fail(H1_ERRORS.INVALID_HEADER_TOKEN, 'empty field value ended by a bare LF', base + i + 1);
        this.fail(H1_ERRORS.CR_EXPECTED, 'expected CR after field value', base + i);
      }
      // llhttp checks Content-Length values as numbers, so a bad byte there is a bad length.
      const kind = nameEnd - start === 14 && equalsLower(data, start, 'content-length') ? H1_ERRORS.INVALID_CONTENT_LENGTH : H1_ERRORS.INVALID_HEADER_VALUE;
      this.fail(kind, `invalid byte 0x${c.toString(16).padStart(2, '0')} in field value`, base + i);
    }
    if (i + 1 === end) return this.partialField(end, limit, base);
    if (data[i + 1] !== LF) this.fail(H1_ERRORS.LF_EXPECTED, 'expected LF after field value', base + i + 1);
    let valueEnd = i;
    while (valueEnd > valueStart && (data[valueEnd - 1] === SP || data[valueEnd - 1] === HTAB)) valueEnd--;
    const lineEnd = i + 2;
    if (lineEnd > limit) this.fail(H1_ERRORS.HEADERS_TOO_LARGE, trailer ? 'trailer section too large' : 'header section too large', base + limit);
    this.headerBytes += lineEnd - start;
    const fields = trailer ? (this.trailers ??= new HeaderMap()) : (this.headers as HeaderMap);
    if (fields.size >= this.maxHeaderCount) this.fail(H1_ERRORS.TOO_MANY_HEADERS, `more than ${this.maxHeaderCount} fields`, base + start);
    if (!trailer) this.framingField(data, start, nameEnd, valueStart, valueEnd, i, lineEnd, base);
    fields.appendUnchecked(this.text(data, start, nameEnd), this.text(data, valueStart, valueEnd));
    return lineEnd;
  }

  private partialField(end: number, limit: number, base: number): number {
    if (end > limit) this.fail(H1_ERRORS.HEADERS_TOO_LARGE, this.state === S_TRAILER ? 'trailer section too large' : 'header section too large', base + limit);
    return -1;
  }

  /** Records the fields that decide framing and connection handling. */
  private framingField(data: Buffer, start: number, nameEnd: number, valueStart: number, valueEnd: number, rawValueEnd: number, lineEnd: number, base: number): void {
    const len = nameEnd - start;
    const c = data[start] | 0x20;
    if (len === 14 && c === 0x63 && equalsLower(data, start, 'content-length')) {
      if (this.transferEncoding) this.fail(H1_ERRORS.CONTENT_LENGTH_WITH_TRANSFER_ENCODING, 'Content-Length with Transfer-Encoding', base + nameEnd + 1);
      // RFC 9110 §8.6 lets a recipient merge identical values; llhttp rejects every repeat, and so do we.
      if (valueStart === valueEnd) this.fail(H1_ERRORS.INVALID_CONTENT_LENGTH, 'empty Content-Length', base + lineEnd);
      if (this.contentLength !== -1) this.fail(H1_ERRORS.DUPLICATE_CONTENT_LENGTH, 'duplicate Content-Length', base + valueStart);
      // RFC 9110 §8.6: 1*DIGIT and nothing else: no sign, no hex, no list, no inner whitespace.
      let n = 0;
      let i = valueStart;
      for (; i < valueEnd; i++) {
        const d = data[i] - 0x30;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
        if (n > MAX_SAFE) this.fail(H1_ERRORS.INVALID_CONTENT_LENGTH, 'Content-Length overflow', base + overflowOffset(data, valueStart, valueEnd, 10));
      }
      while (i < valueEnd && (data[i] === SP || data[i] === HTAB)) i++;
      if (i < valueEnd) this.fail(H1_ERRORS.INVALID_CONTENT_LENGTH, 'invalid character in Content-Length', base + i);
      this.contentLength = n;
    } else if (len === 17 && c === 0x74 && equalsLower(data, start, 'transfer-encoding')) {
      if (this.contentLength !== -1) this.fail(H1_ERRORS.CONTENT_LENGTH_WITH_TRANSFER_ENCODING, 'Transfer-Encoding with Content-Length', base + nameEnd + 1);
      // RFC 9112 §6.3 rule 4: in a request nothing may follow chunked; llhttp fails at once.
      if (this.chunkedFinal && this.kind === 'request') this.fail(H1_ERRORS.INVALID_TRANSFER_ENCODING, 'Transfer-Encoding after chunked', base + valueStart + 1);
      this.transferEncoding = true;
      this.transferCodings(data, valueStart, rawValueEnd, base);
    } else if (len === 10 && c === 0x63 && equalsLower(data, start, 'connection')) {
      this.connectionOptions(data, valueStart, valueEnd);
    } else if (len === 7 && c === 0x75 && equalsLower(data, start, 'upgrade')) {
      this.upgradeHeader = true;
    }
  }

  // RFC 9112 §6.1: Transfer-Encoding = #transfer-coding; chunked at most once and only last. Token
  // boundaries follow llhttp: `chunked` counts only when followed by spaces and then the end or a comma.
  private transferCodings(data: Buffer, i: number, end: number, base: number): void {
    const request = this.kind === 'request';
    while (i < end) {
      const c = data[i];
      if (c === 0x2c || c === SP || c === HTAB) {
        i++; // RFC 9110 §5.6.1: empty list elements are ignored
        continue;
      }
      const from = i;
      while (i < end && data[i] !== 0x2c && data[i] !== SP && data[i] !== HTAB && data[i] !== 0x3b) i++;
      let chunked = i - from === 7 && equalsLower(data, from, 'chunked');
      if (!chunked && !isKnownCoding(data, from, i)) this.unknownCoding = true;
      let j = i;
      while (j < end && data[j] === SP) j++;
      if (chunked && j < end && data[j] !== 0x2c) chunked = false; // "chunked;q=1", "chunked\t": another token
      if (chunked && j < end && request) {
        // RFC 9112 §6.3 rule 4: in a request nothing may follow chunked; llhttp fails at the comma.
        this.fail(H1_ERRORS.INVALID_TRANSFER_ENCODING, 'transfer coding after chunked', base + j + 1);
      }
      this.chunkedFinal = chunked && j === end;
      // Skip the rest of this element (parameters, stray bytes) up to the next comma.
      i = j;
      while (i < end && data[i] !== 0x2c) i++;
    }
  }

  private connectionOptions(data: Buffer, i: number, end: number): void {
    while (i < end) {
      while (i < end && (data[i] === 0x2c || data[i] === SP || data[i] === HTAB)) i++;
      const from = i;
      while (i < end && data[i] !== 0x2c && data[i] !== SP && data[i] !== HTAB) i++;
      const len = i - from;
      if (len === 5 && equalsLower(data, from, 'close')) this.connectionClose = true;
      else if (len === 10 && equalsLower(data, from, 'keep-alive')) this.connectionKeepAlive = true;
      else if (len === 7 && equalsLower(data, from, 'upgrade')) this.connectionUpgrade = true;
    }
  }

  private newMessageFields(): void {
    this.headers = new HeaderMap();
    this.contentLength = -1;
    this.transferEncoding = false;
    this.chunkedFinal = false;
    this.unknownCoding = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.connectionUpgrade = false;
    this.upgradeHeader = false;
    this.trailers = null;
    this.bodyBytes = 0;
  }

  // RFC 9112 §6.3: the message body length, decided once the head is complete.
  private headersComplete(data: Buffer, pos: number, base: number): void {
    const request = this.kind === 'request';
    const headers = this.headers as HeaderMap;
    this.headTextData = null; // do not keep the chunk alive through the body
    const head = (request
      ? new RequestHeader(this.method, this.uri, this.version, headers)
      : new ResponseHeader(this.status, this.version, headers, this.reason)) as Head;
    this.head = head;
    // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    this.keepAlive = this.version === '1.1' ? !this.connectionClose : this.connectionKeepAlive && !this.connectionClose;
    let framing: BodyFraming = 'none';
    if (request) {
      if (this.transferEncoding) {
        // RFC 9112 §6.3 rule 4: a request whose final coding is not chunked cannot be framed.
        if (!this.chunkedFinal) {
          if (this.unknownCoding) this.fail(H1_ERRORS.UNKNOWN_TRANSFER_CODING, 'request Transfer-Encoding has an unknown coding and does not end in chunked', base + pos);
          this.fail(H1_ERRORS.INVALID_TRANSFER_ENCODING, 'request Transfer-Encoding does not end in chunked', base + pos);
        }
        framing = 'chunked';
      } else if (this.contentLength > 0) framing = 'length';
    } else {
      const status = this.status;
      if (status < 200 || status === 204 || status === 304) framing = 'none';
      else if (this.transferEncoding) framing = this.chunkedFinal ? 'chunked' : 'close';
      else if (this.contentLength !== -1) framing = this.contentLength > 0 ? 'length' : 'none';
      else framing = 'close';
    }
    const skipBody = this.handler.onHead(head) === true;
    if (skipBody || (request && this.method === 'CONNECT')) framing = 'none';
    if (framing === 'close') this.keepAlive = false;
    this.framing = framing;
    if (framing === 'length') {
      if (this.contentLength > this.maxBodyBytes) this.fail(H1_ERRORS.BODY_TOO_LARGE, `Content-Length ${this.contentLength} exceeds ${this.maxBodyBytes}`, base + pos);
      this.remaining = this.contentLength;
      this.state = S_BODY_LENGTH;
    } else if (framing === 'chunked') this.state = S_CHUNK_SIZE;
    else if (framing === 'close') this.state = S_BODY_EOF;
    else {
      // A 1xx response is interim: the final response follows on the same stream (RFC 9110 §15.2).
      if (!request && this.status < 200 && this.status !== 101) {
        this.state = S_START;
        this.handler.onMessageComplete();
        return;
      }
      this.messageComplete();
    }
  }

  private trailersComplete(): void {
    if (this.trailers !== null && this.trailers.size > 0) this.handler.onTrailers(this.trailers);
    this.messageComplete();
  }

  /** Whether the current message switches protocols once it is complete (RFC 9110 §7.8, §9.3.6). */
  private get switchesProtocol(): boolean {
    if (this.kind === 'response') return this.status === 101;
    return this.method === 'CONNECT' || (this.connectionUpgrade && this.upgradeHeader);
  }

  private messageComplete(): void {
    if (this.switchesProtocol) {
      this.state = S_UPGRADED;
      this.upgraded = true;
      this.paused = true;
    } else this.state = this.keepAlive ? S_START : S_CLOSED;
    this.handler.onMessageComplete();
  }

  // RFC 9112 §7.1: the chunk-size line; then the chunk's data, or the trailer section after size 0.
  private chunkSizeLine(data: Buffer, start: number, end: number, base: number): number {
    const next = parseChunkSizeLine(data, start, end, base, this.maxChunkLineBytes, this.chunk);
    if (next < 0) return next;
    const size = this.chunk.size;
    this.bodyBytes += size;
    if (this.bodyBytes > this.maxBodyBytes) this.fail(H1_ERRORS.BODY_TOO_LARGE, `chunked body exceeds ${this.maxBodyBytes} bytes`, base + start);
    if (size === 0) {
      this.state = S_TRAILER;
      this.headerBytes = 0;
    } else {
      this.remaining = size;
      this.state = S_CHUNK_DATA;
    }
    return next;
  }
}

/** Transfer codings registered with IANA (RFC 9112 §7); any other is unknown (501 when serving). */
function isKnownCoding(data: Buffer, from: number, to: number): boolean {
  const len = to - from;
  if (len === 4) return equalsLower(data, from, 'gzip');
  if (len === 6) return equalsLower(data, from, 'x-gzip');
  if (len === 7) return equalsLower(data, from, 'deflate') || equalsLower(data, from, 'compress');
  if (len === 8) return equalsLower(data, from, 'identity');
  if (len === 10) return equalsLower(data, from, 'x-compress');
  return false;
}

/** Whether the field name in `data[from, to)` is one llhttp tracks for framing. */
function isFramingFieldName(data: Buffer, from: number, to: number): boolean {
  const len = to - from;
  return (
    (len === 14 && equalsLower(data, from, 'content-length')) ||
    (len === 17 && equalsLower(data, from, 'transfer-encoding')) ||
    (len === 10 && equalsLower(data, from, 'connection')) ||
    (len === 7 && equalsLower(data, from, 'upgrade'))
  );
}
