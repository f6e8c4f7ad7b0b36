// Pingora's Storage seam: where cached responses live. The proxy's cache phases call it; users may
// plug their own (disk, shared memory, a remote store) and check it with the compliance suite
// (storage-compliance.ts).
import type { ResponseHeader } from '@sluice/core';
import type { CacheKey } from './cache-key.js';
import type { StreamingBody } from './streaming-body.js';

/** What is stored beside a body: the response head and the facts freshness is computed from. */
export interface CacheMeta {
  /** The stored response head, fields already stripped (cacheability.ts). */
  response: ResponseHeader;
  /** The fields it varies on (vary.ts `varyFields`), empty when it does not vary. */
  varyFields: readonly string[];
  /** The variance (secondary key) it was stored under, undefined without Vary. */
  variance: string | undefined;
  /** When the request that fetched it was sent (ms since epoch, RFC 9111 §4.2.3 request_time). */
  requestTimeMs: number;
  /** When the response arrived (response_time). */
  responseTimeMs: number;
  /** RFC 9111 §4.2.3 corrected_initial_age, ms. */
  correctedInitialAgeMs: number;
  /** RFC 9111 §4.2.1 freshness lifetime, ms. */
  freshnessLifetimeMs: number;
}

/** A stored (or still filling) response found by `lookup`. */
export interface CacheHit {
  meta: CacheMeta;
  /** The body; `isComplete` is false while a writer is still filling it (follow it with `read()`). */
  body: StreamingBody;
}

/** Writes one response into storage as its body arrives. */
export interface MissHandler {
  /**
   * Appends a body piece.
   * @throws an Error with code `ERR_CACHE_TOO_LARGE` past the storage's object limit (the fill is
   *   then abandoned: stop writing and serve the response uncached).
   */
  write(chunk: Buffer): void | Promise<void>;
  /** Completes the entry; resolves with whether it was stored (admission may refuse it). */
  finish(): boolean | Promise<boolean>;
  /** Abandons the entry (upstream failed); readers following it get a CacheFillError. */
  abort(reason: string): void;
}

/** What a purge removes. */
export type PurgeScope =
  /** The one variant the key names (its variance included). */
  | 'variant'
  /** Every variant of the key's primary. */
  | 'all';

/** Why an entry left storage, for eviction hooks and metrics. */
export type EvictionReason = 'evicted' | 'purged' | 'rejected' | 'replaced';

/** Called when an entry leaves storage. */
export type EvictionListener = (primaryHash: string, meta: CacheMeta, reason: EvictionReason) => void;

/**
 * Storage of cached responses. Methods may return values or Promises (callers check for `then`).
 * Contract (checked by `storageCompliance`): a lookup with a key without variance finds the
 * latest stored variant of the primary (its meta's `variance` tells which); a lookup with a
 * variance finds only that variant; an entry is visible from `getMissHandler` on, as a body that
 * fills; finish makes it complete; abort removes it; purge and updateMeta act on complete entries.
 */
export interface Storage {
  lookup(key: CacheKey): CacheHit | undefined | Promise<CacheHit | undefined>;
  /** Starts storing `meta` under `key` (its variance included); the body follows via the handler. */
  getMissHandler(key: CacheKey, meta: CacheMeta): MissHandler | Promise<MissHandler>;
  /** Removes entries; resolves with whether anything was removed. */
  purge(key: CacheKey, scope: PurgeScope): boolean | Promise<boolean>;
  /** Replaces the meta of a stored entry (after a 304); false when it is no longer stored. */
  updateMeta(key: CacheKey, meta: CacheMeta): boolean | Promise<boolean>;
}
