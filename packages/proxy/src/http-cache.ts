// The cache a request uses, as `requestCacheFilter` hands it to the proxy (Pingora's
// `HttpCache::enable(storage, eviction, predictor, lock)`): where responses are stored, the lock
// against thundering herds, the predictor of uncacheable keys, the RFC 9111 rules, and the counters
// that make it observable. Build one per cache, not per request.
import type { CacheLock } from './cache/cache-lock.js';
import type { CacheabilityOptions } from './cache/cacheability.js';
import type { EvictionManager } from './cache/eviction-manager.js';
import { InvalidCacheOptionError } from './cache/errors.js';
import type { FreshnessOptions, ServeStaleOptions } from './cache/freshness.js';
import type { Predictor } from './cache/predictor.js';
import type { RangeOptions } from './cache/range.js';
import type { Storage } from './cache/storage.js';

/** Every RFC 9111 rule of the cache in one object (cacheability, freshness, serving stale, ranges). */
export interface CacheRules extends CacheabilityOptions, FreshnessOptions, ServeStaleOptions, RangeOptions {}

/** Options of {@link HttpCache}. */
export interface HttpCacheOptions {
  /** Where responses live, e.g. `new MemoryStorage({ cache: new TinyUfo(256 << 20, 100_000) })`. */
  storage: Storage;
  /**
   * A budget kept apart from the storage (Pingora's eviction manager, e.g. `LruEvictionManager`): told
   * of every stored, served and purged entry, it names the entries to drop from storage. For
   * storages that do not evict by themselves, or several storages under one budget (default: none,
   * the storage bounds itself as MemoryStorage's TinyUFO does).
   */
  eviction?: EvictionManager;
  /** Concurrent misses of one key make one upstream request (default: no lock). */
  lock?: CacheLock;
  /** Remembers keys found uncacheable, so their requests skip lookup and lock (default: none). */
  predictor?: Predictor;
  /** The rules (default: a shared cache, GET stored, no default TTL, Set-Cookie responses not stored). */
  rules?: CacheRules;
  /**
   * This cache's name in an RFC 9211 `Cache-Status` field added to every response it handles
   * (`sluice; hit; ttl=42`, `sluice; fwd=uri-miss; fwd-status=200; stored`). Default: no field.
   */
  cacheStatus?: string;
}

/**
 * Counters of one {@link HttpCache}, for metrics. Every request with the cache enabled counts once
 * among hits, misses, stale and bypass; the others count events.
 */
export class CacheStats {
  /** Served from storage, fresh. */
  hits = 0;
  /** Not found (or forced to miss) and fetched upstream. */
  misses = 0;
  /** Served stale: while revalidating in the background (stale-while-revalidate) or because the origin failed (stale-if-error). */
  stale = 0;
  /** Stale entries revalidated upstream (a 304 or a new response). */
  revalidations = 0;
  /** Revalidations answered 304: the stored body was served again with refreshed fields. */
  revalidated = 0;
  /** Cache enabled but not consulted: an unsafe or other method, or the predictor said uncacheable. */
  bypass = 0;
  /** Requests that waited for another request's fill (cache lock). */
  lockWaits = 0;
  /** Responses stored (fill complete and admitted by storage). */
  stored = 0;
  /** Responses found uncacheable. */
  uncacheable = 0;
  /** Purge requests that removed something. */
  purged = 0;
  /** Entries invalidated by unsafe requests (RFC 9111 §4.4). */
  invalidated = 0;
  /** Entries the eviction manager dropped from storage to stay within its budget. */
  evicted = 0;
}

/** A snapshot of the statistics with the storage's size, when the storage reports it. */
export interface CacheMetrics extends CacheStats {
  /** Entries stored (storages with an `entries` count, like MemoryStorage). */
  entries: number | undefined;
  /** Approximate bytes stored (storages with `weightBytes`). */
  bytes: number | undefined;
}

/**
 * An HTTP cache for the proxy's cache phases: return it from `requestCacheFilter` to cache a request.
 * @throws InvalidCacheOptionError without a storage.
 */
export class HttpCache {
  readonly storage: Storage;
  readonly eviction: EvictionManager | undefined;
  readonly lock: CacheLock | undefined;
  readonly predictor: Predictor | undefined;
  readonly rules: CacheRules;
  /** The name in `Cache-Status` (RFC 9211), or undefined for none. */
  readonly cacheStatus: string | undefined;
  readonly stats = new CacheStats();
  /** @internal keys being refreshed in the background, so one stale entry starts one refresh. */
  readonly refreshing = new Set<string>();

  constructor(options: HttpCacheOptions) {
    if (options?.storage === undefined || typeof options.storage.lookup !== 'function') {
      throw new InvalidCacheOptionError('HttpCache: a storage is required (e.g. a MemoryStorage)');
    }
    this.storage = options.storage;
    this.eviction = options.eviction;
    this.lock = options.lock;
    this.predictor = options.predictor;
    this.rules = { ...options.rules };
    // RFC 9211 §2: the cache is identified by a token or a quoted string; a token keeps it simple.
    if (options.cacheStatus !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(options.cacheStatus)) {
      throw new InvalidCacheOptionError(`HttpCache: cacheStatus must be a token (RFC 9110 §5.6.2), got ${JSON.stringify(options.cacheStatus)}`);
    }
    this.cacheStatus = options.cacheStatus;
  }

  /** The counters, with `entries` and `bytes` from the storage when it reports them. */
  metrics(): CacheMetrics {
    const s = this.storage as Partial<{ entries: number; weightBytes: number }>;
    return { ...this.stats, entries: typeof s.entries === 'number' ? s.entries : undefined, bytes: typeof s.weightBytes === 'number' ? s.weightBytes : undefined };
  }
}
