import { InvalidOptionError, InvalidTtlError } from './errors.js';
import type { KeyHasher } from './key-hash.js';
import { TinyUfo } from './tiny-ufo.js';

/** How a read was answered: `lockHit` is a read that waited for another caller's lookup. */
export type CacheStatus = 'hit' | 'miss' | 'expired' | 'stale' | 'lockHit';

/** A read's answer: the value (undefined on miss or expired) and how it was found. */
export interface CacheResult<V> {
  value: V | undefined;
  status: CacheStatus;
  /** With status `stale`: how many milliseconds ago the value expired. */
  staleMs?: number;
}

/** A monotonic clock in milliseconds. */
export type Clock = () => number;

/** Options of `MemoryCache`. */
export interface MemoryCacheOptions<K> {
  /** Milliseconds now; default `performance.now()`. Tests inject a controllable one. */
  clock?: Clock;
  /** Hash for keys that are not strings, numbers, bigints or booleans (see `TinyUfo`). */
  hashKey?: KeyHasher<K>;
}

// One per stored value: the value and when it expires (Infinity: never).
interface Node<V> {
  value: V;
  expiresAt: number;
}

const defaultClock: Clock = () => performance.now();

/**
 * An in-memory cache with per-entry TTL over TinyUFO (Pingora's pingora-memory-cache): every
 * entry weighs 1, so `size` is the most entries held. Expired entries are reported as `expired`
 * and linger until evicted, so `getStale` can still serve them.
 */
export class MemoryCache<K, V> {
  private readonly store: TinyUfo<K, Node<V>>;
  private readonly clock: Clock;

  /**
   * @param size the most entries held.
   * @throws InvalidOptionError when `size` is not an integer from 1 to 2^24.
   */
  constructor(size: number, options: MemoryCacheOptions<K> = {}) {
    // 2^24: the most entries a V8 Map holds.
    if (!Number.isSafeInteger(size) || size < 1 || size > 2 ** 24) {
      throw new InvalidOptionError(`MemoryCache: size must be an integer from 1 to ${2 ** 24}, got ${size}`);
    }
    this.store = new TinyUfo<K, Node<V>>(size, size, { hashKey: options.hashKey });
    this.clock = options.clock ?? defaultClock;
  }

  /** Number of entries, expired ones included. */
  get size(): number {
    return this.store.size;
  }

  /** Reads a value: `hit` with the value, `expired` (no value) past its TTL, or `miss`. */
  get(key: K): CacheResult<V> {
    const node = this.store.get(key);
    if (node === undefined) return { value: undefined, status: 'miss' };
    if (node.expiresAt <= this.clock()) return { value: undefined, status: 'expired' };
    return { value: node.value, status: 'hit' };
  }

  /** Like `get`, but an expired value is returned too, with status `stale` and `staleMs` since expiry. */
  getStale(key: K): CacheResult<V> {
    const node = this.store.get(key);
    if (node === undefined) return { value: undefined, status: 'miss' };
    const now = this.clock();
    if (node.expiresAt <= now) return { value: node.value, status: 'stale', staleMs: now - node.expiresAt };
    return { value: node.value, status: 'hit' };
  }

  /**
   * Stores a value for `ttlMs` milliseconds (default: no expiry). A TTL of 0 stores nothing. Like
   * TinyUFO's `put`, a new key may be refused by admission when the cache is full.
   * @throws InvalidTtlError when `ttlMs` is negative or NaN.
   */
  put(key: K, value: V, ttlMs?: number): void {
    const node = this.node(value, ttlMs);
    if (node !== undefined) this.store.put(key, node, 1);
  }

  /** Like `put`, but always admitted (TinyUFO `forcePut`); used for values readers are waiting on. */
  forcePut(key: K, value: V, ttlMs?: number): void {
    const node = this.node(value, ttlMs);
    if (node !== undefined) this.store.forcePut(key, node, 1);
  }

  /** Removes an entry. */
  remove(key: K): void {
    this.store.remove(key);
  }

  /** `get` for each key, in order. */
  multiGet(keys: Iterable<K>): CacheResult<V>[] {
    const results: CacheResult<V>[] = [];
    for (const key of keys) results.push(this.get(key));
    return results;
  }

  private node(value: V, ttlMs: number | undefined): Node<V> | undefined {
    if (ttlMs === undefined) return { value, expiresAt: Infinity };
    if (!(ttlMs >= 0)) throw new InvalidTtlError(ttlMs);
    if (ttlMs === 0) return undefined;
    return { value, expiresAt: this.clock() + ttlMs };
  }
}
