// Errors shared by the cache modules; each has a stable `code`.

/** Thrown for an invalid option of a cache component (storage, lock, predictor). */
export class InvalidCacheOptionError extends Error {
  readonly code = 'ERR_CACHE_INVALID_OPTION';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCacheOptionError';
  }
}
