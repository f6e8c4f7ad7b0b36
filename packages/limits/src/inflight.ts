import { Estimator, checkCount } from './estimator.js';
import { LimitsError, describe } from './errors.js';
import type { Key } from './hash.js';

/** Options of {@link Inflight}. */
export interface InflightOptions {
  /** Rows of the sketch; default 4, as Pingora. */
  hashes?: number;
  /** Counters per row; default 8192, as Pingora: lookups stay cheap and false sharing rare. */
  slots?: number;
  /** Seed of the sketch's hash functions; random by default. */
  seed?: number;
}

// `using` needs Symbol.dispose (Node >= 20.4 has it); older runtimes get the well-known registry symbol.
const dispose: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/**
 * Counts what is in progress per key (pingora-limits `Inflight`): `incr` adds and hands back a guard
 * whose release takes the same amount off again, exactly once.
 */
export class Inflight {
  readonly #estimator: Estimator;

  /** @throws LimitsError `ERR_LIMITS_INVALID_SIZE` */
  constructor(options: InflightOptions = {}) {
    const seed = options.seed;
    this.#estimator = new Estimator(options.hashes ?? 4, options.slots ?? 8192, seed === undefined ? {} : { seed });
  }

  /**
   * Adds `n` (default 1) for `key` and returns the guard that undoes it; `guard.estimate` is the key's
   * count after adding. Release with `guard.release()` or `using guard = inflight.incr(key)`.
   * @throws LimitsError `ERR_LIMITS_INVALID_KEY`, `ERR_LIMITS_INVALID_COUNT`
   */
  incr(key: Key, n = 1): InflightGuard {
    checkCount(n);
    let owned: Key = key;
    if (typeof key !== 'string') {
      if (!(key instanceof Uint8Array)) {
        throw new LimitsError('ERR_LIMITS_INVALID_KEY', `key must be a string or a Uint8Array, got ${describe(key)}`);
      }
      // A byte key is copied: the caller may reuse its buffer before the guard is released.
      owned = Uint8Array.prototype.slice.call(key);
    }
    return new InflightGuard(this.#estimator, owned, n, this.#estimator.incr(owned, n));
  }

  /** Returns the estimated count in progress for `key`. */
  get(key: Key): number {
    return this.#estimator.get(key);
  }
}

/** What {@link Inflight.incr} returns: holds `value` for its key until released. */
export class InflightGuard {
  /** The key's estimated count right after this guard added to it. */
  readonly estimate: number;
  /** The amount this guard holds. */
  readonly value: number;
  readonly #estimator: Estimator;
  readonly #key: Key;
  #released = false;

  /** Created by {@link Inflight.incr}; holds `value` of `key` in `estimator`, which `incr` already added. */
  constructor(estimator: Estimator, key: Key, value: number, estimate: number) {
    this.#estimator = estimator;
    this.#key = key;
    this.value = value;
    this.estimate = estimate;
  }

  /** True once released. */
  get released(): boolean {
    return this.#released;
  }

  /** Returns the key's current estimated count in progress. */
  get(): number {
    return this.#estimator.get(this.#key);
  }

  /** Takes the guard's value off its key; returns false, doing nothing, if already released. */
  release(): boolean {
    if (this.#released) return false;
    this.#released = true;
    this.#estimator.decr(this.#key, this.value);
    return true;
  }

  /** Releases the guard at the end of a `using` block. */
  [dispose](): void {
    this.release();
  }
}
