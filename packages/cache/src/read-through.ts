import { InvalidOptionError, InvalidTtlError, LookupError } from './errors.js';
import type { KeyHasher } from './key-hash.js';
import { MemoryCache, type CacheStatus, type Clock } from './memory-cache.js';

/** What a lookup found: the value and, optionally, its TTL (which overrides the one given to `get`). */
export interface LookupResult<V> {
  value: V;
  ttlMs?: number;
}

/** Fetches a missing value from the system behind the cache; may throw or reject. */
export type Lookup<K, V, E> = (key: K, extra: E | undefined) => LookupResult<V> | Promise<LookupResult<V>>;

/** A read-through answer: always a value, with how it was found. */
export interface ReadThroughResult<V> {
  value: V;
  status: CacheStatus;
  /** With status `stale`: how many milliseconds ago the value expired. */
  staleMs?: number;
}

/** Options of `RTCache`. */
export interface RTCacheOptions<K, V, E> {
  /** The most entries held. */
  size: number;
  /** Called on a miss; concurrent misses of one key share one call. */
  lookup: Lookup<K, V, E>;
  /** A lookup older than this is presumed stuck: new misses run their own (uncached) lookup. Default 10 000. */
  lockAgeMs?: number;
  /** Longest a miss waits for another caller's lookup before running its own (uncached). Default 10 000. */
  lockTimeoutMs?: number;
  /** Where errors of background refreshes (`getStaleWhileUpdate`) go. Default: `process.emitWarning`. */
  onRefreshError?: (error: unknown, key: K) => void;
  /** Milliseconds now; default `performance.now()`. */
  clock?: Clock;
  /** Hash for keys that are not strings, numbers, bigints or booleans. */
  hashKey?: KeyHasher<K>;
}

// One lookup in flight for a key, which later misses of that key wait on.
interface Lock<V> {
  startedAt: number;
  settled: Promise<V>;
}

const TIMED_OUT = Symbol('timed out');
const DEFAULT_LOCK_MS = 10_000;

function ignore(): void {}

function warn(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : String(error), { code: 'ERR_CACHE_LOOKUP' });
}

/**
 * A read-through cache over `MemoryCache` (Pingora's `RTCache`): a miss calls the user's lookup,
 * stores its value and returns it; concurrent misses of one key run the lookup once and the others
 * get its value with status `lockHit`, or its error, which is not cached. A hit is returned
 * synchronously; only a miss returns a Promise.
 */
export class RTCache<K, V, E = undefined> {
  private readonly cache: MemoryCache<K, V>;
  private readonly lookup: Lookup<K, V, E>;
  private readonly locks = new Map<K, Lock<V>>();
  private readonly lockAgeMs: number;
  private readonly lockTimeoutMs: number;
  private readonly onRefreshError: (error: unknown, key: K) => void;
  private readonly clock: Clock;

  /** @throws InvalidOptionError for a size that is not a positive integer or a negative lock time. */
  constructor(options: RTCacheOptions<K, V, E>) {
    if (typeof options.lookup !== 'function') throw new InvalidOptionError('RTCache: lookup must be a function');
    this.lockAgeMs = nonNegative('lockAgeMs', options.lockAgeMs ?? DEFAULT_LOCK_MS);
    this.lockTimeoutMs = nonNegative('lockTimeoutMs', options.lockTimeoutMs ?? DEFAULT_LOCK_MS);
    this.clock = options.clock ?? (() => performance.now());
    this.cache = new MemoryCache<K, V>(options.size, { clock: this.clock, hashKey: options.hashKey });
    this.lookup = options.lookup;
    this.onRefreshError = options.onRefreshError ?? warn;
  }

  /** Number of cached entries, expired ones included. */
  get size(): number {
    return this.cache.size;
  }

  /**
   * Returns the cached value (`hit`), or on a miss or expiry looks it up, caches it for the lookup's
   * TTL or else `ttlMs` (default: no expiry), and resolves with status `miss`/`expired` (the caller
   * that ran the lookup) or `lockHit` (callers that waited for it).
   * @throws LookupError (rejects) when the lookup failed, for every caller that waited on it.
   */
  get(key: K, ttlMs?: number, extra?: E): ReadThroughResult<V> | Promise<ReadThroughResult<V>> {
    const cached = this.cache.get(key);
    if (cached.status === 'hit') return cached as ReadThroughResult<V>;
    return this.fill(key, cached.status, ttlMs, extra);
  }

  /**
   * Like `get`, but a value expired no more than `staleTtlMs` ago is returned as is, with status
   * `stale` and `staleMs`; an older one is looked up again.
   */
  getStale(key: K, staleTtlMs: number, ttlMs?: number, extra?: E): ReadThroughResult<V> | Promise<ReadThroughResult<V>> {
    const cached = this.cache.getStale(key);
    if (cached.status === 'hit' || (cached.status === 'stale' && (cached.staleMs as number) <= staleTtlMs)) {
      return cached as ReadThroughResult<V>;
    }
    return this.get(key, ttlMs, extra);
  }

  /**
   * Like `getStale`, and when it serves a stale value it also starts a lookup in the background
   * (unless one for the key is in flight) so later reads get a fresh one.
   */
  getStaleWhileUpdate(key: K, staleTtlMs: number, ttlMs?: number, extra?: E): ReadThroughResult<V> | Promise<ReadThroughResult<V>> {
    const result = this.getStale(key, staleTtlMs, ttlMs, extra);
    if ((result as ReadThroughResult<V>).status === 'stale' && !this.locks.has(key)) {
      this.fill(key, 'expired', ttlMs, extra).catch((error: unknown) => this.onRefreshError(error, key));
    }
    return result;
  }

  /** Removes a cached entry (a lookup in flight still stores its value). */
  remove(key: K): void {
    this.cache.remove(key);
  }

  private async fill(key: K, status: CacheStatus, ttlMs: number | undefined, extra: E | undefined): Promise<ReadThroughResult<V>> {
    const lock = this.locks.get(key);
    if (lock !== undefined) {
      if (this.clock() - lock.startedAt <= this.lockAgeMs) {
        const value = await this.waitFor(lock);
        if (value !== TIMED_OUT) return { value, status: 'lockHit' };
      }
      // The lookup in flight looks stuck: answer this caller alone and, like Pingora, leave the
      // cache to that lookup so a pile of bypassing callers does not write it over and over.
      const found = await this.runLookup(key, extra);
      return { value: found.value, status };
    }
    let resolve!: (value: V) => void;
    let reject!: (error: unknown) => void;
    const settled = new Promise<V>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Waiters attach their own handlers; this one keeps a lookup nobody waited on from counting
    // as an unhandled rejection (the caller that ran it still gets the error).
    settled.catch(ignore);
    const mine: Lock<V> = { startedAt: this.clock(), settled };
    this.locks.set(key, mine);
    try {
      const found = await this.runLookup(key, extra);
      const ttl = found.ttlMs ?? ttlMs;
      if (ttl !== undefined && !(ttl >= 0)) throw new InvalidTtlError(ttl);
      // Forced past admission: callers are waiting for exactly this entry (as in Pingora).
      this.cache.forcePut(key, found.value, ttl);
      resolve(found.value);
      return { value: found.value, status };
    } catch (error) {
      reject(error);
      throw error;
    } finally {
      if (this.locks.get(key) === mine) this.locks.delete(key);
    }
  }

  private async runLookup(key: K, extra: E | undefined): Promise<LookupResult<V>> {
    try {
      return await this.lookup(key, extra);
    } catch (error) {
      throw new LookupError(key, error);
    }
  }

  private waitFor(lock: Lock<V>): Promise<V | typeof TIMED_OUT> {
    if (this.lockTimeoutMs === Infinity) return lock.settled;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, this.lockTimeoutMs, TIMED_OUT);
      lock.settled.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) throw new InvalidOptionError(`RTCache: ${name} must be a number >= 0 (Infinity for no bound), got ${value}`);
  return value;
}
