// Pingora's eviction manager: a size budget kept apart from the storage. A storage that does not
// evict by itself (on disk, in a remote store, or a plain map) gets its bound from here, and one
// manager can bound several storages with one budget. The cache phases tell it about every entry
// stored, served and removed; on admission it names the entries the storage must now drop.
import type { CacheKey } from './cache-key.js';
import { InvalidCacheOptionError } from './errors.js';
import type { PurgeScope } from './storage.js';

/** Keeps the cache within a budget by choosing which stored entries to drop. */
export interface EvictionManager {
  /** Bytes of the entries tracked now. */
  readonly totalBytes: number;
  /** Entries tracked now. */
  readonly totalItems: number;
  /** Bytes of the entries evicted so far (not those removed by the cache itself). */
  readonly evictedBytes: number;
  /** Entries evicted so far. */
  readonly evictedItems: number;
  /**
   * A response was stored under `key` (a variant: its variance included): tracks it, or updates its
   * size when it was tracked, and returns the keys to purge from storage to stay within the budget
   * (possibly `key` itself, when it alone is larger than the budget).
   */
  admit(key: CacheKey, bytes: number, freshUntilMs: number): readonly CacheKey[];
  /** `key` was served from storage; false when it is not tracked (the caller may admit it). */
  access(key: CacheKey, bytes: number, freshUntilMs: number): boolean;
  /**
   * `key` left storage for another reason (a purge or an invalidation): the variant it names, or with
   * `'all'` every variant of its primary key.
   */
  remove(key: CacheKey, scope?: PurgeScope): void;
  /** Whether `key` is tracked, without counting as a use. */
  peek(key: CacheKey): boolean;
}

/** Options of {@link LruEvictionManager}. */
export interface LruEvictionManagerOptions {
  /** The budget in bytes of stored responses (required). */
  maxBytes: number;
  /** At most this many entries (default: no limit beyond the bytes). */
  maxItems?: number;
}

interface Tracked {
  key: CacheKey;
  bytes: number;
  freshUntilMs: number;
}

const NONE: readonly CacheKey[] = Object.freeze([]);

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidCacheOptionError(`LruEvictionManager: ${name} must be a positive integer, got ${value}`);
}

/**
 * An {@link EvictionManager} that drops the least recently used entries first (Pingora's simple
 * LRU manager). A Map kept in recency order makes admit, access and remove O(1) (amortised).
 * @throws InvalidCacheOptionError when `maxBytes` or `maxItems` is not a positive integer.
 */
export class LruEvictionManager implements EvictionManager {
  readonly maxBytes: number;
  readonly maxItems: number;
  private readonly entries = new Map<string, Tracked>();
  // primary hash → the tracked variants that have a variance (a key without one is its primary hash).
  private readonly variants = new Map<string, Set<string>>();
  private bytes = 0;
  private evictedBytesTotal = 0;
  private evictedItemsTotal = 0;

  constructor(options: LruEvictionManagerOptions) {
    checkLimit('maxBytes', options?.maxBytes);
    this.maxBytes = options.maxBytes;
    this.maxItems = options.maxItems ?? Number.MAX_SAFE_INTEGER;
    checkLimit('maxItems', this.maxItems);
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get totalItems(): number {
    return this.entries.size;
  }

  get evictedBytes(): number {
    return this.evictedBytesTotal;
  }

  get evictedItems(): number {
    return this.evictedItemsTotal;
  }

  admit(key: CacheKey, bytes: number, freshUntilMs: number): readonly CacheKey[] {
    const id = key.combinedHash();
    const old = this.entries.get(id);
    if (old !== undefined) {
      this.bytes -= old.bytes;
      this.entries.delete(id);
    }
    this.entries.set(id, { key, bytes, freshUntilMs });
    this.bytes += bytes;
    if (key.variance !== undefined) {
      const primary = key.primaryHash();
      let ids = this.variants.get(primary);
      if (ids === undefined) this.variants.set(primary, (ids = new Set()));
      ids.add(id);
    }
    if (this.bytes <= this.maxBytes && this.entries.size <= this.maxItems) return NONE;
    const victims: CacheKey[] = [];
    // Oldest first; the newcomer is last, so it goes only when it alone exceeds the budget.
    for (const [victimId, victim] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxItems) break;
      this.untrack(victimId, victim);
      this.evictedBytesTotal += victim.bytes;
      this.evictedItemsTotal++;
      victims.push(victim.key);
    }
    return victims;
  }

  access(key: CacheKey, bytes: number, freshUntilMs: number): boolean {
    const id = key.combinedHash();
    const tracked = this.entries.get(id);
    if (tracked === undefined) return false;
    // Re-inserted to become the most recently used.
    this.entries.delete(id);
    this.entries.set(id, tracked);
    this.bytes += bytes - tracked.bytes;
    tracked.bytes = bytes;
    tracked.freshUntilMs = freshUntilMs;
    return true;
  }

  remove(key: CacheKey, scope: PurgeScope = 'variant'): void {
    if (scope === 'all') {
      const primary = key.primaryHash();
      const ids = this.variants.get(primary);
      if (ids !== undefined) for (const id of [...ids]) this.untrack(id, this.entries.get(id)!);
      const plain = this.entries.get(primary);
      if (plain !== undefined) this.untrack(primary, plain);
      return;
    }
    const id = key.combinedHash();
    const tracked = this.entries.get(id);
    if (tracked !== undefined) this.untrack(id, tracked);
  }

  private untrack(id: string, tracked: Tracked): void {
    this.entries.delete(id);
    this.bytes -= tracked.bytes;
    if (tracked.key.variance === undefined) return;
    const primary = tracked.key.primaryHash();
    const ids = this.variants.get(primary);
    if (ids === undefined) return;
    ids.delete(id);
    if (ids.size === 0) this.variants.delete(primary);
  }

  peek(key: CacheKey): boolean {
    return this.entries.has(key.combinedHash());
  }
}
