// Deterministic workloads for the cache benchmarks, so that every run (and every cache in a run)
// sees the same key sequence.

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32: a fast PRNG with a 2^128 period. */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Samples ranks 1..n with P(k) ∝ k^-s: the distribution rand_distr::Zipf::new(n, s) draws from in
 * Pingora's bench_hit_ratio, here exactly, by inverting the cumulative distribution.
 */
export class Zipf {
  private readonly cumulative: Float64Array;

  constructor(readonly n: number, readonly exponent: number, private readonly random: Xoshiro128) {
    this.cumulative = new Float64Array(n);
    let total = 0;
    for (let k = 1; k <= n; k++) {
      total += Math.pow(k, -exponent);
      this.cumulative[k - 1] = total;
    }
    for (let i = 0; i < n; i++) this.cumulative[i] /= total;
  }

  /** One rank from 1 to n. */
  sample(): number {
    const u = this.random.nextFloat();
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  }

  /** `count` ranks in an array, so that several caches can replay the same sequence. */
  sequence(count: number): Int32Array {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.sample();
    return out;
  }
}
