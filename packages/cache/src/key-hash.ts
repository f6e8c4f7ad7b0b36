import { UnhashableKeyError } from './errors.js';

/** Turns a key into a 32-bit unsigned hash; used only for the frequency sketch, never for lookups. */
export type KeyHasher<K> = (key: K) => number;

/** MurmurHash3's finaliser: every input bit flips each output bit with probability ~1/2. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const float = new Float64Array(1);
const floatWords = new Uint32Array(float.buffer);

/**
 * The default key hash: multiplicative hashing over a string's UTF-16 code units (FNV-like, two
 * at a time), the bits of a number, the low
 * 64 bits of a bigint, finalised with `mix32`. Throws `UnhashableKeyError` for other types.
 */
export function hashKey(key: unknown): number {
  switch (typeof key) {
    case 'string': {
      // Two UTF-16 code units per multiply: each step is a bijection of the state, so strings of
      // one length that differ in one place always hash apart before the final mix.
      const length = key.length;
      let h = 0x811c9dc5 ^ length;
      let i = 0;
      for (; i + 1 < length; i += 2) h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x9e3779b1);
      if (i < length) h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1);
      return mix32(h);
    }
    case 'number':
      if ((key | 0) === key) return mix32(key ^ 0x9e3779b9);
      float[0] = key;
      return mix32(floatWords[0] ^ mix32(floatWords[1]));
    case 'bigint':
      return mix32(Number(BigInt.asUintN(32, key)) ^ mix32(Number(BigInt.asUintN(32, key >> 32n)) ^ 0x7f4a7c15));
    case 'boolean':
      return key ? 0x6a09e667 : 0xbb67ae85;
    default:
      throw new UnhashableKeyError(key);
  }
}
