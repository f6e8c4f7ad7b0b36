import { clearFastTimeout, setFastTimeout, type FastTimer } from '@sluice/limits';
import type { Stream } from './stream.js';

/** Options for {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  /** Most idle connections kept across all peers (pingora's `upstream_keepalive_pool_size`, default 128). */
  sizeLimit?: number;
  /** How long a connection may sit idle when the peer sets no `idleTimeoutMs` (default 60 s). */
  defaultIdleTimeoutMs?: number;
}

interface IdleConnection {
  key: string;
  stream: Stream;
  timer: FastTimer | undefined;
}

/**
 * Idle upstream connections keyed by the peer's reuse hash (pingora-pool). A global size limit evicts
 * the least recently released connection; each connection expires after its idle timeout; and an
 * idle connection that receives bytes or is closed by the peer is dropped at once, so `get` never
 * hands out a connection known to be dead.
 *
 * Within one key, the most recently released connection is reused first: it is the least likely to
 * have been closed by the peer's own idle timeout.
 */
export class ConnectionPool {
  readonly sizeLimit: number;
  readonly defaultIdleTimeoutMs: number;
  private readonly byKey = new Map<string, IdleConnection[]>();
  // Insertion order is release order: the first entry is the least recently released.
  private readonly lru = new Set<IdleConnection>();

  constructor(options: ConnectionPoolOptions = {}) {
    this.sizeLimit = options.sizeLimit ?? 128;
    this.defaultIdleTimeoutMs = options.defaultIdleTimeoutMs ?? 60_000;
    if (!Number.isInteger(this.sizeLimit) || this.sizeLimit < 0) throw new RangeError(`pool sizeLimit must be a non-negative integer, got ${this.sizeLimit}`);
  }

  /** Idle connections held, across all keys. */
  get size(): number {
    return this.lru.size;
  }

  /** Idle connections held for `key`. */
  idleCount(key: string): number {
    return this.byKey.get(key)?.length ?? 0;
  }

  /**
   * Keeps `stream` for reuse under `key`. A stream already closed, or with unread bytes, is
   * destroyed instead; when the pool is full the least recently released connection is closed.
   */
  put(key: string, stream: Stream, idleTimeoutMs = this.defaultIdleTimeoutMs): void {
    if (this.sizeLimit === 0 || stream.closed || stream.bufferedChunks > 0 || !(idleTimeoutMs > 0)) {
      stream.destroy();
      return;
    }
    while (this.lru.size >= this.sizeLimit) {
      const oldest = this.lru.values().next().value as IdleConnection;
      this.remove(oldest);
      oldest.stream.destroy();
    }
    const entry: IdleConnection = { key, stream, timer: undefined };
    // A coarse shared timer (10 ms ticks): arming and cancelling one per request costs a list
    // insert, not a Node timer. An infinite idle timeout keeps it until it is evicted or closed.
    if (idleTimeoutMs !== Infinity) entry.timer = setFastTimeout(this.expireEntry, idleTimeoutMs, entry);
    let list = this.byKey.get(key);
    if (!list) this.byKey.set(key, (list = []));
    list.push(entry);
    this.lru.add(entry);
    stream.watchIdle(this.expireEntry, entry);
  }

  /** Takes an idle connection for `key`, the most recently released first, or undefined. */
  get(key: string): Stream | undefined {
    const list = this.byKey.get(key);
    const entry = list?.[list.length - 1];
    if (!entry) return undefined;
    this.remove(entry);
    return entry.stream;
  }

  /** Closes every idle connection. */
  clear(): void {
    for (const entry of [...this.lru]) {
      this.remove(entry);
      entry.stream.destroy();
    }
  }

  private readonly expireEntry = (entry: IdleConnection): void => this.expire(entry);

  private expire(entry: IdleConnection): void {
    if (!this.lru.has(entry)) return;
    this.remove(entry);
    entry.stream.destroy();
  }

  private remove(entry: IdleConnection): void {
    this.lru.delete(entry);
    clearFastTimeout(entry.timer);
    entry.stream.unwatchIdle();
    const list = this.byKey.get(entry.key)!;
    const at = list.lastIndexOf(entry);
    list.splice(at, 1);
    if (list.length === 0) this.byKey.delete(entry.key);
  }
}
