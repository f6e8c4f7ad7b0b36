import { coarseNow, type Clock } from './clock.js';
import { LimitsError, describe } from './errors.js';
import { Estimator } from './estimator.js';
import type { Key } from './hash.js';

/** Options of {@link Rate}. */
export interface RateOptions {
  /** Rows of each sketch; default 4, as Pingora. */
  hashes?: number;
  /** Counters per row; default 1024, as Pingora (fewer suffice when few keys are seen per interval). */
  slots?: number;
  /** Seed of the sketches' hash functions; random by default. */
  seed?: number;
  /** Monotonic milliseconds; default {@link coarseNow}. Inject a fake one in tests. */
  now?: Clock;
}

/** What {@link Rate.rateWith} hands to its function (Pingora's `RateComponents`). */
export interface RateComponents {
  /** Events of the key in the previous, complete interval. */
  readonly previousSamples: number;
  /** Events of the key so far in the current interval. */
  readonly currentSamples: number;
  /** Length of an interval in milliseconds. */
  readonly intervalMs: number;
  /** How much of the current interval has passed, in [0, 1). */
  readonly currentIntervalFraction: number;
}

/**
 * The sliding-window estimate in events per second: the previous interval weighted by the part of it
 * still inside a window of one interval ending now, plus the current interval (Cloudflare's "Counting
 * things, a lot of different things"). Pass it to {@link Rate.rateWith}.
 */
export function proportionalRateEstimate(components: RateComponents): number {
  const weighted = components.previousSamples * (1 - components.currentIntervalFraction) + components.currentSamples;
  return (weighted * 1000) / components.intervalMs;
}

/**
 * Per-key event rates over fixed intervals (pingora-limits `Rate`): events are counted in a sketch for
 * the current interval while the sketch of the previous, complete interval answers `rate()`. The
 * sketches swap lazily, on the first call after an interval ends; intervals stay on a fixed grid that
 * starts when the `Rate` is created.
 */
export class Rate {
  /** Length of an interval in milliseconds. */
  readonly intervalMs: number;
  #current: Estimator;
  #previous: Estimator;
  #currentStart: number;
  readonly #now: Clock;

  /**
   * @param intervalMs length of an interval, a positive finite number of milliseconds
   * @throws LimitsError `ERR_LIMITS_INVALID_INTERVAL`, `ERR_LIMITS_INVALID_CLOCK`, `ERR_LIMITS_INVALID_SIZE`
   */
  constructor(intervalMs: number, options: RateOptions = {}) {
    if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new LimitsError('ERR_LIMITS_INVALID_INTERVAL', `Rate intervalMs must be a positive finite number, got ${describe(intervalMs)}`);
    }
    const now = options.now ?? coarseNow;
    if (typeof now !== 'function') {
      throw new LimitsError('ERR_LIMITS_INVALID_CLOCK', `Rate option now must be a function, got ${describe(now)}`);
    }
    const hashes = options.hashes ?? 4;
    const slots = options.slots ?? 1024;
    const seed = options.seed;
    this.intervalMs = intervalMs;
    this.#now = now;
    this.#current = new Estimator(hashes, slots, seed === undefined ? {} : { seed });
    this.#previous = new Estimator(hashes, slots, seed === undefined ? {} : { seed: seed + 1 });
    this.#currentStart = now();
  }

  /**
   * Records `events` (default 1) for `key` and returns the key's count so far in the current interval.
   * @throws LimitsError `ERR_LIMITS_INVALID_KEY`, `ERR_LIMITS_INVALID_COUNT`
   */
  observe(key: Key, events = 1): number {
    this.#rollover(this.#now());
    return this.#current.incr(key, events);
  }

  /**
   * Returns the key's rate in events per second over the previous complete interval; 0 once two
   * intervals have passed without events.
   */
  rate(key: Key): number {
    this.#rollover(this.#now());
    return (this.#previous.get(key) * 1000) / this.intervalMs;
  }

  /**
   * Calls `calculate` with the key's counts of the previous and current intervals and how far the
   * current interval has run, and returns its result; {@link proportionalRateEstimate} is the usual one.
   */
  rateWith<T>(key: Key, calculate: (components: RateComponents) => T): T {
    const now = this.#now();
    this.#rollover(now);
    return calculate({
      previousSamples: this.#previous.get(key),
      currentSamples: this.#current.get(key),
      intervalMs: this.intervalMs,
      currentIntervalFraction: Math.max(0, now - this.#currentStart) / this.intervalMs,
    });
  }

  /** Milliseconds until the current interval ends (what a `Reset` header announces). */
  msUntilNextInterval(): number {
    const now = this.#now();
    this.#rollover(now);
    return this.#currentStart + this.intervalMs - now;
  }

  #rollover(now: number): void {
    const elapsed = now - this.#currentStart;
    if (elapsed < this.intervalMs) return;
    const intervals = Math.floor(elapsed / this.intervalMs);
    this.#currentStart += intervals * this.intervalMs;
    // The old previous interval is stale; its sketch, emptied, counts the new current interval.
    const emptied = this.#previous;
    emptied.reset();
    this.#previous = this.#current;
    this.#current = emptied;
    // Two or more intervals passed: the interval just ended saw no calls, so it had no events.
    if (intervals >= 2) this.#previous.reset();
  }
}
