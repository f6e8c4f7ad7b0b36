import { LimitsError, describe } from './errors.js';
import { hashKey, keyHash, mix32, randomSeed, seeds, type Key } from './hash.js';

/** Options of {@link Estimator}. */
export interface EstimatorOptions {
  /** Seed of the hash functions; random by default. Fix it only for reproducible tests. */
  seed?: number;
}

/** Upper bound of `hashes * slots`, so a typo cannot allocate gigabytes (2^24 counters = 128 MiB). */
export const MAX_ESTIMATOR_COUNTERS = 1 << 24;

/**
 * A count-min sketch (Cormode & Muthukrishnan, 2005) over integer counters: `hashes` rows of `slots`
 * counters each; a key adds to one counter per row and is estimated by the smallest of them.
 *
 * With only increments, an estimate never undercounts, and it overcounts by at most `e / slots` of
 * the total added to the sketch with probability at least `1 - e^-hashes`.
 */
export class Estimator {
  /** Number of rows (independent hash functions). */
  readonly hashes: number;
  /** Counters per row. */
  readonly slots: number;
  readonly #counters: Float64Array;
  // seeds[0], seeds[1]: the key hash lanes; seeds[2 + row]: that row's index mixer.
  readonly #seeds: Int32Array;

  /**
   * @param hashes rows, 1 or more (Pingora uses 4)
   * @param slots counters per row, 1 or more (Pingora's `Rate` uses 1024, `Inflight` 8192)
   * @throws LimitsError `ERR_LIMITS_INVALID_SIZE` if either is not a positive integer or their
   *   product exceeds {@link MAX_ESTIMATOR_COUNTERS}
   */
  constructor(hashes: number, slots: number, options: EstimatorOptions = {}) {
    checkSize('hashes', hashes);
    checkSize('slots', slots);
    if (hashes * slots > MAX_ESTIMATOR_COUNTERS) {
      throw new LimitsError(
        'ERR_LIMITS_INVALID_SIZE',
        `Estimator hashes * slots = ${hashes * slots} exceeds the limit of ${MAX_ESTIMATOR_COUNTERS} counters`,
      );
    }
    this.hashes = hashes;
    this.slots = slots;
    this.#counters = new Float64Array(hashes * slots);
    this.#seeds = seeds(hashes + 2, options.seed ?? randomSeed());
  }

  /**
   * Adds `n` (default 1) to `key` and returns the key's estimate after adding.
   * @throws LimitsError `ERR_LIMITS_INVALID_KEY`, `ERR_LIMITS_INVALID_COUNT` (n not a safe integer)
   */
  incr(key: Key, n = 1): number {
    checkCount(n);
    const seeds = this.#seeds;
    hashKey(key, seeds[0], seeds[1]);
    const a = keyHash[0];
    const b = keyHash[1];
    const counters = this.#counters;
    const slots = this.slots;
    let min = Infinity;
    for (let row = 0, offset = 0; row < this.hashes; row++, offset += slots) {
      const index = offset + slotOf(a, b, seeds[row + 2], row, slots);
      const value = (counters[index] += n);
      if (value < min) min = value;
    }
    return min;
  }

  /**
   * Subtracts `n` (default 1) from `key`, undoing an earlier `incr(key, n)`.
   * @throws LimitsError `ERR_LIMITS_INVALID_KEY`, `ERR_LIMITS_INVALID_COUNT`
   */
  decr(key: Key, n = 1): void {
    checkCount(n);
    const seeds = this.#seeds;
    hashKey(key, seeds[0], seeds[1]);
    const a = keyHash[0];
    const b = keyHash[1];
    const counters = this.#counters;
    const slots = this.slots;
    for (let row = 0, offset = 0; row < this.hashes; row++, offset += slots) {
      counters[offset + slotOf(a, b, seeds[row + 2], row, slots)] -= n;
    }
  }

  /**
   * Returns the estimated count of `key` (0 for a key never added, unless it shares all its counters).
   * @throws LimitsError `ERR_LIMITS_INVALID_KEY`
   */
  get(key: Key): number {
    const seeds = this.#seeds;
    hashKey(key, seeds[0], seeds[1]);
    const a = keyHash[0];
    const b = keyHash[1];
    const counters = this.#counters;
    const slots = this.slots;
    let min = Infinity;
    for (let row = 0, offset = 0; row < this.hashes; row++, offset += slots) {
      const value = counters[offset + slotOf(a, b, seeds[row + 2], row, slots)];
      if (value < min) min = value;
    }
    return min;
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.#counters.fill(0);
  }
}

// Row `row` indexes by a seeded mix of a + (2 row + 1) b: the lanes make a 64-bit key hash, so two keys
// land on the same counters in every row only if their 64-bit hashes collide. The top 24 bits of the
// mix scale to [0, slots) by multiply-shift (exact in a double: 2^24 * 2^24 < 2^53), which is several
// times cheaper than `%` on a uint32 that does not fit V8's small integers.
function slotOf(a: number, b: number, rowSeed: number, row: number, slots: number): number {
  return Math.floor(((mix32((a ^ rowSeed) + Math.imul(b, 2 * row + 1)) >>> 8) * slots) / 16_777_216);
}

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new LimitsError('ERR_LIMITS_INVALID_SIZE', `Estimator ${name} must be a positive integer, got ${describe(value)}`);
  }
}

export function checkCount(n: number): void {
  if (!Number.isSafeInteger(n)) {
    throw new LimitsError('ERR_LIMITS_INVALID_COUNT', `count must be a safe integer, got ${describe(n)}`);
  }
}
