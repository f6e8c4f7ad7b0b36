// Hit ratio of @sluice/cache's TinyUfo against lru-cache and a plain Map-based LRU on Zipf
// workloads, with the workload of Pingora's tinyufo/benches/bench_hit_ratio.rs: 10,000 items,
// 5,000,000 requests drawn from Zipf(10,000, s); each request is a get, and a miss is followed by a
// put of weight 1; cache size = round(share × 10,000); TinyUfo::new(size, size). Pingora draws from
// rand_distr::Zipf with a random seed; here the same distribution (P(k) ∝ k^-s) is sampled exactly
// from a seeded xoshiro128**, and all caches replay one sequence, so runs are repeatable.
// Run: node --expose-gc --import tsx cache-hit-ratio.bench.ts [requests]
import { TinyUfo } from '@sluice/cache';
import { LRUCache } from 'lru-cache';
import { Xoshiro128, Zipf } from './cache-workload.js';

const ITEMS = 10_000;
const REQUESTS = Number(process.argv[2] ?? 5_000_000);
const EXPONENTS = [0.9, 1.0, 1.1];
const SHARES = [0.005, 0.01, 0.05, 0.1, 0.25];
const SEED = 0x51ce;

// TinyUFO's hit ratio in % from the results table in Pingora's bench_hit_ratio.rs (same workload).
const PINGORA: Record<string, number[]> = {
  '0.9': [33.35, 40.06, 57.8, 66.36, 78.53],
  '1': [45.15, 52.3, 68.79, 75.92, 85.28],
  '1.1': [57.28, 64.24, 78.55, 84.01, 90.66],
};

/** A textbook LRU on Map's insertion order: a hit moves the key to the back, the front is evicted. */
class PlainLru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }
}

interface Cache {
  get(key: number): boolean | undefined;
  put(key: number): void;
}

function hitRatio(cache: Cache, sequence: Int32Array): number {
  let hits = 0;
  for (let i = 0; i < sequence.length; i++) {
    const key = sequence[i];
    if (cache.get(key) !== undefined) hits++;
    else cache.put(key);
  }
  return (hits / sequence.length) * 100;
}

const rows: Record<string, string | number>[] = [];
const started = performance.now();
for (const exponent of EXPONENTS) {
  const sequence = new Zipf(ITEMS, exponent, new Xoshiro128(SEED)).sequence(REQUESTS);
  SHARES.forEach((share, i) => {
    const size = Math.round(share * ITEMS);
    const ufo = new TinyUfo<number, boolean>(size, size);
    const lruCache = new LRUCache<number, boolean>({ max: size });
    const plain = new PlainLru<number, boolean>(size);
    const ours = hitRatio({ get: (k) => ufo.get(k), put: (k) => void ufo.put(k, true, 1) }, sequence);
    const peer = hitRatio({ get: (k) => lruCache.get(k), put: (k) => void lruCache.set(k, true) }, sequence);
    const basic = hitRatio({ get: (k) => plain.get(k), put: (k) => plain.set(k, true) }, sequence);
    const pingora = PINGORA[String(exponent)][i];
    rows.push({
      zipf: exponent.toFixed(2),
      'cache size': `${share * 100}%`,
      TinyUfo: `${ours.toFixed(2)}%`,
      'lru-cache': `${peer.toFixed(2)}%`,
      'plain LRU': `${basic.toFixed(2)}%`,
      'TinyUfo − lru-cache': `${(ours - peer >= 0 ? '+' : '')}${(ours - peer).toFixed(2)}pp`,
      'ratio (ours/lru-cache)': (ours / peer).toFixed(2),
      'Pingora TinyUFO': `${pingora.toFixed(2)}%`,
      'ours − Pingora': `${ours - pingora >= 0 ? '+' : ''}${(ours - pingora).toFixed(2)}pp`,
    });
  });
}
console.log(`hit ratio, ${ITEMS} items, ${REQUESTS} Zipf requests per row (seed ${SEED}), ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.table(rows);
