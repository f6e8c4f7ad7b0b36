export * from './errors.js';
export { hashKey, type KeyHasher } from './key-hash.js';
export { TinyLfu } from './tiny-lfu.js';
export { TinyUfo, type Evicted, type TinyUfoOptions, type TinyUfoQueue } from './tiny-ufo.js';
export { MemoryCache, type CacheResult, type CacheStatus, type Clock, type MemoryCacheOptions } from './memory-cache.js';
export { RTCache, type Lookup, type LookupResult, type ReadThroughResult, type RTCacheOptions } from './read-through.js';
