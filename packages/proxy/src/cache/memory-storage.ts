// Storage in process memory on TinyUFO (@sluice/cache): S3-FIFO eviction with TinyLFU admission,
// weighted by each entry's size in bytes, so the limit is a memory budget, not an entry count.
import type { CacheKey } from './cache-key.js';
import type { CacheHit, CacheMeta, EvictionListener, EvictionReason, MissHandler, PurgeScope, Storage } from './storage.js';
import { StreamingBody } from './streaming-body.js';
import { InvalidCacheOptionError } from './errors.js';

/**
 * The part of `TinyUfo` (@sluice/cache) this storage uses: a weighted cache whose `put` returns the
 * entries it evicted (or the newcomer itself when admission refuses it).
 */
export interface WeightedCache<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V, weight: number): readonly { key: K; value: V; weight: number }[];
  remove(key: K): V | undefined;
  readonly size: number;
  readonly weight: number;
}

/** One stored response. */
export interface MemoryEntry {
  primaryHash: string;
  hash: string;
  meta: CacheMeta;
  body: StreamingBody;
}

/** Options of `MemoryStorage`. */
export interface MemoryStorageOptions {
  /** The eviction policy and budget, e.g. `new TinyUfo<string, MemoryEntry>(256 * 1024 * 1024, 100_000)` (bytes, expected entries). */
  cache: WeightedCache<string, MemoryEntry>;
  /** The largest body stored, bytes. Default 64 MiB (and never more than the cache's budget). */
  maxObjectBytes?: number;
  /** Told about every entry that leaves (evicted, purged, refused by admission, replaced). */
  onEvict?: EvictionListener;
}

/** Thrown by a miss handler's `write` past `maxObjectBytes`. */
export class CacheTooLargeError extends Error {
  readonly code = 'ERR_CACHE_TOO_LARGE';
  constructor(message: string) {
    super(message);
    this.name = 'CacheTooLargeError';
  }
}

// What an entry costs in V8 beyond its body and field bytes, so that the budget bounds real memory:
// the entry, its meta, body and Buffer objects, hashes, the variant index and the TinyUFO node.
// Measured (heap + external after a GC) at ~1.75 KiB for a 45-byte body with five fields; each
// field line costs three strings and three array slots, each body piece a Buffer object.
const ENTRY_OVERHEAD_BYTES = 1280;
const FIELD_OVERHEAD_BYTES = 64;
const PIECE_OVERHEAD_BYTES = 96;

function metaBytes(meta: CacheMeta): number {
  let bytes = ENTRY_OVERHEAD_BYTES;
  const headers = meta.response.headers;
  for (let i = 0; i < headers.size; i++) bytes += headers.nameAt(i).length + headers.valueAt(i).length + FIELD_OVERHEAD_BYTES;
  if (meta.variance !== undefined) bytes += meta.variance.length;
  return bytes;
}

/** In-memory `Storage`: entries weighted by size in a TinyUFO, variants indexed per primary key. */
export class MemoryStorage implements Storage {
  private readonly cache: WeightedCache<string, MemoryEntry>;
  private readonly maxObjectBytes: number;
  private readonly onEvict: EvictionListener | undefined;
  // Entries whose body is still being written, by variant hash.
  private readonly filling = new Map<string, MemoryEntry>();
  // primary hash → the variant hashes stored or filling, the latest last.
  private readonly variants = new Map<string, string[]>();

  /** @throws InvalidCacheOptionError when maxObjectBytes is not a positive integer. */
  constructor(options: MemoryStorageOptions) {
    const max = options.maxObjectBytes ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(max) || max < 1) throw new InvalidCacheOptionError(`MemoryStorage: maxObjectBytes must be a positive integer, got ${max}`);
    this.cache = options.cache;
    this.maxObjectBytes = max;
    this.onEvict = options.onEvict;
  }

  /** Entries stored (complete bodies). */
  get entries(): number {
    return this.cache.size;
  }

  /** Total weight (approximate bytes) stored. */
  get weightBytes(): number {
    return this.cache.weight;
  }

  /** Entries being filled. */
  get fillsInProgress(): number {
    return this.filling.size;
  }

  lookup(key: CacheKey): CacheHit | undefined {
    const primary = key.primaryHash();
    let hash: string;
    if (key.variance === undefined) {
      // Without a variance: the latest variant (its meta says which, the caller re-looks-up when it differs).
      const list = this.variants.get(primary);
      hash = list === undefined ? primary : list[list.length - 1];
    } else {
      hash = key.combinedHash();
    }
    const entry = this.cache.get(hash) ?? this.filling.get(hash);
    return entry === undefined ? undefined : { meta: entry.meta, body: entry.body };
  }

  getMissHandler(key: CacheKey, meta: CacheMeta): MissHandler {
    const entry: MemoryEntry = { primaryHash: key.primaryHash(), hash: key.combinedHash(), meta, body: new StreamingBody() };
    const previous = this.filling.get(entry.hash);
    if (previous !== undefined) previous.body.fail('replaced by a newer fill');
    this.filling.set(entry.hash, entry);
    this.index(entry);
    return new MemoryMissHandler(this, entry);
  }

  purge(key: CacheKey, scope: PurgeScope): boolean {
    const primary = key.primaryHash();
    if (scope === 'variant') return this.removeHash(primary, key.variance === undefined ? primary : key.combinedHash(), 'purged');
    const list = this.variants.get(primary);
    if (list === undefined) return false;
    let removed = false;
    for (const hash of list.slice()) removed = this.removeHash(primary, hash, 'purged') || removed;
    return removed;
  }

  updateMeta(key: CacheKey, meta: CacheMeta): boolean {
    const entry = this.cache.get(key.combinedHash());
    if (entry === undefined) return false;
    entry.meta = meta;
    return true;
  }

  /** @internal the miss handler's writes. */
  checkSize(entry: MemoryEntry, chunk: Buffer): void {
    if (entry.body.length + chunk.length > this.maxObjectBytes) {
      this.abandon(entry, 'too large');
      throw new CacheTooLargeError(`MemoryStorage: body of ${entry.meta.response.status} response exceeds maxObjectBytes ${this.maxObjectBytes}`);
    }
  }

  /** @internal completes a fill. */
  complete(entry: MemoryEntry): boolean {
    if (this.filling.get(entry.hash) !== entry) {
      // Purged or replaced while filling: readers already following it still get the whole body.
      entry.body.finish();
      return false;
    }
    this.filling.delete(entry.hash);
    entry.body.finish();
    const old = this.cache.remove(entry.hash);
    if (old !== undefined) this.notify(old, 'replaced');
    const weight = entry.body.length + entry.body.pieces().length * PIECE_OVERHEAD_BYTES + metaBytes(entry.meta);
    const evicted = this.cache.put(entry.hash, entry, weight);
    let stored = true;
    for (let i = 0; i < evicted.length; i++) {
      const gone = evicted[i].value;
      if (gone === entry) stored = false;
      if (!this.filling.has(gone.hash)) this.unindex(gone.primaryHash, gone.hash);
      this.notify(gone, gone === entry ? 'rejected' : 'evicted');
    }
    return stored;
  }

  /** @internal abandons a fill. */
  abandon(entry: MemoryEntry, reason: string): void {
    entry.body.fail(reason);
    if (this.filling.get(entry.hash) !== entry) return;
    this.filling.delete(entry.hash);
    if (this.cache.get(entry.hash) === undefined) this.unindex(entry.primaryHash, entry.hash);
  }

  private removeHash(primary: string, hash: string, reason: EvictionReason): boolean {
    let removed = false;
    const fill = this.filling.get(hash);
    if (fill !== undefined) {
      this.filling.delete(hash);
      fill.body.fail('purged');
      removed = true;
    }
    const entry = this.cache.remove(hash);
    if (entry !== undefined) {
      this.notify(entry, reason);
      removed = true;
    }
    if (removed) this.unindex(primary, hash);
    return removed;
  }

  private index(entry: MemoryEntry): void {
    const list = this.variants.get(entry.primaryHash);
    if (list === undefined) {
      this.variants.set(entry.primaryHash, [entry.hash]);
      return;
    }
    const at = list.indexOf(entry.hash);
    if (at !== -1) list.splice(at, 1);
    list.push(entry.hash);
  }

  private unindex(primary: string, hash: string): void {
    const list = this.variants.get(primary);
    if (list === undefined) return;
    const at = list.indexOf(hash);
    if (at !== -1) list.splice(at, 1);
    if (list.length === 0) this.variants.delete(primary);
  }

  private notify(entry: MemoryEntry, reason: EvictionReason): void {
    if (this.onEvict !== undefined) this.onEvict(entry.primaryHash, entry.meta, reason);
  }
}

class MemoryMissHandler implements MissHandler {
  private readonly storage: MemoryStorage;
  private readonly entry: MemoryEntry;

  constructor(storage: MemoryStorage, entry: MemoryEntry) {
    this.storage = storage;
    this.entry = entry;
  }

  write(chunk: Buffer): void {
    this.storage.checkSize(this.entry, chunk);
    this.entry.body.write(chunk);
  }

  finish(): boolean {
    return this.storage.complete(this.entry);
  }

  abort(reason: string): void {
    this.storage.abandon(this.entry, reason);
  }
}
