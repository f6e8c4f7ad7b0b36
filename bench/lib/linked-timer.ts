// TEMPORARY A/B reference: @sluice/limits' timer before the slab (commit 12685c1), verbatim but for
// imports. Removed once the A/B is measured.
import { COARSE_CLOCK_RESOLUTION_MS, coarseNow, LimitsError } from '@sluice/limits';
const describe = (value: unknown): string => String(value);

/** Options of {@link TimerManager}. */
export interface TimerManagerOptions {
  /** Resolution in milliseconds: deadlines round up to a multiple of it. Default 10, as Pingora. */
  tickMs?: number;
  /** Whether pending timers may let the process exit, as `timer.unref()`. Default true. */
  unref?: boolean;
}

const RECENT_BUCKETS = 64;
// Node's timers take at most 2^31 - 1 ms; a longer wait is re-armed in steps.
const MAX_NODE_DELAY_MS = 0x7fff_ffff;

/**
 * A pending fast timeout: what {@link setFastTimeout} returns and {@link clearFastTimeout} takes.
 * It is a node of its bucket's circular list, so cancelling unlinks it in O(1).
 */
export class FastTimer {
  /** @internal */ callback: ((arg: unknown) => void) | null;
  /** @internal */ arg: unknown;
  /** @internal */ previous: FastTimer | null;
  /** @internal */ next: FastTimer | null;

  /** @internal */
  constructor(callback: ((arg: unknown) => void) | null, arg: unknown, previous: FastTimer | null, next: FastTimer | null) {
    this.callback = callback;
    this.arg = arg;
    this.previous = previous;
    this.next = next;
  }

  /** True until the timer fires or is cleared. */
  get pending(): boolean {
    return this.previous !== null;
  }
}

// All timers whose rounded deadline is the same tick: one Node timer serves them all.
class Bucket {
  readonly tick: number;
  readonly deadline: number;
  readonly head = new FastTimer(null, undefined, null, null);

  constructor(tick: number, deadline: number) {
    this.tick = tick;
    this.deadline = deadline;
    this.head.previous = this.head;
    this.head.next = this.head;
  }
}

/**
 * A coarse shared timer (pingora-timeout's `TimerManager`): deadlines round up to the next tick, and
 * all timers due at the same tick share one Node timer. Setting and clearing a timer costs a list
 * insert and unlink instead of a Node timer each.
 */
export class TimerManager {
  /** Resolution in milliseconds. */
  readonly tickMs: number;
  readonly #unref: boolean;
  readonly #buckets = new Map<number, Bucket>();
  // Recently used buckets by tick modulo 64: timers with the few delays a program uses find their
  // bucket with an array read instead of a Map lookup.
  readonly #recent = new Array<Bucket | undefined>(RECENT_BUCKETS).fill(undefined);
  // One bound function per manager (not per bucket) for Node's timers to call.
  readonly #onBucketDue = (bucket: Bucket): void => this.#fire(bucket);

  /** @throws LimitsError `ERR_LIMITS_INVALID_INTERVAL` if `tickMs` is not a positive finite number */
  constructor(options: TimerManagerOptions = {}) {
    const tickMs = options.tickMs ?? 10;
    if (typeof tickMs !== 'number' || !Number.isFinite(tickMs) || tickMs <= 0) {
      throw new LimitsError('ERR_LIMITS_INVALID_INTERVAL', `TimerManager tickMs must be a positive finite number, got ${describe(tickMs)}`);
    }
    this.tickMs = tickMs;
    this.#unref = options.unref ?? true;
  }

  /**
   * Calls `callback(arg)` once, at the first tick at least `ms` after now. Now is read from
   * {@link coarseNow}, so its resolution is added to the delay to never fire early. Passing `arg`
   * instead of a closure saves one allocation on hot paths.
   * @throws LimitsError `ERR_LIMITS_INVALID_CALLBACK`, `ERR_LIMITS_INVALID_DELAY` (ms not a finite number >= 0)
   */
  setTimeout<T>(callback: (arg: T) => void, ms: number, arg?: T): FastTimer {
    if (typeof callback !== 'function') {
      throw new LimitsError('ERR_LIMITS_INVALID_CALLBACK', `fast timeout callback must be a function, got ${describe(callback)}`);
    }
    checkDelay(ms);
    const tick = Math.ceil((coarseNow() + ms + COARSE_CLOCK_RESOLUTION_MS) / this.tickMs);
    const slot = tick & (RECENT_BUCKETS - 1);
    let bucket = this.#recent[slot];
    if (bucket === undefined || bucket.tick !== tick) {
      bucket = this.#buckets.get(tick) ?? this.#openBucket(tick);
      this.#recent[slot] = bucket;
    }
    const head = bucket.head;
    const last = head.previous!;
    const timer = new FastTimer(callback as (arg: unknown) => void, arg, last, head);
    last.next = timer;
    head.previous = timer;
    return timer;
  }

  /** Cancels `timer` in O(1); a fired, cleared or missing timer is ignored, as `clearTimeout` does. */
  clearTimeout(timer: FastTimer | null | undefined): void {
    const previous = timer?.previous;
    if (!previous) return;
    const next = timer.next!;
    previous.next = next;
    next.previous = previous;
    timer.previous = null;
    timer.next = null;
    timer.callback = null;
    timer.arg = undefined;
    // An emptied bucket keeps its Node timer: clearing it costs more than letting it fire once.
  }

  /** Number of tick buckets, each holding one Node timer (for diagnostics and tests). */
  get bucketCount(): number {
    return this.#buckets.size;
  }

  /** Number of pending timers; walks every bucket, so for diagnostics and tests only. */
  pendingCount(): number {
    let count = 0;
    for (const bucket of this.#buckets.values()) {
      for (let node = bucket.head.next!; node !== bucket.head; node = node.next!) count++;
    }
    return count;
  }

  #openBucket(tick: number): Bucket {
    const bucket = new Bucket(tick, tick * this.tickMs);
    this.#buckets.set(tick, bucket);
    this.#arm(bucket, coarseNow());
    return bucket;
  }

  #arm(bucket: Bucket, now: number): void {
    const delay = Math.min(Math.max(0, Math.ceil(bucket.deadline - now)), MAX_NODE_DELAY_MS);
    const nodeTimer = setTimeout(this.#onBucketDue, delay, bucket);
    if (this.#unref) nodeTimer.unref();
  }

  // Runs the timers of `bucket` once its deadline has passed.
  #fire(bucket: Bucket): void {
    const now = performance.now();
    // Node's timer may wake a fraction of a millisecond early, or a long wait may need another step.
    if (now < bucket.deadline) {
      this.#arm(bucket, now);
      return;
    }
    // Closed first, so timers set by the callbacks below go to a fresh bucket.
    this.#buckets.delete(bucket.tick);
    const slot = bucket.tick & (RECENT_BUCKETS - 1);
    if (this.#recent[slot] === bucket) this.#recent[slot] = undefined;
    const head = bucket.head;
    for (let timer = head.next!; timer !== head; timer = head.next!) {
      const callback = timer.callback!;
      const arg = timer.arg;
      this.clearTimeout(timer);
      try {
        callback(arg);
      } catch (error) {
        // One throwing callback must not cancel the rest; it still surfaces as an uncaught exception.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/** @throws LimitsError `ERR_LIMITS_INVALID_DELAY` unless `ms` is a finite number >= 0 */
export function checkDelay(ms: number): void {
  if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
    throw new LimitsError('ERR_LIMITS_INVALID_DELAY', `timeout delay must be a finite number of milliseconds >= 0, got ${describe(ms)}`);
  }
}

/** The shared manager behind {@link setFastTimeout}, {@link timeout} and {@link sleep}: 10 ms ticks, unref'd. */
export const linkedTimerManager = new TimerManager();

