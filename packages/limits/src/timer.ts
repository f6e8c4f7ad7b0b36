import { COARSE_CLOCK_RESOLUTION_MS, coarseNow } from './clock.js';
import { LimitsError, describe } from './errors.js';
import { timerSlab, type FastTimer } from './timer-slab.js';

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

// All timers whose rounded deadline is the same tick: one Node timer serves them all. Its timers are
// a circular list in the slab, headed by a slot of its own.
class Bucket {
  readonly tick: number;
  readonly deadline: number;
  readonly head: number;

  constructor(tick: number, deadline: number) {
    this.tick = tick;
    this.deadline = deadline;
    this.head = timerSlab.take(null, undefined);
    timerSlab.makeHead(this.head);
  }
}

/**
 * A coarse shared timer (pingora-timeout's `TimerManager`): deadlines round up to the next tick, and
 * all timers due at the same tick share one Node timer. Setting and clearing a timer costs a list
 * insert and unlink in the process's timer slab instead of a Node timer each, and allocates nothing.
 */
export class TimerManager {
  /** Resolution in milliseconds. */
  readonly tickMs: number;
  readonly #unref: boolean;
  readonly #ticksPerMs: number;
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
    this.#ticksPerMs = 1 / tickMs;
    this.#unref = options.unref ?? true;
  }

  /**
   * Calls `callback(arg)` once, at the first tick at least `ms` after now. Now is read from
   * {@link coarseNow}, so its resolution is added to the delay to never fire early. Passing `arg`
   * instead of a closure saves one allocation on hot paths. Returns the timer's opaque handle.
   * @throws LimitsError `ERR_LIMITS_INVALID_CALLBACK`, `ERR_LIMITS_INVALID_DELAY` (ms not a finite number >= 0)
   */
  setTimeout<T>(callback: (arg: T) => void, ms: number, arg?: T): FastTimer {
    if (typeof callback !== 'function') throw invalidCallback(callback);
    checkDelay(ms);
    // A multiplication instead of a division (a tenth of the cost of this method): at worst it rounds
    // a deadline that is one ulp past a tick into that tick, far less than the resolution added.
    const tick = Math.ceil((coarseNow() + ms + COARSE_CLOCK_RESOLUTION_MS) * this.#ticksPerMs);
    let bucket = this.#recent[tick & (RECENT_BUCKETS - 1)];
    if (bucket === undefined || bucket.tick !== tick) bucket = this.#bucketAt(tick);
    const slot = timerSlab.take(callback as (arg: unknown) => void, arg);
    timerSlab.append(bucket.head, slot);
    return timerSlab.handleOf(slot);
  }

  /**
   * Cancels `timer` in O(1); a fired, cleared or missing timer is ignored, as `clearTimeout` does.
   * So is a stale handle whose slot now holds another timer: the slot's generation moved on.
   */
  clearTimeout(timer: FastTimer | null | undefined): void {
    if (typeof timer !== 'number') return;
    const slot = timerSlab.slotOf(timer);
    if (slot < 0) return;
    timerSlab.unlink(slot);
    timerSlab.release(slot);
    // An emptied bucket keeps its Node timer: clearing it costs more than letting it fire once.
  }

  /** True while `timer` is pending: until it fires or is cleared. */
  isPending(timer: FastTimer | null | undefined): boolean {
    return typeof timer === 'number' && timerSlab.slotOf(timer) >= 0;
  }

  /** Number of tick buckets, each holding one Node timer (for diagnostics and tests). */
  get bucketCount(): number {
    return this.#buckets.size;
  }

  /** Number of pending timers; walks every bucket, so for diagnostics and tests only. */
  pendingCount(): number {
    let count = 0;
    for (const bucket of this.#buckets.values()) {
      for (let slot = timerSlab.nextOf(bucket.head); slot !== bucket.head; slot = timerSlab.nextOf(slot)) count++;
    }
    return count;
  }

  // The bucket of `tick`, opened if need be, and remembered in the recent-bucket cache.
  #bucketAt(tick: number): Bucket {
    let bucket = this.#buckets.get(tick);
    if (bucket === undefined) {
      bucket = new Bucket(tick, tick * this.tickMs);
      this.#buckets.set(tick, bucket);
      this.#arm(bucket, coarseNow());
    }
    this.#recent[tick & (RECENT_BUCKETS - 1)] = bucket;
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
    const recent = bucket.tick & (RECENT_BUCKETS - 1);
    if (this.#recent[recent] === bucket) this.#recent[recent] = undefined;
    const head = bucket.head;
    for (let slot = timerSlab.nextOf(head); slot !== head; slot = timerSlab.nextOf(head)) {
      const callback = timerSlab.callbackOf(slot);
      const arg = timerSlab.argOf(slot);
      // Released before the call: clearing its own handle is then a no-op, and re-arming may reuse it.
      timerSlab.unlink(slot);
      timerSlab.release(slot);
      try {
        callback(arg);
      } catch (error) {
        // One throwing callback must not cancel the rest; it still surfaces as an uncaught exception.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    timerSlab.release(head);
  }
}

/** @throws LimitsError `ERR_LIMITS_INVALID_DELAY` unless `ms` is a finite number >= 0 */
export function checkDelay(ms: number): void {
  if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) throw invalidDelay(ms);
}

// The errors are built out of line: the hot paths stay small enough for V8 to inline whole (its
// inlining budget counts bytecode, and a template string is a lot of it).
function invalidDelay(ms: unknown): LimitsError {
  return new LimitsError('ERR_LIMITS_INVALID_DELAY', `timeout delay must be a finite number of milliseconds >= 0, got ${describe(ms)}`);
}

function invalidCallback(callback: unknown): LimitsError {
  return new LimitsError('ERR_LIMITS_INVALID_CALLBACK', `fast timeout callback must be a function, got ${describe(callback)}`);
}

/** The shared manager behind {@link setFastTimeout}, {@link timeout} and {@link sleep}: 10 ms ticks, unref'd. */
export const defaultTimerManager = new TimerManager();

/**
 * Like `setTimeout`, on the shared coarse timer: `callback(arg)` runs at the first 10 ms tick at least
 * `ms` from now. Pending fast timeouts never keep the process alive. (undici's name.)
 * @throws LimitsError `ERR_LIMITS_INVALID_CALLBACK`, `ERR_LIMITS_INVALID_DELAY`
 */
export function setFastTimeout<T>(callback: (arg: T) => void, ms: number, arg?: T): FastTimer {
  return defaultTimerManager.setTimeout(callback, ms, arg);
}

/** Cancels a fast timeout in O(1); fired, cleared or missing timers are ignored. (undici's name.) */
export function clearFastTimeout(timer: FastTimer | null | undefined): void {
  defaultTimerManager.clearTimeout(timer);
}
