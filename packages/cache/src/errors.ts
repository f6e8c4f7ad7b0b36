/** Stable codes of every error this package throws or rejects with. */
export type CacheErrorCode =
  | 'ERR_CACHE_INVALID_OPTION'
  | 'ERR_CACHE_INVALID_WEIGHT'
  | 'ERR_CACHE_INVALID_TTL'
  | 'ERR_CACHE_UNHASHABLE_KEY'
  | 'ERR_CACHE_LOOKUP';

/** Base class of the errors of @sluice/cache; `code` is stable, the message says what and where. */
export class CacheError extends Error {
  readonly code: CacheErrorCode;

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheError';
    this.code = code;
  }
}

/** A constructor option is out of range (a size that is not a positive integer, a negative time). */
export class InvalidOptionError extends CacheError {
  constructor(message: string) {
    super('ERR_CACHE_INVALID_OPTION', message);
    this.name = 'InvalidOptionError';
  }
}

/** An entry's weight is not a positive integer below 2^32. */
export class InvalidWeightError extends CacheError {
  constructor(weight: unknown) {
    super('ERR_CACHE_INVALID_WEIGHT', `TinyUfo: weight must be an integer from 1 to 4294967295, got ${String(weight)}`);
    this.name = 'InvalidWeightError';
  }
}

/** A TTL is negative or not a number. */
export class InvalidTtlError extends CacheError {
  constructor(ttlMs: unknown) {
    super('ERR_CACHE_INVALID_TTL', `MemoryCache: ttlMs must be a number >= 0 (or undefined for no expiry), got ${String(ttlMs)}`);
    this.name = 'InvalidTtlError';
  }
}

/** A key that the default hash cannot digest (objects, symbols) was given without a `hashKey` option. */
export class UnhashableKeyError extends CacheError {
  constructor(key: unknown) {
    super('ERR_CACHE_UNHASHABLE_KEY', `TinyUfo: cannot hash a key of type ${typeof key}; keys are strings, numbers, bigints or booleans unless the hashKey option is given`);
    this.name = 'UnhashableKeyError';
  }
}

/** A read-through lookup failed; `cause` is what the lookup threw, `key` the key it was for. */
export class LookupError extends CacheError {
  readonly key: unknown;

  constructor(key: unknown, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ERR_CACHE_LOOKUP', `RTCache: lookup of key ${String(key)} failed: ${reason}`, { cause });
    this.name = 'LookupError';
    this.key = key;
  }
}
