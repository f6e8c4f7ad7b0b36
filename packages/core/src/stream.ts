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

  constructor(socket: Socket, digest?: Digest, timeouts: StreamTimeouts = {}) {
    this.socket = socket;
    this.digest = digest ?? digestOf(socket, Date.now());
    this.readTimeoutMs = timeouts.readTimeoutMs;
    this.writeTimeoutMs = timeouts.writeTimeoutMs;
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
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
        waiter.timer = setTimeout(this.onReadTimeout, this.readTimeoutMs);
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
      this.socket.off('data', this.onData);
      this.reading = false;
    }
    this.socket.pause();
    return this.buffered.splice(0);
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
    else this.socket.on('data', this.onIdleData);
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
    if (this.detached) this.socket.off('data', this.onIdleData);
    if (!this.waiter && this.socket.listenerCount('data') === (this.reading ? 1 : 0)) this.socket.pause();
  }

  private startReading(): void {
    if (this.reading) return;
    this.reading = true;
    this.socket.on('data', this.onData);
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

  private readonly onData = (chunk: Buffer): void => {
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
  };

  private readonly onIdleData = (): void => this.notifyIdle('data');

  private readonly onEnd = (): void => {
    this.ended = true;
    this.settleWaiter();
    this.notifyIdle('end');
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.settleWaiter();
    this.notifyIdle('end');
  };

  private readonly onError = (e: Error): void => {
    const type = errorTypeOfSystemError(e, 'ReadError');
    this.failure ??= SluiceError.because(type === 'ConnectRefused' ? 'ConnectionClosed' : type, `socket error with ${this.peer}`, e);
    this.settleWaiter();
    this.notifyIdle('end');
  };

  private readonly onReadTimeout = (): void => {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    this.failure = new SluiceError('ReadTimedout', { context: `no bytes within ${this.readTimeoutMs} ms from ${this.peer}` });
    waiter.reject(this.failure);
    this.socket.destroy();
  };

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (waiter.timer) clearTimeout(waiter.timer);
    if (this.failure) waiter.reject(this.failure);
    else waiter.resolve(null);
  }
}
