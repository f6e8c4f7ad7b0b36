// Pingora's cacheability predictor: remembers the keys whose responses were uncacheable so that the
// next request for them skips the cache machinery (lookup, lock) and goes straight upstream.
import type { CacheKey } from './cache-key.js';
import type { UncacheableReason } from './cacheability.js';
import { InvalidCacheOptionError } from './errors.js';

/** Options of `Predictor`. */
export interface PredictorOptions {
  /** The most keys remembered; the least recently used is forgotten first. Default 16 384. */
  capacity?: number;
  /**
   * Reasons not worth remembering because they depend on the request rather than the resource.
   * Default: 'method' and 'request-no-store'.
   */
  skipReasons?: ReadonlySet<UncacheableReason>;
}

const DEFAULT_SKIP: ReadonlySet<UncacheableReason> = new Set<UncacheableReason>(['method', 'request-no-store']);

/** A bounded LRU of primary keys found uncacheable. */
export class Predictor {
  // Map iteration order is insertion order: re-inserting on use keeps the oldest first.
  private readonly keys = new Map<string, UncacheableReason>();
  private readonly capacity: number;
  private readonly skip: ReadonlySet<UncacheableReason>;

  /** @throws InvalidCacheOptionError when capacity is not a positive integer. */
  constructor(options: PredictorOptions = {}) {
    const capacity = options.capacity ?? 16_384;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new InvalidCacheOptionError(`Predictor: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.skip = options.skipReasons ?? DEFAULT_SKIP;
  }

  /** Keys remembered. */
  get size(): number {
    return this.keys.size;
  }

  /** Whether the cache is worth trying for `key` (false when it was found uncacheable lately). */
  cacheablePrediction(key: CacheKey): boolean {
    const hash = key.primaryHash();
    const reason = this.keys.get(hash);
    if (reason === undefined) return true;
    this.keys.delete(hash);
    this.keys.set(hash, reason);
    return false;
  }

  /** The remembered reason for `key`, without refreshing it. */
  reasonFor(key: CacheKey): UncacheableReason | undefined {
    return this.keys.get(key.primaryHash());
  }

  /** Remembers `key` as uncacheable; returns false when the reason is one not remembered. */
  markUncacheable(key: CacheKey, reason: UncacheableReason): boolean {
    if (this.skip.has(reason)) return false;
    const hash = key.primaryHash();
    this.keys.delete(hash);
    this.keys.set(hash, reason);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value!);
    return true;
  }

  /** Forgets `key` (its response turned cacheable, e.g. after a forced fetch); returns whether it was known. */
  markCacheable(key: CacheKey): boolean {
    return this.keys.delete(key.primaryHash());
  }
}
