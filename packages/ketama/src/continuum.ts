// The Ketama continuum exactly as nginx's `hash $key consistent` builds and searches it
// (ngx_http_upstream_hash_module.c, init_chash / find_chash_point / get_chash_peer), with
// pingora-ketama's API.
import { serverHashBase, serverText, type BucketAddress } from './address.js';
import { crc32, crc32Final, crc32UpdateUint32LE } from './crc32.js';
import { KetamaError } from './errors.js';

/** nginx (and pingora-ketama) put 160 points on the ring per unit of weight. */
export const POINTS_PER_WEIGHT = 160;

/** Default bound on the points of one ring: 2^22 points (total weight 26214), 32 MiB of ring. */
export const DEFAULT_MAX_POINTS = 4_194_304;

// The largest ring allowed at all: keeps `hash * BUCKET_SLOTS + bucket` exact in a float64 while sorting.
const MAX_POINTS_LIMIT = 268_435_456;
const BUCKET_SLOTS = 2 ** 21;

/** A backend on the ring and its weight, as pingora-ketama's `Bucket`. */
export interface Bucket<A extends BucketAddress = BucketAddress> {
  /** The address `node()` answers with; hashed as nginx hashes a `server` directive's text. */
  readonly addr: A;
  /** A positive integer; the bucket gets `160 * weight` points. */
  readonly weight: number;
}

/** Limits of a {@link Continuum}. */
export interface ContinuumOptions {
  /** Most points the ring may have (160 per unit of total weight). Default {@link DEFAULT_MAX_POINTS}. */
  readonly maxPoints?: number;
}

/**
 * An nginx-compatible consistent-hashing ring: for any key, `node(key)` names the same backend that
 * nginx's `hash <key> consistent` picks from an upstream with the same servers and weights.
 */
export class Continuum<A extends BucketAddress = BucketAddress> {
  /** Point hashes, ascending, duplicates dropped. */
  readonly #hashes: Uint32Array;
  /** For each point, the index of its bucket. */
  readonly #owners: Uint32Array;
  readonly #addrs: readonly A[];

  /**
   * Builds the ring. Buckets keep their order; on the rare point hash two buckets share, the earlier
   * bucket keeps the point (what nginx does with glibc's stable sort). An empty list gives an empty
   * ring. Throws `ERR_KETAMA_INVALID_WEIGHT` for a weight that is not a positive integer,
   * `ERR_KETAMA_INVALID_ADDRESS` for an unusable address, `ERR_KETAMA_INVALID_BUCKETS` when `buckets`
   * is not an iterable of objects, `ERR_KETAMA_TOO_MANY_POINTS` past `maxPoints`.
   */
  constructor(buckets: Iterable<Bucket<A>>, options: ContinuumOptions = {}) {
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > MAX_POINTS_LIMIT) {
      throw new KetamaError('ERR_KETAMA_INVALID_OPTION', `maxPoints must be an integer in 1..${MAX_POINTS_LIMIT}, got ${String(maxPoints)}`);
    }
    if (buckets === null || typeof (buckets as Partial<Iterable<Bucket<A>>>)?.[Symbol.iterator] !== 'function') {
      throw new KetamaError('ERR_KETAMA_INVALID_BUCKETS', 'buckets must be an iterable of { addr, weight } objects');
    }
    const list = Array.from(buckets);
    const addrs: A[] = new Array(list.length);
    const weights: number[] = new Array(list.length);
    const bases: number[] = new Array(list.length);
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const bucket = list[i];
      if (bucket === null || typeof bucket !== 'object') {
        throw new KetamaError('ERR_KETAMA_INVALID_BUCKETS', `bucket ${i} must be an object { addr, weight }`);
      }
      const { addr, weight } = bucket;
      if (!Number.isInteger(weight) || weight < 1) {
        const where = typeof addr === 'string' ? addr : `${String(addr?.address)}:${String(addr?.port)}`;
        throw new KetamaError('ERR_KETAMA_INVALID_WEIGHT', `bucket ${i} (${where}): weight must be a positive integer, got ${String(weight)}`);
      }
      total += weight * POINTS_PER_WEIGHT;
      if (total > maxPoints) {
        throw new KetamaError(
          'ERR_KETAMA_TOO_MANY_POINTS',
          `bucket ${i}: the ring would exceed maxPoints (${maxPoints}); total weight is limited to ${Math.floor(maxPoints / POINTS_PER_WEIGHT)}`,
        );
      }
      addrs[i] = addr;
      weights[i] = weight;
      bases[i] = serverHashBase(serverText(addr, i));
    }

    // Each point packed as hash * 2^21 + bucket, so one numeric sort orders by hash, then bucket.
    const packed = new Float64Array(total);
    let k = 0;
    for (let i = 0; i < list.length; i++) {
      const base = bases[i];
      let previous = 0;
      for (let j = weights[i] * POINTS_PER_WEIGHT; j > 0; j--) {
        // A point hashes host "\0" port, then the previous point's hash (0 at first) as little-endian bytes.
        previous = crc32Final(crc32UpdateUint32LE(base, previous));
        packed[k++] = previous * BUCKET_SLOTS + i;
      }
    }
    packed.sort();

    let unique = 0;
    const hashes = new Uint32Array(total);
    const owners = new Uint32Array(total);
    for (let p = 0; p < total; p++) {
      const hash = Math.floor(packed[p] / BUCKET_SLOTS);
      if (unique > 0 && hashes[unique - 1] === hash) continue;
      hashes[unique] = hash;
      owners[unique] = packed[p] - hash * BUCKET_SLOTS;
      unique++;
    }
    this.#hashes = unique === total ? hashes : hashes.slice(0, unique);
    this.#owners = unique === total ? owners : owners.slice(0, unique);
    this.#addrs = addrs;
  }

  /** Number of points on the ring (160 per unit of weight, less any duplicate hashes). */
  get pointCount(): number {
    return this.#hashes.length;
  }

  /** Number of buckets the ring was built from. */
  get bucketCount(): number {
    return this.#addrs.length;
  }

  /**
   * The index of the ring point serving `key`: the first point whose hash is at or above
   * CRC-32(key), wrapping to 0 past the last. Strings hash as UTF-8. Returns -1 on an empty ring.
   */
  nodeIdx(key: string | Uint8Array): number {
    const hash = crc32(key);
    const hashes = this.#hashes;
    const n = hashes.length;
    if (n === 0) return -1;
    let low = 0;
    let high = n;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (hashes[mid] < hash) low = mid + 1;
      else high = mid;
    }
    return low === n ? 0 : low;
  }

  /** The address of the bucket serving `key`, or `undefined` on an empty ring. */
  node(key: string | Uint8Array): A | undefined {
    const idx = this.nodeIdx(key);
    return idx < 0 ? undefined : this.#addrs[this.#owners[idx]];
  }

  /** The index (in the order given to the constructor) of the bucket serving `key`; -1 on an empty ring. */
  bucketIdx(key: string | Uint8Array): number {
    const idx = this.nodeIdx(key);
    return idx < 0 ? -1 : this.#owners[idx];
  }

  /** The address owning ring point `idx` (an integer, taken modulo the ring size); `undefined` on an empty ring. */
  getAddr(idx: number): A | undefined {
    const n = this.#hashes.length;
    if (n === 0) return undefined;
    return this.#addrs[this.#owners[((idx % n) + n) % n]];
  }

  /**
   * The addresses of the ring's points from the one serving `key` onward, one full lap (as nginx's
   * failover walks the ring: next point until every point was tried). Consecutive points often name
   * the same address; skip the ones already tried. Empty on an empty ring.
   */
  nodeIter(key: string | Uint8Array): NodeIterator<A> {
    return new NodeIterator(this, this.nodeIdx(key));
  }
}

/** Walks a {@link Continuum} from a start point for one lap; see {@link Continuum.nodeIter}. */
export class NodeIterator<A extends BucketAddress = BucketAddress> implements IterableIterator<A> {
  readonly #continuum: Continuum<A>;
  #idx: number;
  #left: number;

  constructor(continuum: Continuum<A>, start: number) {
    this.#continuum = continuum;
    this.#idx = start;
    this.#left = start < 0 ? 0 : continuum.pointCount;
  }

  /** The ring point the next call to `next()` returns. */
  get idx(): number {
    return this.#idx;
  }

  next(): IteratorResult<A, undefined> {
    if (this.#left === 0) return { done: true, value: undefined };
    this.#left--;
    const value = this.#continuum.getAddr(this.#idx) as A;
    this.#idx = this.#idx + 1 === this.#continuum.pointCount ? 0 : this.#idx + 1;
    return { done: false, value };
  }

  [Symbol.iterator](): NodeIterator<A> {
    return this;
  }
}
