import { LimitsError, describe } from './errors.js';

/** A key of the sketches: strings hash by UTF-16 code unit, bytes by byte, so `'a'` and `[0x61]` differ. */
export type Key = string | Uint8Array;

/**
 * Output of {@link hashKey}: two 32-bit lanes that together form a 64-bit key hash. A shared scratch
 * array instead of a returned pair keeps the hot path free of allocations.
 */
export const keyHash = new Int32Array(2);

/**
 * Hashes `key` into {@link keyHash} with two independently seeded lanes (an FNV-1a style lane and a
 * multiply-rotate lane, both finished with MurmurHash3's fmix32). Not cryptographic: the seeds are
 * random per sketch so that an outsider cannot aim keys at the same counters.
 */
export function hashKey(key: Key, seedA: number, seedB: number): void {
  let a = seedA;
  let b = seedB;
  let length: number;
  if (typeof key === 'string') {
    length = key.length;
    for (let i = 0; i < length; i++) {
      const unit = key.charCodeAt(i);
      a = Math.imul(a ^ unit, 0x01000193);
      b = Math.imul(b + unit, 0x5bd1e995);
      b = (b << 13) | (b >>> 19);
    }
  } else if (key instanceof Uint8Array) {
    length = key.length;
    for (let i = 0; i < length; i++) {
      const byte = key[i];
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b + byte, 0x5bd1e995);
      b = (b << 13) | (b >>> 19);
    }
    // Keeps a byte key apart from the string with the same code units.
    b = ~b;
  } else {
    throw new LimitsError('ERR_LIMITS_INVALID_KEY', `key must be a string or a Uint8Array, got ${describe(key)}`);
  }
  keyHash[0] = mix32(a ^ length);
  keyHash[1] = mix32(b + length);
}

/** MurmurHash3's 32-bit finalizer: every input bit affects every output bit, and it is a bijection. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** SplitMix32-style generator of the per-sketch seeds: `seeds(n, seed)` is deterministic, for tests. */
export function seeds(count: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let state = seed | 0;
  for (let i = 0; i < count; i++) {
    state = (state + 0x9e3779b9) | 0;
    out[i] = mix32(state);
  }
  return out;
}

/** A random 32-bit seed; Math.random is enough here, the seed only needs to be unknown to peers. */
export function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) | 0;
}
