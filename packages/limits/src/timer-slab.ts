import { LimitsError } from './errors.js';

declare const fastTimerBrand: unique symbol;

/**
 * A pending fast timeout: what `setFastTimeout` returns and `clearFastTimeout` takes. An opaque
 * number (a slot of the shared timer slab and that slot's generation), so arming a timer allocates
 * no object; a handle outlives its timer harmlessly, and never names a later timer in the same slot.
 */
export type FastTimer = number & { readonly [fastTimerBrand]: true };

// A handle is generation × 2^24 + slot, a safe integer: 2^24 slots (16.7M pending timers and bucket
// heads), each reused up to 2^29 − 1 times. A slot whose generations run out is retired instead of
// wrapping, so a stale handle can never match a later timer (the generational-index scheme of slab
// and arena allocators).
const SLOT_BITS = 24;
/** Most slots the slab holds: pending fast timers plus one per tick bucket. */
export const MAX_TIMER_SLOTS = 2 ** SLOT_BITS;
const SLOT_MASK = MAX_TIMER_SLOTS - 1;
const GENERATION = MAX_TIMER_SLOTS;
const LAST_REUSABLE_HANDLE = Number.MAX_SAFE_INTEGER - GENERATION;
const INITIAL_SLOTS = 1024;

/**
 * Every pending fast timer of the process, in flat arrays indexed by slot: its callback and argument,
 * its neighbours in its bucket's circular list, and the handle the slot answers to. Free slots form a
 * stack threaded through the `next` links, so the slot freed last is reused first (warm in the cache).
 * One slab serves every `TimerManager`, so a handle names one timer in the whole process. The slab
 * keeps its largest size: 32 bytes a slot, grown by doubling up to `maxSlots`.
 */
export class TimerSlab {
  // Pairs per slot, so one bounds-checked array serves both reads: callback at 2·slot, argument at
  // 2·slot + 1; next slot at 2·slot, previous slot at 2·slot + 1.
  entries: unknown[] = [];
  links = new Int32Array(0);
  // The handle of the slot's timer while it is pending; when free, the handle its next timer gets.
  handles = new Float64Array(0);
  freeHead = -1;
  /** Most slots at once: pending timers plus one per tick bucket. */
  readonly maxSlots: number;

  /**
   * @param maxSlots the capacity, 1 to {@link MAX_TIMER_SLOTS} (the default: a handle has room for
   *   no more slots). @throws LimitsError `ERR_LIMITS_INVALID_SIZE` outside that range.
   */
  constructor(maxSlots = MAX_TIMER_SLOTS) {
    if (!Number.isInteger(maxSlots) || maxSlots < 1 || maxSlots > MAX_TIMER_SLOTS) {
      throw new LimitsError('ERR_LIMITS_INVALID_SIZE', `timer slab maxSlots must be an integer from 1 to ${MAX_TIMER_SLOTS}, got ${maxSlots}`);
    }
    this.maxSlots = maxSlots;
  }

  /**
   * Takes a free slot for `callback(arg)` (growing the slab when none is left); returns its index.
   * @throws LimitsError `ERR_LIMITS_TOO_MANY_TIMERS` when all `maxSlots` are taken.
   */
  take(callback: ((arg: unknown) => void) | null, arg: unknown): number {
    if (this.freeHead < 0) this.#grow();
    const slot = this.freeHead;
    this.freeHead = this.links[2 * slot];
    this.entries[2 * slot] = callback;
    this.entries[2 * slot + 1] = arg;
    return slot;
  }

  /** Gives `slot` back: its handle stops matching, and it goes on the free stack unless retired. */
  release(slot: number): void {
    this.entries[2 * slot] = null;
    this.entries[2 * slot + 1] = undefined;
    const handle = this.handles[slot];
    if (handle <= LAST_REUSABLE_HANDLE) {
      this.handles[slot] = handle + GENERATION;
      this.links[2 * slot] = this.freeHead;
      this.freeHead = slot;
    } else {
      this.handles[slot] = Number.NaN; // retired: equals no handle, never taken again
    }
  }

  /** The slot of `handle` while its timer is pending, else -1. */
  slotOf(handle: number): number {
    const slot = handle & SLOT_MASK;
    return this.handles[slot] === handle ? slot : -1;
  }

  handleOf(slot: number): FastTimer {
    return this.handles[slot] as FastTimer;
  }

  callbackOf(slot: number): (arg: unknown) => void {
    return this.entries[2 * slot] as (arg: unknown) => void;
  }

  argOf(slot: number): unknown {
    return this.entries[2 * slot + 1];
  }

  nextOf(slot: number): number {
    return this.links[2 * slot];
  }

  /** Makes `slot` a list of its own: the head of a bucket's circular list. */
  makeHead(slot: number): void {
    this.links[2 * slot] = slot;
    this.links[2 * slot + 1] = slot;
  }

  /** Appends `slot` at the end of the circular list headed by `head`. */
  append(head: number, slot: number): void {
    const links = this.links;
    const last = links[2 * head + 1];
    links[2 * slot] = head;
    links[2 * slot + 1] = last;
    links[2 * last] = slot;
    links[2 * head + 1] = slot;
  }

  /** Takes `slot` out of its list in O(1). */
  unlink(slot: number): void {
    const links = this.links;
    const next = links[2 * slot];
    const previous = links[2 * slot + 1];
    links[2 * previous] = next;
    links[2 * next + 1] = previous;
  }

  #grow(): void {
    const size = this.handles.length;
    if (size >= this.maxSlots) {
      throw new LimitsError('ERR_LIMITS_TOO_MANY_TIMERS', `more than ${this.maxSlots} fast timers and tick buckets pending at once`);
    }
    const capacity = Math.min(this.maxSlots, Math.max(INITIAL_SLOTS, size * 2));
    const links = new Int32Array(2 * capacity);
    links.set(this.links);
    const handles = new Float64Array(capacity);
    handles.set(this.handles);
    // The new slots go on the free stack in ascending order, each at generation 1 (handles are never 0).
    for (let slot = size; slot < capacity; slot++) {
      handles[slot] = GENERATION + slot;
      links[2 * slot] = slot + 1 < capacity ? slot + 1 : -1;
      this.entries.push(null, undefined);
    }
    this.links = links;
    this.handles = handles;
    this.freeHead = size;
  }
}

/** The one slab of the process. */
export const timerSlab = new TimerSlab();
