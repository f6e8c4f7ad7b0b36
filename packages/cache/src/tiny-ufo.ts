import { InvalidOptionError, InvalidWeightError } from './errors.js';
import { hashKey, type KeyHasher } from './key-hash.js';
import { TinyLfu } from './tiny-lfu.js';

/** An entry that left the cache (evicted) or was never let in (rejected by admission). */
export interface Evicted<K, V> {
  key: K;
  value: V;
  weight: number;
}

/** Which FIFO holds an entry. */
export type TinyUfoQueue = 'small' | 'main';

/** Options of `TinyUfo`. */
export interface TinyUfoOptions<K> {
  /**
   * Hashes a key to 32 bits for the admission sketch. Default: FNV-1a / bit mixing for strings,
   * numbers, bigints and booleans; other key types need this option.
   */
  hashKey?: KeyHasher<K>;
}

// Where a slot is. A removed entry's slot stays REMOVED inside its queue until the queue reaches it.
const FREE = 0;
const SMALL = 1;
const MAIN = 2;
const REMOVED = 3;
const NONE = -1;
// Pingora caps uses at 3 so that a full pass over the main queue always finds a victim quickly.
const USES_CAP = 3;
// S3-FIFO's small queue holds ~10% of the weight (Yang et al., SOSP'23 §4).
const SMALL_QUEUE_SHARE = 0.1;
const MAX_WEIGHT = 0xffffffff;
// V8's Map holds at most 2^24 entries.
const MAX_ENTRIES = 1 << 24;
// Shared by every put that evicts nothing; frozen so that no caller can fill it.
const NO_ENTRIES: never[] = Object.freeze([]) as never[];

/**
 * TinyUFO, Pingora's in-memory cache: S3-FIFO eviction (a small FIFO of ~10% of the weight for new
 * entries and a main FIFO for entries read again, with a use counter capped at 3) and TinyLFU
 * admission (a newcomer that would evict a single more frequently wanted entry is rejected instead).
 *
 * Entries live in slots of parallel typed arrays; both FIFOs are singly linked through one
 * `Int32Array`, so an entry costs a few bytes of arrays plus its `Map` index entry, no objects.
 */
export class TinyUfo<K, V> {
  /** The most weight the cache holds. */
  readonly totalWeightLimit: number;
  private readonly smallWeightLimit: number;
  private readonly hashKey: KeyHasher<K>;
  private readonly lfu: TinyLfu;
  private readonly index = new Map<K, number>();
  private readonly keys: (K | undefined)[] = [];
  private readonly values: (V | undefined)[] = [];
  private hashes: Uint32Array;
  private weights: Uint32Array;
  private uses: Uint8Array;
  private queues: Uint8Array;
  private next: Int32Array;
  private allocated = 0;
  private freeHead = NONE;
  private smallHead = NONE;
  private smallTail = NONE;
  private mainHead = NONE;
  private mainTail = NONE;
  private smallWeight = 0;
  private mainWeight = 0;
  private removedInQueues = 0;

  /**
   * @param totalWeightLimit the most total weight held (with weight 1 per entry: the entry count).
   * @param estimatedSize the expected number of entries (not weight); sizes the frequency sketch
   *   (~11 bytes per entry) and the first slot arrays, which grow when needed.
   * @throws InvalidOptionError when either is not a positive safe integer, or `estimatedSize`
   *   exceeds 2^24, the most entries a V8 `Map` holds.
   */
  constructor(totalWeightLimit: number, estimatedSize: number, options: TinyUfoOptions<K> = {}) {
    if (!Number.isSafeInteger(totalWeightLimit) || totalWeightLimit < 1) {
      throw new InvalidOptionError(`TinyUfo: totalWeightLimit must be a positive integer, got ${totalWeightLimit}`);
    }
    if (!Number.isSafeInteger(estimatedSize) || estimatedSize < 1 || estimatedSize > MAX_ENTRIES) {
      throw new InvalidOptionError(`TinyUfo: estimatedSize must be an integer from 1 to ${MAX_ENTRIES} (entries, not weight), got ${estimatedSize}`);
    }
    this.totalWeightLimit = totalWeightLimit;
    this.smallWeightLimit = Math.floor(totalWeightLimit * SMALL_QUEUE_SHARE) + 1;
    this.hashKey = options.hashKey ?? hashKey;
    this.lfu = new TinyLfu(estimatedSize);
    const capacity = Math.max(16, Math.min(estimatedSize, totalWeightLimit));
    this.hashes = new Uint32Array(capacity);
    this.weights = new Uint32Array(capacity);
    this.uses = new Uint8Array(capacity);
    this.queues = new Uint8Array(capacity);
    this.next = new Int32Array(capacity);
  }

  /** Number of entries. */
  get size(): number {
    return this.index.size;
  }

  /** Total weight of the entries. */
  get weight(): number {
    return this.smallWeight + this.mainWeight;
  }

  /** Reads a value and counts the use (up to 3), which protects the entry from eviction. */
  get(key: K): V | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    if (this.uses[slot] < USES_CAP) this.uses[slot]++;
    return this.values[slot];
  }

  /** Reads a value without counting a use. */
  peek(key: K): V | undefined {
    const slot = this.index.get(key);
    return slot === undefined ? undefined : this.values[slot];
  }

  /** Whether `key` is cached (no use counted). */
  has(key: K): boolean {
    return this.index.has(key);
  }

  /** The FIFO holding `key`, or undefined when it is not cached. */
  queueOf(key: K): TinyUfoQueue | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    return this.queues[slot] === MAIN ? 'main' : 'small';
  }

  /**
   * Inserts or updates an entry and returns what left the cache to make room. When TinyLFU judges
   * the single entry it would evict more popular than the newcomer, the newcomer is returned instead
   * and no entry leaves. An entry heavier than `totalWeightLimit` is returned at once.
   * @throws InvalidWeightError when `weight` is not an integer from 1 to 2^32-1.
   */
  put(key: K, value: V, weight: number = 1): readonly Evicted<K, V>[] {
    return this.admit(key, value, weight, false);
  }

  /**
   * Like `put`, but the newcomer is always admitted (no TinyLFU check), for callers that have
   * readers waiting on this entry. Pingora measures ~0.5pp lower hit ratio when used for every put.
   */
  forcePut(key: K, value: V, weight: number = 1): readonly Evicted<K, V>[] {
    return this.admit(key, value, weight, true);
  }

  /** Removes an entry and returns its value, or undefined when it was not cached. */
  remove(key: K): V | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    const value = this.values[slot];
    if (this.queues[slot] === MAIN) this.mainWeight -= this.weights[slot];
    else this.smallWeight -= this.weights[slot];
    this.index.delete(key);
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    // The slot stays linked in its FIFO (singly linked: no O(1) unlink) until eviction passes it;
    // sweep when such slots outnumber live entries so put/remove churn cannot grow memory.
    this.queues[slot] = REMOVED;
    if (++this.removedInQueues > 64 && this.removedInQueues > this.index.size) this.sweepRemoved();
    return value;
  }

  private admit(key: K, value: V, weight: number, force: boolean): readonly Evicted<K, V>[] {
    if (!(weight >= 1 && weight <= MAX_WEIGHT && Number.isInteger(weight))) throw new InvalidWeightError(weight);
    const existing = this.index.get(key);
    if (existing !== undefined) {
      // Pingora counts an update as an admission and a use.
      this.lfu.incr(this.hashes[existing]);
      const delta = weight - this.weights[existing];
      if (this.queues[existing] === MAIN) this.mainWeight += delta;
      else this.smallWeight += delta;
      this.weights[existing] = weight;
      this.values[existing] = value;
      if (this.uses[existing] < USES_CAP) this.uses[existing]++;
      // The updated entry itself may be chosen if it grew; Pingora accepts that too.
      return this.smallWeight + this.mainWeight > this.totalWeightLimit ? this.evictToLimit(0, []) : NO_ENTRIES;
    }
    const hash = this.hashKey(key) >>> 0;
    const frequency = this.lfu.incr(hash);
    if (weight > this.totalWeightLimit) return [{ key, value, weight }];
    if (this.smallWeight + this.mainWeight + weight <= this.totalWeightLimit) {
      this.insert(key, value, weight, hash);
      return NO_ENTRIES;
    }
    const victim = this.evictOne();
    // TinyLFU admission, applied like Pingora only when one victim makes room: comparing one
    // newcomer against several victims of different weights has no clear rule.
    if (
      victim !== NONE &&
      !force &&
      this.smallWeight + this.mainWeight + weight <= this.totalWeightLimit &&
      this.lfu.get(this.hashes[victim]) > frequency
    ) {
      // The victim stays, re-queued at the small FIFO's tail with its uses reset, as Pingora's
      // re-insertion leaves it; the newcomer is handed back.
      this.uses[victim] = 0;
      this.queues[victim] = SMALL;
      this.pushSmall(victim);
      this.smallWeight += this.weights[victim];
      return [{ key, value, weight }];
    }
    const evicted = victim === NONE ? [] : [this.release(victim)];
    this.evictToLimit(weight, evicted);
    this.insert(key, value, weight, hash);
    return evicted;
  }

  private insert(key: K, value: V, weight: number, hash: number): void {
    const slot = this.allocate();
    this.index.set(key, slot);
    this.keys[slot] = key;
    this.values[slot] = value;
    this.hashes[slot] = hash;
    this.weights[slot] = weight;
    this.uses[slot] = 0;
    this.queues[slot] = SMALL;
    this.pushSmall(slot);
    this.smallWeight += weight;
  }

  // Evicts into `evicted` until `extra` more weight fits; `extra` is for an entry about to be inserted.
  private evictToLimit(extra: number, evicted: Evicted<K, V>[]): Evicted<K, V>[] {
    while (this.smallWeight + this.mainWeight + extra > this.totalWeightLimit) {
      const slot = this.evictOne();
      if (slot === NONE) break;
      evicted.push(this.release(slot));
    }
    return evicted;
  }

  private evictOne(): number {
    if (this.smallWeight >= this.smallWeightLimit) {
      const slot = this.evictFromSmall();
      // The whole small queue may have been promoted without a victim.
      if (slot !== NONE) return slot;
    }
    const slot = this.evictFromMain();
    return slot !== NONE ? slot : this.evictFromSmall();
  }

  // S3-FIFO: an entry read more than once while in the small queue moves to main, keeping its uses.
  private evictFromSmall(): number {
    for (let slot = this.popSmall(); slot !== NONE; slot = this.popSmall()) {
      if (this.queues[slot] === REMOVED) {
        this.free(slot);
        continue;
      }
      const weight = this.weights[slot];
      this.smallWeight -= weight;
      if (this.uses[slot] > 1) {
        this.queues[slot] = MAIN;
        this.pushMain(slot);
        this.mainWeight += weight;
        continue;
      }
      return slot;
    }
    return NONE;
  }

  // CLOCK-like second chance: each pass takes one use; an entry with none left is the victim.
  private evictFromMain(): number {
    for (let slot = this.popMain(); slot !== NONE; slot = this.popMain()) {
      if (this.queues[slot] === REMOVED) {
        this.free(slot);
        continue;
      }
      if (this.uses[slot] > 0) {
        this.uses[slot]--;
        this.pushMain(slot);
        continue;
      }
      this.mainWeight -= this.weights[slot];
      return slot;
    }
    return NONE;
  }

  // Turns an unlinked slot into its evicted entry and frees the slot.
  private release(slot: number): Evicted<K, V> {
    const key = this.keys[slot] as K;
    const entry: Evicted<K, V> = { key, value: this.values[slot] as V, weight: this.weights[slot] };
    this.index.delete(key);
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.queues[slot] = FREE;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    return entry;
  }

  private free(slot: number): void {
    this.removedInQueues--;
    this.queues[slot] = FREE;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  private allocate(): number {
    if (this.freeHead !== NONE) {
      const slot = this.freeHead;
      this.freeHead = this.next[slot];
      return slot;
    }
    if (this.allocated === this.next.length) this.grow();
    return this.allocated++;
  }

  private grow(): void {
    const capacity = this.next.length * 2;
    this.hashes = resized(this.hashes, new Uint32Array(capacity));
    this.weights = resized(this.weights, new Uint32Array(capacity));
    this.uses = resized(this.uses, new Uint8Array(capacity));
    this.queues = resized(this.queues, new Uint8Array(capacity));
    this.next = resized(this.next, new Int32Array(capacity));
  }

  private pushSmall(slot: number): void {
    this.next[slot] = NONE;
    if (this.smallTail === NONE) this.smallHead = slot;
    else this.next[this.smallTail] = slot;
    this.smallTail = slot;
  }

  private pushMain(slot: number): void {
    this.next[slot] = NONE;
    if (this.mainTail === NONE) this.mainHead = slot;
    else this.next[this.mainTail] = slot;
    this.mainTail = slot;
  }

  private popSmall(): number {
    const slot = this.smallHead;
    if (slot !== NONE) {
      this.smallHead = this.next[slot];
      if (this.smallHead === NONE) this.smallTail = NONE;
    }
    return slot;
  }

  private popMain(): number {
    const slot = this.mainHead;
    if (slot !== NONE) {
      this.mainHead = this.next[slot];
      if (this.mainHead === NONE) this.mainTail = NONE;
    }
    return slot;
  }

  // Unlinks every REMOVED slot from both FIFOs, keeping the order of the live ones.
  private sweepRemoved(): void {
    let head = this.smallHead;
    this.smallHead = this.smallTail = NONE;
    while (head !== NONE) {
      const slot = head;
      head = this.next[slot];
      if (this.queues[slot] === REMOVED) this.free(slot);
      else this.pushSmall(slot);
    }
    head = this.mainHead;
    this.mainHead = this.mainTail = NONE;
    while (head !== NONE) {
      const slot = head;
      head = this.next[slot];
      if (this.queues[slot] === REMOVED) this.free(slot);
      else this.pushMain(slot);
    }
  }
}

function resized<T extends Uint8Array | Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
