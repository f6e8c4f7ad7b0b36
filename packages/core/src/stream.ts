import type { Socket } from 'node:net';
import { SluiceError, errorTypeOfSystemError } from './error.js';
import { type Digest, digestOf, formatAddress } from './digest.js';

/** Per-stream timeouts (milliseconds; undefined = none). */
export interface StreamTimeouts {
  /** Longest wait for the next bytes in {@link Stream.read}. */
  readTimeoutMs?: number;
  /** Longest wait for a full socket buffer to drain in {@link Stream.write}. */
  writeTimeoutMs?: number;
}

/** What an idle watcher is told: bytes arrived, or the connection ended or failed. */
export type IdleEvent = 'data' | 'end';

/**
 * Where {@link Stream.receive} hands bytes, synchronously as they are read: `bytes[0, length)`. When
 * `transient` is true, `bytes` is a buffer the next read overwrites: its bytes are valid only during
 * the call, so copy what must outlive it. (No view is made per read: a Buffer view costs as much as
 * parsing a small request head.)
 */
export type ReceiveCallback<T> = (arg: T, bytes: Buffer, length: number, transient: boolean) => void;

/** What net.Socket keeps of its `onread` option, found by name on the first socket (see userBufferKeys). */
interface UserBufferKeys {
  buffer: symbol;
  callback: symbol;
  /** Where net.Socket keeps `onread.buffer` when it is a function: asked for the next buffer after each read. */
  generator: symbol | undefined;
}

type UserBufferSocket = Socket & Record<symbol, unknown> & { _handle?: { useUserBuffer?: (buffer: Buffer) => void } | null };

/**
 * One buffer every plain socket reads into once a push parser receives its bytes: libuv reads one
 * socket at a time and its callback consumes the bytes synchronously, so no Buffer is allocated per
 * read and no Readable push (Node's `onread` option: a socket server answering each read with a fixed
 response spent 6.9 instead of 8.3 µs of CPU per request).
 */
const RECEIVE_BUFFER = Buffer.allocUnsafe(64 * 1024);

const EMPTY = Buffer.alloc(0);

/** The retained counts of a stream that owns no buffer yet (never written: see Stream.chooseReadBuffer). */
const NO_RETAINED: number[] = [];

/**
 * A stream's own read buffers (see {@link Stream.ownReads}) are this big; spare ones wait here for the
 * next stream that streams a body, so a large response allocates nothing per read (nginx's
 * `proxy_buffers`, reused the same way).
 */
const OWN_BUFFER_BYTES = 64 * 1024;
/** One being written out, one waiting to be, one being read into: a body streams without copies. */
const OWN_BUFFERS = 3;
const MAX_SPARE_OWN_BUFFERS = 64;
const spareOwnBuffers: Buffer[] = [];

function takeOwnBuffer(): Buffer {
  return spareOwnBuffers.pop() ?? Buffer.allocUnsafeSlow(OWN_BUFFER_BYTES);
}

function giveBackOwnBuffer(buffer: Buffer): void {
  if (spareOwnBuffers.length < MAX_SPARE_OWN_BUFFERS) spareOwnBuffers.push(buffer);
}

let userBufferKeysFound: UserBufferKeys | null | undefined;

/**
 * The symbols under which net.Socket keeps its `onread` buffer and callback, so a socket accepted by
 * a server (which has no `onread` option) can be switched to it; null when this Node does not have
 * them as own fields, and then streams read through 'data' events.
 */
function userBufferKeys(socket: Socket): UserBufferKeys | null {
  if (userBufferKeysFound !== undefined) return userBufferKeysFound;
  let buffer: symbol | undefined;
  let callback: symbol | undefined;
  let generator: symbol | undefined;
  for (const key of Object.getOwnPropertySymbols(socket)) {
    if (key.description === 'kBuffer') buffer = key;
    else if (key.description === 'kBufferCb') callback = key;
    else if (key.description === 'kBufferGen') generator = key;
  }
  userBufferKeysFound = buffer !== undefined && callback !== undefined ? { buffer, callback, generator } : null;
  return userBufferKeysFound;
}

interface ReadWaiter {
  resolve: (chunk: Buffer | null) => void;
  reject: (e: SluiceError) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A connection over a net or TLS socket (pingora's `Stream`): a read buffer with `unread` (for
 * protocol sniffing and hand-over), read and write timeouts that end in typed errors, backpressure on
 * writes, and a {@link Digest}.
 *
 * Two ways to read: `read()` pulls chunk by chunk (simple protocols, tests); a push parser calls
 * {@link Stream.detachReader} once, takes the buffered chunks and listens to `socket` itself.
 */
export class Stream {
  readonly socket: Socket;
  readonly digest: Digest;
  readTimeoutMs: number | undefined;
  writeTimeoutMs: number | undefined;

  private readonly buffered: Buffer[] = [];
  private ended = false;
  private failure: SluiceError | undefined;
  private waiter: ReadWaiter | undefined;
  private idleWatcher: ((arg: unknown, event: IdleEvent) => void) | undefined;
  private idleWatcherArg: unknown;
  /** Between watchIdle and unwatchIdle (the watcher itself is cleared once it fired). */
  private idleWatched = false;
  private reading = false;
  private detached = false;
  private draining: Promise<void> | undefined;
  private receiver: ReceiveCallback<unknown> | undefined;
  private receiverArg: unknown;
  /** The socket reads into {@link RECEIVE_BUFFER} (set once: a handle cannot go back). */
  private userBuffer = false;
  /**
   * Reads go into this stream's own buffers while they are free (see {@link Stream.ownReads}), and
   * how many views handed out by {@link Stream.retain} each still has.
   */
  private wantOwnReads = false;
  /** Between messages: one own buffer is kept, for the next read (see holdOwnReads). */
  private holdOneOwn = false;
  private own: Array<Buffer | null> | null = null;
  private retained: number[] = NO_RETAINED;
  /** The buffer the socket reads into next (the one the current read used, inside the callback). */
  private readBuffer: Buffer = RECEIVE_BUFFER;
  /** {@link Stream.chooseReadBuffer} bound, made for the streams that own reads only. */
  private nextReadBuffer: (() => Buffer) | undefined;
  // Socket listeners few streams need, made on first use: a connection waiting idle holds none of them
  // (each bound handler is a closure of ~56 bytes per connection).
  /** For read(). */
  private dataListener: ((chunk: Buffer) => void) | undefined;
  private readTimeoutListener: (() => void) | undefined;
  /** For watchIdle() on a detached stream (a pooled connection). */
  private idleDataListener: (() => void) | undefined;
  /** For receive() on a socket that cannot read into a user buffer (TLS). */
  private receivedDataListener: ((chunk: Buffer) => void) | undefined;
  /** For a user-buffer socket after stopReceiving(). */
  private userBufferForwarder: ((length: number, buffer: Buffer) => boolean) | undefined;

  constructor(socket: Socket, digest?: Digest, timeouts: StreamTimeouts = {}) {
    this.socket = socket;
    this.digest = digest ?? digestOf(socket, Date.now());
    this.readTimeoutMs = timeouts.readTimeoutMs;
    this.writeTimeoutMs = timeouts.writeTimeoutMs;
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    // The same listener: either ends reading (one closure per connection fewer).
    socket.on('close', this.onEnd);
  }

  /** The peer as text, for logs and error messages. */
  get peer(): string {
    return this.digest.peerAddr ? formatAddress(this.digest.peerAddr) : 'unknown peer';
  }

  /** Whether the socket is destroyed or the peer ended its side and nothing is left to read. */
  get closed(): boolean {
    return this.socket.destroyed || (this.ended && this.buffered.length === 0);
  }

  /** Bytes received and not yet read, in chunks. */
  get bufferedChunks(): number {
    return this.buffered.length;
  }

  /**
   * The next chunk of bytes, or null at end of stream.
   * @throws SluiceError `ReadTimedout` past `readTimeoutMs`, `ConnectionClosed` / `ReadError` when the
   *   socket fails. A timed-out stream is destroyed.
   */
  read(): Promise<Buffer | null> {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift()!);
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended || this.socket.destroyed) return Promise.resolve(null);
    if (this.detached) return Promise.reject(new SluiceError('InternalError', { context: 'read() on a stream whose reader was detached' }));
    if (this.waiter) return Promise.reject(new SluiceError('InternalError', { context: 'concurrent read() on one stream' }));
    this.startReading();
    return new Promise((resolve, reject) => {
      const waiter: ReadWaiter = { resolve, reject, timer: undefined };
      if (this.readTimeoutMs !== undefined) {
        waiter.timer = setTimeout((this.readTimeoutListener ??= () => this.onReadTimeout()), this.readTimeoutMs);
        waiter.timer.unref();
      }
      this.waiter = waiter;
      this.socket.resume();
    });
  }

  /** Puts bytes back in front of the read buffer (they will be read first). */
  unread(chunk: Buffer): void {
    if (chunk.length > 0) this.buffered.unshift(chunk);
  }

  /**
   * Stops {@link Stream.read} for good and returns the bytes buffered so far; the caller now reads the
   * socket itself (a push parser, a protocol upgrade). The socket is left paused.
   */
  detachReader(): Buffer[] {
    this.detached = true;
    if (this.reading) {
      this.socket.off('data', this.dataListener as (chunk: Buffer) => void);
      this.reading = false;
    }
    this.socket.pause();
    return this.buffered.splice(0);
  }

  /**
   * Stops {@link Stream.read} for good (as {@link Stream.detachReader}) and hands every byte that
   * arrives from now on to `onBytes(arg, bytes, length, transient)` while the socket flows: resume and pause
   * the socket to ask for bytes or to hold them back. A plain TCP or Unix socket reads into one
   * buffer shared by all streams, so `transient` is true and the bytes must be consumed (or copied)
   * during the call; other sockets (TLS) hand over their own Buffers. End and errors arrive as the
   * socket's events. Returns the bytes received before; {@link Stream.stopReceiving} ends it.
   */
  receive<T>(onBytes: ReceiveCallback<T>, arg: T): Buffer[] {
    const early = this.detachReader();
    // Bytes the socket read before anyone listened wait in its readable buffer.
    for (let chunk = this.socket.readableLength > 0 ? (this.socket.read() as Buffer | null) : null; chunk !== null; chunk = this.socket.read() as Buffer | null) early.push(chunk);
    this.receiver = onBytes as ReceiveCallback<unknown>;
    this.receiverArg = arg;
    if (this.useUserBuffer()) {
      (this.socket as UserBufferSocket)[(userBufferKeysFound as UserBufferKeys).callback] = this.onUserBufferRead;
      // Paused now stops the handle's reads too (a user-buffer socket pauses at the handle).
      this.socket.pause();
    } else this.socket.on('data', (this.receivedDataListener ??= (chunk: Buffer) => this.onReceivedData(chunk)));
    return early;
  }

  /** Ends {@link Stream.receive}: later bytes are the socket's 'data' events again (the socket stays paused). */
  stopReceiving(): void {
    if (this.receiver === undefined) return;
    this.receiver = undefined;
    this.receiverArg = undefined;
    // Whoever reads next (a tunnel, another session) gets copies: no own buffer is kept for it.
    if (this.wantOwnReads) this.ownReads(false);
    this.socket.pause();
    if (this.userBuffer) (this.socket as UserBufferSocket)[(userBufferKeysFound as UserBufferKeys).callback] = this.userBufferForwarder ??= (length: number, buffer: Buffer) => this.forwardUserBufferRead(length, buffer);
    else this.socket.off('data', this.receivedDataListener as (chunk: Buffer) => void);
  }

  /**
   * Reads into this stream's own buffers rather than the shared one, so the receiver may keep views
   * of the bytes ({@link Stream.retain}) instead of copying them: for a large body passed through as
   * it arrives. The buffer of a read is fixed when the read before it ended, so called inside a
   * receive callback this takes effect at the next read, otherwise one read later. A buffer with
   * views still out is not read into again (that read goes to the shared buffer and is copied) until
   * {@link Stream.release} gives them all back. `false` goes back to the shared buffer. Returns
   * whether reads can be owned (a plain socket that reads through {@link Stream.receive}).
   */
  ownReads(on: boolean): boolean {
    if (!this.canOwnReads) return false;
    this.holdOneOwn = false;
    if (on === this.wantOwnReads) return true;
    this.wantOwnReads = on;
    // Node asks the generator for the next buffer after each read; it stays installed until a read
    // went back to the shared buffer.
    if (on) (this.socket as UserBufferSocket)[(userBufferKeysFound as UserBufferKeys).generator as symbol] = this.nextReadBuffer ??= this.chooseReadBuffer.bind(this);
    return true;
  }

  /**
   * Keeps reading into an own buffer, but into one only, which waits for the next read: for a
   * connection between two messages that expects another large one (its first bytes are then lent
   * too). The others go back to the spares as they come free. {@link Stream.ownReads} ends it.
   */
  holdOwnReads(): void {
    if (this.wantOwnReads) this.holdOneOwn = true;
  }

  /** Whether {@link Stream.ownReads} can work: a plain socket reading through {@link Stream.receive}. */
  get canOwnReads(): boolean {
    return this.userBuffer && userBufferKeysFound?.generator !== undefined;
  }

  /**
   * Keeps `view`, bytes of the read being received: the view itself when the read went into one of this
   * stream's own buffers (then {@link Stream.release} it once it is no longer used), else a copy.
   */
  retain(view: Buffer): Buffer {
    const i = this.ownIndex(view);
    if (i < 0) return Buffer.from(view);
    this.retained[i]++;
    return view;
  }

  /**
   * Gives back a view {@link Stream.retain} returned, once nothing refers to its bytes any more (it was
   * written out and the socket took it whole): its buffer may be read into again. Copies and other
   * Buffers are ignored, so every retained piece can be released without asking which it was. Each
   * view must be released at most once.
   */
  release(view: Buffer): void {
    const i = this.ownIndex(view);
    if (i < 0) return;
    const own = this.own as Array<Buffer | null>;
    const buffer = own[i] as Buffer;
    if (this.retained[i] === 0) throw new SluiceError('InternalError', { context: 'a lent piece was given back twice (or was never lent)' });
    if (--this.retained[i] === 0 && (!this.wantOwnReads || this.holdOneOwn) && this.readBuffer !== buffer) {
      giveBackOwnBuffer(buffer);
      own[i] = null;
    }
  }

  /** Whether `view` was lent from one of this stream's own buffers (see retain), not a copy. */
  owns(view: Buffer): boolean {
    return this.ownIndex(view) >= 0;
  }

  /** Which own buffer `view` is part of, or -1. */
  private ownIndex(view: Buffer): number {
    const arrayBuffer = view.buffer;
    const own = this.own;
    if (own === null) return -1;
    for (let i = 0; i < OWN_BUFFERS; i++) if (own[i]?.buffer === arrayBuffer) return i;
    return -1;
  }

  /**
   * Node's `onread.buffer` generator, asked after each read for the buffer of the next one: an own
   * buffer with no view out (the one just read into first, while warm), else the shared buffer.
   */
  private chooseReadBuffer(): Buffer {
    // Made on first use: most streams never own a read.
    const own = (this.own ??= [null, null, null]);
    if (this.retained === NO_RETAINED) this.retained = [0, 0, 0];
    const retained = this.retained;
    let next: Buffer = RECEIVE_BUFFER;
    if (this.wantOwnReads) {
      // A free own buffer (the one just read into first, while warm); else a new one while fewer
      // than OWN_BUFFERS are out; else the shared buffer.
      const current = this.readBuffer;
      let empty = -1;
      for (let i = 0; i < OWN_BUFFERS; i++) {
        const buffer = own[i];
        if (buffer === null) {
          if (empty < 0) empty = i;
        } else if (retained[i] === 0 && (next === RECEIVE_BUFFER || buffer === current)) next = buffer;
      }
      if (next === RECEIVE_BUFFER && empty >= 0) next = own[empty] = takeOwnBuffer();
      if (this.holdOneOwn) this.giveBackFreeOwnBuffers(next);
    } else {
      // Back on the shared buffer: own buffers with no view out go back to the spares, and the
      // generator is removed (views still out give theirs back in release).
      this.giveBackFreeOwnBuffers(RECEIVE_BUFFER);
      (this.socket as UserBufferSocket)[(userBufferKeysFound as UserBufferKeys).generator as symbol] = null;
    }
    this.readBuffer = next;
    return next;
  }

  /** Switches the socket to read into {@link RECEIVE_BUFFER} (bytes to the receiver), if it is a plain socket that can. */
  private useUserBuffer(): boolean {
    if (this.userBuffer) return true;
    const socket = this.socket as UserBufferSocket;
    const handle = socket._handle;
    if ((socket as { encrypted?: boolean }).encrypted === true || socket.connecting || typeof handle?.useUserBuffer !== 'function') return false;
    const keys = userBufferKeys(socket);
    if (keys === null || socket[keys.buffer] !== null || socket[keys.callback] !== null) return false;
    socket[keys.buffer] = RECEIVE_BUFFER;
    socket[keys.callback] = this.onUserBufferRead;
    handle.useUserBuffer(RECEIVE_BUFFER);
    this.userBuffer = true;
    return true;
  }

  private readonly onUserBufferRead = (length: number, buffer: Buffer): void => {
    const receiver = this.receiver;
    if (receiver !== undefined) receiver(this.receiverArg, buffer, length, true);
    if (this.idleWatcher !== undefined) this.notifyIdle('data');
  };

  /** Without a receiver, bytes of a user-buffer socket become 'data' events again (copied). */
  private forwardUserBufferRead(length: number, buffer: Buffer): boolean {
    return this.socket.push(Buffer.from(buffer.subarray(0, length)));
  }

  private onReceivedData(chunk: Buffer): void {
    const receiver = this.receiver;
    if (receiver !== undefined) receiver(this.receiverArg, chunk, chunk.length, false);
    if (this.idleWatcher !== undefined) this.notifyIdle('data');
  }

  /**
   * Writes bytes. Returns undefined when the socket took them without backpressure, or a Promise that
   * settles when the socket buffer has drained, so callers await only when they must.
   * @throws SluiceError `WriteTimedout` when the drain takes longer than `writeTimeoutMs`;
   *   `ConnectionClosed` when the socket closes first.
   */
  write(chunk: Buffer | string): Promise<void> | undefined {
    if (this.socket.destroyed) return Promise.reject(this.closedError('write'));
    if (this.socket.write(chunk)) return undefined;
    return this.drain();
  }

  /**
   * Undefined when every byte written so far was handed to the operating system (so the Buffers
   * written may be reused), else a Promise that settles once they were, or the socket closed. It never
   * rejects (a failed socket tells at the next write). `writeTimeoutMs` bounds it as it bounds
   * {@link Stream.drain}: past it the socket is destroyed (a `WriteTimedout` failure) and the Promise
   * settles. A write the socket took only in part keeps referring to the caller's Buffer.
   */
  flushed(): Promise<void> | undefined {
    const socket = this.socket;
    if (socket.writableLength === 0 || socket.destroyed) return undefined;
    const writeTimeoutMs = this.writeTimeoutMs;
    return new Promise((resolve) => {
      // A peer that stopped reading is cut off at the write timeout, as in drain(); the destroyed
      // socket then settles the wait below.
      const timer =
        writeTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.failure ??= new SluiceError('WriteTimedout', { context: `bytes not taken within ${writeTimeoutMs} ms writing to ${this.peer}` });
              socket.destroy();
            }, writeTimeoutMs).unref();
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      // Writes complete in order, so an empty one completes after every byte before it is out (its
      // callback runs on a destroyed socket too). After end() no write may follow (one would destroy
      // the socket and drop what is queued): the last bytes are out at 'finish', or gone at 'close'.
      if (!socket.writableEnded) return void socket.write(EMPTY, done);
      const settle = (): void => {
        socket.off('finish', settle);
        socket.off('close', settle);
        done();
      };
      socket.once('finish', settle);
      socket.once('close', settle);
    });
  }

  /**
   * Waits until the socket's write buffer has drained (bounded by `writeTimeoutMs`). Concurrent
   * waiters (many HTTP/2 streams on one connection) share one wait.
   */
  drain(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    this.draining ??= this.waitForDrain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.socket;
      let timer: NodeJS.Timeout | undefined;
      const done = (e?: SluiceError) => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        if (timer) clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.failure ?? this.closedError('write'));
      socket.on('drain', onDrain);
      socket.on('close', onClose);
      if (this.writeTimeoutMs !== undefined) {
        timer = setTimeout(() => {
          const e = new SluiceError('WriteTimedout', { context: `no drain within ${this.writeTimeoutMs} ms writing to ${this.peer}` });
          done(e);
          socket.destroy();
        }, this.writeTimeoutMs);
        timer.unref();
      }
    });
  }

  /** Ends our side after pending writes are flushed (half-close, FIN). */
  end(): void {
    this.socket.end();
  }

  /** Closes the connection now. */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Watches an idle stream (one waiting in a connection pool): `onEvent` fires once when bytes arrive
   * or the connection ends, either of which makes it unusable. Cleared by {@link Stream.unwatchIdle}.
   * `onEvent` gets `arg` back, so a pool needs no closure per connection.
   */
  watchIdle<T>(onEvent: (arg: T, event: IdleEvent) => void, arg: T): void {
    this.idleWatcher = onEvent as (arg: unknown, event: IdleEvent) => void;
    this.idleWatcherArg = arg;
    this.idleWatched = true;
    if (this.buffered.length > 0) return this.notifyIdle('data');
    if (this.ended || this.failure || this.socket.destroyed) return this.notifyIdle('end');
    if (!this.detached) this.startReading();
    // A detached stream's bytes go to its push reader's 'data' listener; one more listener beside it
    // sees them too. ('readable' would switch the socket out of flowing mode and back, two ticks.)
    // A receiving stream tells the watcher from its receive callback.
    else if (this.receiver === undefined) this.socket.on('data', (this.idleDataListener ??= () => this.notifyIdle('data')));
    this.socket.resume();
  }

  /**
   * Stops watching an idle stream. It is paused again unless a push reader still listens to it (that
   * reader keeps it flowing rather than pausing and resuming the socket for each request).
   */
  unwatchIdle(): void {
    if (!this.idleWatched) return;
    this.idleWatched = false;
    this.idleWatcher = undefined;
    this.idleWatcherArg = undefined;
    if (this.detached && this.idleDataListener !== undefined) this.socket.off('data', this.idleDataListener);
    if (!this.waiter && this.receiver === undefined && this.socket.listenerCount('data') === (this.reading ? 1 : 0)) this.socket.pause();
  }

  private startReading(): void {
    if (this.reading) return;
    this.reading = true;
    this.socket.on('data', (this.dataListener ??= (chunk: Buffer) => this.onData(chunk)));
  }

  private notifyIdle(event: IdleEvent): void {
    const watcher = this.idleWatcher;
    const arg = this.idleWatcherArg;
    this.idleWatcher = undefined;
    this.idleWatcherArg = undefined;
    if (watcher) watcher(arg, event);
  }

  private closedError(op: string): SluiceError {
    return new SluiceError('ConnectionClosed', { context: `${op} on a closed connection to ${this.peer}` });
  }

  private onData(chunk: Buffer): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      if (waiter.timer) clearTimeout(waiter.timer);
      this.socket.pause();
      waiter.resolve(chunk);
      return;
    }
    this.buffered.push(chunk);
    this.socket.pause();
    this.notifyIdle('data');
  }

  private readonly onEnd = (): void => {
    this.ended = true;
    // Closed: nothing is read any more, so own buffers with no view out go back to the spares now
    // (the others when their views are released).
    if (this.own !== null && this.socket.destroyed) {
      this.wantOwnReads = this.holdOneOwn = false;
      this.readBuffer = RECEIVE_BUFFER;
      this.giveBackFreeOwnBuffers(RECEIVE_BUFFER);
    }
    this.settleWaiter();
    this.notifyIdle('end');
  };

  /** Gives the own buffers with no view out back to the spares, but `keep` (the next read's). */
  private giveBackFreeOwnBuffers(keep: Buffer): void {
    const own = this.own as Array<Buffer | null>;
    for (let i = 0; i < OWN_BUFFERS; i++) {
      const buffer = own[i];
      if (buffer !== null && buffer !== keep && this.retained[i] === 0) {
        giveBackOwnBuffer(buffer);
        own[i] = null;
      }
    }
  }

  private readonly onError = (e: Error): void => {
    const type = errorTypeOfSystemError(e, 'ReadError');
    this.failure ??= SluiceError.because(type === 'ConnectRefused' ? 'ConnectionClosed' : type, `socket error with ${this.peer}`, e);
    this.settleWaiter();
    this.notifyIdle('end');
  };

  private onReadTimeout(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    this.failure = new SluiceError('ReadTimedout', { context: `no bytes within ${this.readTimeoutMs} ms from ${this.peer}` });
    waiter.reject(this.failure);
    this.socket.destroy();
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (waiter.timer) clearTimeout(waiter.timer);
    if (this.failure) waiter.reject(this.failure);
    else waiter.resolve(null);
  }
}
