// The HTTP cache building blocks (RFC 9111, RFC 5861, RFC 9110 §13-14) the proxy's cache phases
// call. Re-exports only. The Storage compliance suite is a separate entry (storage-compliance.ts)
// because it needs uvu.
export { parseCacheControl, emptyCacheControl, deltaSeconds, type CacheControl } from './cache-control.js';
export { parseHttpDate, formatHttpDate } from './http-date.js';
export {
  HEURISTICALLY_CACHEABLE_STATUSES, freshnessLifetimeMs, hasExplicitFreshness, dateValueMs, ageValueSeconds,
  correctedInitialAgeMs, currentAgeMs, ageFieldValue, freshnessVerdict, staleForbidden, mayServeStale,
  type FreshnessOptions, type FreshnessVerdict, type AgeParsing, type StaleReason, type ServeStaleOptions,
} from './freshness.js';
export {
  responseCacheable, fieldsToStrip, stripFields,
  type Cacheable, type Uncacheable, type UncacheableReason, type CacheabilityOptions, type SetCookiePolicy,
} from './cacheability.js';
export {
  parseEntityTag, parseEntityTagList, strongMatch, weakMatch, evaluatePreconditions, ifRangeAllows,
  addRevalidationHeaders, notModifiedMatches, mergeNotModified, type EntityTag, type ConditionalOutcome,
} from './conditional.js';
export {
  parseRange, contentRange, unsatisfiedContentRange, rangeView, multipartByteranges,
  type ByteRange, type RangeRequest, type RangeOptions, type MultipartByteranges,
} from './range.js';
export { responseCacheControl, surrogateCapability, type TargetedOptions } from './targeted-cache-control.js';
export { invalidatesCache, invalidationTargets } from './invalidation.js';
export { varyFields, normalizedFieldValue, varianceKey } from './vary.js';
export { CacheKey, InvalidCacheKeyError, primaryFromRequest } from './cache-key.js';
export { createCacheMeta, entryState, requestDirectives, responseForHit, refreshedCacheMeta, type ExchangeTimes, type EntryState } from './cache-meta.js';
export { StreamingBody, CacheFillError, CacheWriteClosedError } from './streaming-body.js';
export type { Storage, CacheMeta, CacheHit, MissHandler, PurgeScope, EvictionReason, EvictionListener } from './storage.js';
export { MemoryStorage, CacheTooLargeError, type MemoryStorageOptions, type MemoryEntry, type WeightedCache } from './memory-storage.js';
export { CacheLock, WritePermit, ReadLock, type LockOutcome, type ReleaseStatus, type CacheLockOptions } from './cache-lock.js';
export { Predictor, type PredictorOptions } from './predictor.js';
export { LruEvictionManager, type EvictionManager, type LruEvictionManagerOptions } from './eviction-manager.js';
export { InvalidCacheOptionError } from './errors.js';
