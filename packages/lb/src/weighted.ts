import type { Backend } from './backend.js';
import { LbError, checkInteger } from './errors.js';
import { fnv1a32 } from './fnv.js';
import { DEFAULT_MAX_TOTAL_WEIGHT, type BackendIter, type BackendSelection, type SelectionKey, type SelectionOptions } from './selection.js';

/**
 * The weighted table: each backend appears `weight` times, spread out rather than in runs. Backend i's
 * k-th slot sits at virtual time (k + 0.5) / weight_i, and slots are ordered by that time, ties by
 * backend order (stride scheduling). Weights 3,1,1 give A A B C A; equal weights give A B C.
 */
function interleave(backends: readonly Backend[], maxTotalWeight: number): Uint32Array {
  let total = 0;
  for (const b of backends) total += b.weight;
  if (total > maxTotalWeight) {
    throw new LbError('ConfigError', 'ERR_LB_TOO_MUCH_WEIGHT', `total weight ${total} of ${backends.length} backends exceeds maxTotalWeight ${maxTotalWeight}`);
  }
  const times = new Float64Array(total);
  const owners = new Uint32Array(total);
  let k = 0;
  for (let i = 0; i < backends.length; i++) {
    const w = backends[i].weight;
    for (let j = 0; j < w; j++, k++) {
      times[k] = (j + 0.5) / w;
      owners[k] = i;
    }
  }
  const slots = Array.from({ length: total }, (_, s) => s);
  slots.sort((a, b) => times[a] - times[b] || owners[a] - owners[b]);
  const table = new Uint32Array(total);
  for (let s = 0; s < total; s++) table[s] = owners[slots[s]];
  return table;
}

/**
 * What RoundRobin, Random and FnvHash share (pingora's `Weighted`): a position in the weighted table
 * picks the first choice; the fallbacks are the backends met walking the table on from there, each
 * once. The walk is deterministic, and because the table is interleaved a dead backend's share is
 * spread over the others roughly by weight rather than dumped on one neighbour.
 */
export abstract class WeightedSelection implements BackendSelection {
  readonly backends: readonly Backend[];
  /** Backend indices, each repeated `weight` times, interleaved. */
  readonly table: Uint32Array;

  protected constructor(backends: readonly Backend[], options: SelectionOptions = {}) {
    checkInteger(options.maxTotalWeight, 'maxTotalWeight', 1, 2 ** 31);
    this.backends = backends.slice();
    this.table = interleave(this.backends, options.maxTotalWeight ?? DEFAULT_MAX_TOTAL_WEIGHT);
  }

  /** The table position of the first choice for `key` (any non-negative integer; taken modulo the table size). */
  protected abstract position(key: SelectionKey): number;

  iter(key: SelectionKey): WeightedIterator {
    return new WeightedIterator(this.backends, this.table, this.table.length === 0 ? 0 : this.position(key) % this.table.length);
  }
}

/** Walks a weighted table from a start position; see {@link WeightedSelection}. */
export class WeightedIterator implements BackendIter {
  readonly #backends: readonly Backend[];
  readonly #table: Uint32Array;
  readonly #start: number;
  #steps = 0;
  #yielded = 0;
  // Allocated only when a fallback is asked for: the first choice needs no bookkeeping.
  #seen: Uint8Array | null = null;

  constructor(backends: readonly Backend[], table: Uint32Array, start: number) {
    this.#backends = backends;
    this.#table = table;
    this.#start = start;
  }

  next(): Backend | undefined {
    const table = this.#table;
    const size = table.length;
    if (this.#steps === 0) {
      if (size === 0) return undefined;
      this.#steps = 1;
      this.#yielded = 1;
      return this.#backends[table[this.#start]];
    }
    let seen = this.#seen;
    if (seen === null) {
      seen = this.#seen = new Uint8Array(this.#backends.length);
      seen[table[this.#start]] = 1;
    }
    while (this.#steps < size && this.#yielded < this.#backends.length) {
      let p = this.#start + this.#steps++;
      if (p >= size) p -= size;
      const idx = table[p];
      if (seen[idx] === 0) {
        seen[idx] = 1;
        this.#yielded++;
        return this.#backends[idx];
      }
    }
    return undefined;
  }
}

/** Weighted round robin: successive selections walk the interleaved weighted table. The key is ignored. */
export class RoundRobin extends WeightedSelection {
  #next = 0;

  static build(backends: readonly Backend[], options?: SelectionOptions): RoundRobin {
    return new RoundRobin(backends, options);
  }

  protected position(): number {
    const p = this.#next;
    this.#next = p + 1 >= this.table.length ? 0 : p + 1;
    return p;
  }
}

/** Weighted random: a uniformly random slot of the weighted table (Math.random). The key is ignored. */
export class Random extends WeightedSelection {
  static build(backends: readonly Backend[], options?: SelectionOptions): Random {
    return new Random(backends, options);
  }

  protected position(): number {
    return Math.floor(Math.random() * this.table.length);
  }
}

/** Weighted hashing: the slot is FNV-1a (32-bit) of the key modulo the table size. */
export class FnvHash extends WeightedSelection {
  static build(backends: readonly Backend[], options?: SelectionOptions): FnvHash {
    return new FnvHash(backends, options);
  }

  protected position(key: SelectionKey): number {
    return fnv1a32(key);
  }
}
