import type { Socket } from 'node:net';
import { SluiceError } from '@sluice/core';
import type { HeaderMap, RequestHeader, ResponseHeader, Stream } from '@sluice/core';
import { H1ParseError } from './error.js';
import { Http1Parser } from './parser.js';
import type { Http1ParserHandler, Http1ParserOptions } from './parser.js';

/**
 * Deadlines are checked in this many steps of their length by an interval the reader keeps, so arming
 * one for each wait costs a few field writes instead of moving a Node timer (a clock read and a list
 * update: 10-15% of the JavaScript a small request costs). A deadline may pass a step or two late, as
 * nginx leaves its timer alone when a deadline moves by less than its lazy delay.
 */
const DEADLINE_STEPS = 4;

/** A body at least this long keeps the stream reading into its own buffers for the next message. */
const STICKY_OWN_READS_BYTES = 32 * 1024;

/** Body bytes buffered before the socket is paused (backpressure towards the peer). */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/** Told once that something changed: a Promise's resolve, or a session's callback. */
type Waiter = ((value: void) => void) | null;

const EMPTY = Buffer.alloc(0);

function receiveBytes(reader: MessageReader<RequestHeader | ResponseHeader>, bytes: Buffer, length: number, transient: boolean): void {
  reader.received(bytes, length, transient);
}

/** Who wants to know that the peer left (see {@link MessageReader.endListener}). */
export interface PeerEndListener {
  peerEnded(): void;
}

/**
 * Feeds a stream's bytes to a push parser and lets a session await one message at a time: its head,
 * then its body chunks. The parser stops at the end of each message; bytes after it (a pipelined
 * request) stay here until the session asks for the next message, so pipelined requests are answered
 * in order. Body chunks are the views the parser produced, never copies.
 */
export class MessageReader<Head extends RequestHeader | ResponseHeader> implements Http1ParserHandler<Head> {
  readonly parser: Http1Parser<Head>;
  readonly socket: Socket;
  private readonly stream: Stream;
  /** The head of the current message, once complete. */
  head: Head | null = null;
  trailers: HeaderMap | null = null;
  /** The current message ended (all of its body is queued). */
  complete = false;
  /** The peer closed its side. */
  eof = false;
  /** Whether any byte of the current message has arrived. */
  started = false;
  /** Set for a response that has no body whatever its fields say (a response to HEAD). */
  skipBody = false;
  /** Set while the request was CONNECT: a 2xx response to it opens a tunnel and has no body. */
  connectRequest = false;
  /**
   * Told once when the peer ends or breaks the connection (its FIN, a reset, a socket error), whether
   * or not a read is waiting: a server busy with a request learns that its client left.
   */
  endListener: PeerEndListener | null = null;
  private failure: Error | null = null;
  private readonly body: Buffer[] = [];
  private bodyBuffered = 0;
  private leftover: Buffer | null = null;
  private waiter: Waiter = null;
  /** Inside the parser: a waiter is told once it returned, never from inside its events. */
  private feeding = false;
  private wakeDeferred = false;
  private attached = false;
  /** The bytes being parsed view a buffer the next read reuses (see Stream.receive): keep copies. */
  private transient = false;
  /** Body pieces are lent from the stream's own buffers rather than copied (see retainBody). */
  private lending = false;
  /** The stream reads into its own buffers (see Stream.ownReads), for this body or held for the next. */
  private ownReading = false;
  /** This message's body goes on in the stream's own buffers. */
  private ownBody = false;
  /** Body bytes of the current message so far. */
  private messageBodyBytes = 0;
  /** One interval ticks every deadline of this reader (see DEADLINE_STEPS). */
  private timer: NodeJS.Timeout | null = null;
  private stepMs = 0;
  /** The step the armed deadline asks for; the interval widens to it at its next tick (see arm). */
  private armedStepMs = 0;
  private timerArmed = false;
  /** Ticks left before the armed deadline passes. */
  private stepsLeft = 0;
  private timedOut = false;

  constructor(stream: Stream, kind: Head extends RequestHeader ? 'request' : 'response', options: Http1ParserOptions = {}) {
    this.socket = stream.socket;
    this.stream = stream;
    this.parser = new Http1Parser<Head>(kind, this, options);
    const early = stream.receive(receiveBytes, this);
    if (early.length > 0) this.leftover = early.length === 1 ? early[0] : Buffer.concat(early);
  }

  /** Whether bytes of a next message are already here (a pipelined request). */
  get holding(): boolean {
    return this.leftover !== null;
  }

  /** The error that ended reading, if any (a parse error, a socket error). */
  get error(): Error | null {
    return this.failure;
  }

  // Parser events.
  onHead(head: Head): boolean {
    this.head = head;
    this.wake();
    if (this.connectRequest && 'status' in head && head.status >= 200 && head.status < 300) return true;
    return this.skipBody;
  }

  onBody(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.body.push(this.transient ? (this.lending ? this.stream.retain(chunk) : Buffer.from(chunk)) : chunk);
    this.bodyBuffered += chunk.length;
    this.messageBodyBytes += chunk.length;
    this.wake();
  }

  onTrailers(trailers: HeaderMap): void {
    this.trailers = trailers;
  }

  onMessageComplete(): void {
    this.complete = true;
    // A connection that carried a large body keeps one own buffer for its next read, so the next
    // large body is lent from its first byte; after a small one it goes back to the shared buffer.
    // (A 1xx has no body to judge by: the decision waits for the final response.)
    if (this.ownReading && !(this.head !== null && 'status' in this.head && this.head.status < 200)) {
      this.ownBody = false;
      if (this.messageBodyBytes >= STICKY_OWN_READS_BYTES) this.stream.holdOwnReads();
      else {
        this.ownReading = false;
        this.stream.ownReads(false);
      }
    }
    this.parser.pause();
    this.wake();
  }

  /**
   * For the current message ({@link MessageReader.nextMessage} ends it), body pieces read into the
   * stream's own buffers are lent (views) rather than copied: each piece must
   * then be given back with {@link MessageReader.releaseBody} once nothing refers to it, or its
   * buffer is not read into again. A body longer than what arrived with its head turns the stream's
   * own reads on (see Stream.ownReads), so a large body is passed on without copies. Returns whether
   * pieces can be lent (a plain socket).
   */
  retainBody(): boolean {
    this.lending = this.stream.canOwnReads;
    return this.lending;
  }

  /** Gives back a body piece once written out (see retainBody); copies are ignored. */
  releaseBody(piece: Buffer): void {
    this.stream.release(piece);
  }

  /** Drops the pieces no one took: lent ones (retained as they were parsed) give their buffers back. */
  private dropBody(): void {
    for (const piece of this.body) this.stream.release(piece);
    this.body.length = 0; // setting a length is a runtime call, even to 0
  }

  /**
   * Forgets the finished message and starts parsing the next one from the bytes already here; its
   * body pieces are copies unless lending is asked for again (see retainBody).
   */
  nextMessage(): void {
    this.lending = false;
    this.parser.forgetMessage();
    this.head = null;
    this.trailers = null;
    this.complete = false;
    this.started = false;
    this.skipBody = false;
    if (this.body.length !== 0) this.dropBody();
    this.bodyBuffered = 0;
    this.messageBodyBytes = 0;
  }

  /** Resolves when something changed (head, body, end, error); the caller re-checks its condition. */
  changed(): Promise<void> {
    return new Promise((this.waitForChange ??= (resolve) => this.setWaiter(resolve)));
  }

  /**
   * Calls `onChange` once when something changed, as {@link MessageReader.changed} resolves but
   * without a Promise: synchronously from the read, timer or socket event that changed it (never from
   * inside the parser), so a session can answer a request in the same tick its bytes arrived.
   */
  onChange(onChange: () => void): void {
    this.waiter = onChange;
    this.pump();
  }

  /**
   * The executor of {@link MessageReader.changed}'s Promise, made at its first use (a session that
   * waits through onChange never needs it) rather than per wait.
   */
  private waitForChange: ((resolve: (value: void) => void) => void) | undefined;

  private setWaiter(resolve: (value: void) => void): void {
    this.waiter = resolve;
    this.pump();
  }

  private wake(): void {
    const w = this.waiter;
    if (w === null) return;
    if (this.feeding) {
      this.wakeDeferred = true;
      return;
    }
    this.waiter = null;
    this.wakeDeferred = false;
    w();
  }

  /** Tells the waiter of a change the parser reported while it ran. */
  private wakeIfDeferred(): void {
    if (this.wakeDeferred) {
      this.wakeDeferred = false;
      this.wake();
    }
  }

  /** Parses the bytes held for the next message (a pipelined request), if it has not started yet. */
  feedHeld(): void {
    if (this.leftover !== null && !this.complete) {
      const chunk = this.leftover;
      this.leftover = null;
      this.feed(chunk, chunk.length);
      if (this.eof && this.leftover === null) this.finishParser();
      this.wakeIfDeferred();
    }
  }

  /** Feeds held bytes, then lets the socket flow while the session is waiting for more. */
  private pump(): void {
    this.feedHeld();
    if (this.waiter === null || this.failure !== null || this.eof || this.complete || this.leftover !== null) return;
    if (this.bodyBuffered >= BODY_HIGH_WATER_MARK) return;
    this.attach();
    this.socket.resume();
  }

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.socket.on('end', this.onEnd);
    this.socket.on('close', this.onEnd);
    this.socket.on('error', this.onError);
  }

  /**
   * Listens to the socket even while no read waits, so the peer's end reaches
   * {@link MessageReader.endListener} (bytes that come meanwhile are kept as usual). A socket paused
   * for backpressure stays paused.
   */
  listen(): void {
    this.attach();
    if (this.failure === null && !this.eof && (this.leftover?.length ?? 0) < BODY_HIGH_WATER_MARK && this.bodyBuffered < BODY_HIGH_WATER_MARK) this.socket.resume();
  }

  /** Parses `chunk[0, end)`; keeps what the parser left for the next message. */
  private feed(chunk: Buffer, end: number): void {
    this.started = true;
    let used: number;
    this.feeding = true;
    try {
      used = this.parser.execute(chunk, end);
    } catch (e) {
      this.feeding = false;
      this.fail(e as Error);
      return;
    }
    this.feeding = false;
    if (used < end) this.hold(this.transient ? Buffer.from(chunk.subarray(used, end)) : chunk.subarray(used, end));
    else if (this.bodyBuffered >= BODY_HIGH_WATER_MARK) this.socket.pause();
  }

  /**
   * Keeps bytes of the next message until the session asks for it. The socket keeps flowing (pausing
   * and resuming it costs two epoll_ctl calls per request) unless a client pipelines a lot.
   */
  private hold(bytes: Buffer): void {
    this.leftover = this.leftover === null ? bytes : Buffer.concat([this.leftover, bytes]);
    if (this.leftover.length >= BODY_HIGH_WATER_MARK) this.socket.pause();
  }

  /** Bytes `chunk[0, length)` from the stream (see Stream.receive); transient ones are parsed in place or copied. */
  received(chunk: Buffer, length: number, transient: boolean): void {
    // Between messages (or behind held bytes) nothing is parsed: the session has not asked yet.
    if (this.leftover !== null || this.complete) this.hold(transient ? Buffer.from(chunk.subarray(0, length)) : chunk);
    else {
      this.transient = transient;
      this.feed(chunk, length);
      this.transient = false;
      // A lent body goes on past this read: read the rest into the stream's own buffers.
      if (this.lending && !this.ownBody && !this.complete && this.head !== null) {
        this.ownBody = this.ownReading = true;
        this.stream.ownReads(true);
      }
      this.wakeIfDeferred();
    }
  }

  private readonly onEnd = (): void => {
    if (this.eof) return;
    this.eof = true;
    // Held bytes are parsed first; the parser learns of the end once they are (see pump).
    if (this.leftover === null) this.finishParser();
    this.wake();
    this.tellEnded();
  };

  /** Tells the parser the stream ended: a close-delimited body completes, a cut message fails. */
  private finishParser(): void {
    if (this.failure !== null) return;
    this.feeding = true;
    try {
      this.parser.finish();
    } catch (e) {
      this.failure = e as Error;
    }
    this.feeding = false;
  }

  private readonly onError = (e: Error): void => {
    this.fail(SluiceError.because('ReadError', 'reading an HTTP/1 message', e));
  };

  private fail(e: Error): void {
    this.failure ??= e;
    this.socket.pause();
    this.wake();
    this.tellEnded();
  }

  /**
   * Ends reading with `error` unless it already ended with another: a wait in progress (head or body)
   * and every later read fail with it. For a session closed while a read is pending.
   */
  cancel(error: Error): void {
    this.fail(error);
  }

  /** Tells the end listener, once, that the peer is gone. */
  private tellEnded(): void {
    const listener = this.endListener;
    if (listener !== null) {
      this.endListener = null;
      listener.peerEnded();
    }
  }

  /**
   * The head of the current message; null when the stream ended cleanly before any byte of it.
   * @throws H1ParseError for a malformed message; SluiceError `ReadTimedout` past `timeoutMs`;
   *   `ConnectionClosed` when the peer closed inside the head.
   */
  async readHead(timeoutMs?: number): Promise<Head | null> {
    if (this.head !== null) return this.head;
    this.arm(timeoutMs);
    try {
      for (;;) {
        const head = this.pollHead(timeoutMs);
        if (head !== undefined) return head;
        await this.changed();
      }
    } finally {
      this.disarm();
    }
  }

  /**
   * The synchronous step of {@link MessageReader.readHead}: the head, null at a clean end, or
   * undefined while it is still to come (then await {@link MessageReader.changed} and ask again).
   * @throws as readHead does.
   */
  pollHead(timeoutMs?: number): Head | null | undefined {
    if (this.head !== null) return this.head;
    if (this.failure !== null) throw this.failure;
    if (this.eof) {
      if (!this.started && this.leftover === null) return null;
      throw new SluiceError('ConnectionClosed', { context: 'peer closed the connection inside a message head' });
    }
    if (this.timedOut) throw new SluiceError('ReadTimedout', { context: `message head not complete within ${timeoutMs} ms` });
    return undefined;
  }

  /** Stops the deadline armed by {@link MessageReader.arm} from firing. */
  disarm(): void {
    this.timerArmed = false;
  }

  /**
   * Starts a deadline of `timeoutMs` (none when undefined) for the wait that follows. It passes at
   * least `timeoutMs` later and at most two steps more (a quarter more when four divides it, as the
   * 60 s defaults; see DEADLINE_STEPS).
   */
  arm(timeoutMs: number | undefined): void {
    this.timedOut = false;
    if (timeoutMs === undefined) return;
    const step = Math.max(1, Math.floor(timeoutMs / DEADLINE_STEPS));
    // A shorter step starts now, or the deadline would pass late. A longer one waits for the next
    // tick (onTick), so a short wait after a short deadline (a head that arrives at once) moves no timer.
    this.armedStepMs = step;
    if (this.timer === null || step < this.stepMs) {
      if (this.timer !== null) clearInterval(this.timer);
      this.stepMs = step;
      this.timer = setInterval(this.onTick, step);
      this.timer.unref();
    }
    // The first tick comes anywhere within a step: one tick more makes the wait last timeoutMs at least.
    this.stepsLeft = Math.ceil(timeoutMs / this.stepMs) + 1;
    this.timerArmed = true;
  }

  private readonly onTick = (): void => {
    if (!this.timerArmed) {
      // Nothing waits (a long handler, an abandoned reader): stop until the next arm.
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    if (--this.stepsLeft > 0) {
      if (this.armedStepMs > this.stepMs) this.widenStep();
      return;
    }
    this.timerArmed = false;
    this.timedOut = true;
    this.wake();
  };

  /** A long deadline armed after a short one: tick at its own step, still passing no earlier. */
  private widenStep(): void {
    const remainingMs = this.stepsLeft * this.stepMs;
    clearInterval(this.timer!);
    this.stepMs = this.armedStepMs;
    this.timer = setInterval(this.onTick, this.stepMs);
    this.timer.unref();
    this.stepsLeft = Math.ceil(remainingMs / this.stepMs);
  }

  /** How often the deadline interval ticks now (ms); 0 when none runs. For tests. */
  get deadlineStepMs(): number {
    return this.timer === null ? 0 : this.stepMs;
  }

  /**
   * The next piece of body, or null at its end.
   * @throws H1ParseError for a malformed body; SluiceError `ReadTimedout` when no byte came within
   *   `timeoutMs`; `ConnectionClosed` when the peer closed inside the body.
   */
  async readBodyChunk(timeoutMs?: number): Promise<Buffer | null> {
    let armed = false;
    try {
      for (;;) {
        const chunk = this.pollBodyChunk();
        if (chunk !== undefined) return chunk;
        if (armed && this.timedOut) throw new SluiceError('ReadTimedout', { context: `no body bytes within ${timeoutMs} ms` });
        if (!armed) {
          armed = true;
          this.arm(timeoutMs);
        }
        await this.changed();
      }
    } finally {
      if (armed) this.timerArmed = false;
    }
  }

  /**
   * The synchronous step of {@link MessageReader.readBodyChunk}: the next piece of body, null at its
   * end, or undefined while more is to come (then await {@link MessageReader.changed} and ask again).
   * @throws as readBodyChunk does, but for the timeout.
   */
  pollBodyChunk(): Buffer | null | undefined {
    if (this.body.length > 0) {
      const chunk = this.body.shift() as Buffer;
      this.bodyBuffered -= chunk.length;
      return chunk;
    }
    if (this.complete) return null;
    if (this.failure !== null) throw this.failure;
    if (this.eof) throw new SluiceError('ConnectionClosed', { context: 'peer closed the connection inside a message body' });
    return undefined;
  }

  /**
   * The body of the current message (what is left of it) when all of it is here in at most one piece
   * (an empty Buffer for none), taken as read; undefined, taking nothing, otherwise.
   */
  takeWholeBody(): Buffer | undefined {
    if (!this.complete || this.body.length > 1) return undefined;
    if (this.body.length === 0) return EMPTY;
    return this.pollBodyChunk() as Buffer;
  }

  /** Bytes received after the current message (pipelined data or an upgraded protocol's first bytes). */
  takeLeftover(): Buffer | null {
    const rest = this.leftover;
    this.leftover = null;
    return rest;
  }

  /** Stops reading the socket for good (the connection is handed over or closed). */
  detach(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.stream.stopReceiving();
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.attached = false;
    this.socket.pause();
  }

  /** Whether the error is one the parser raised (the peer sent a malformed message). */
  static isParseError(e: unknown): e is H1ParseError {
    return e instanceof H1ParseError;
  }
}
