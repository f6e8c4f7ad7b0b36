// Operations per second of @sluice/cache's TinyUfo against lru-cache, lru.min and mnemonist's
// LRUCache, single-threaded, string keys (URL paths), one process, interleaved by tinybench.
//   read:  a full cache of 10,000 entries; gets of its keys in Zipf(1.0) order (all hits).
//   mixed: a cache of 10,000 entries in front of 100,000 keys requested in Zipf(1.0) order; each
//          request is a get and a miss is followed by a put (Pingora's "mixed read/write").
//   put:   every put is of a key not cached (a 100,000-key cycle through 10,000 entries), so each
//          one evicts: the worst case for the write path.
// Each task call runs a batch of 1,000 operations; ops/s = 1,000 × the median calls/s. rme is
// tinybench's relative margin of error of the mean. Run: node --expose-gc --import tsx cache-ops.bench.ts
import { Bench, type Task } from 'tinybench';
import { TinyUfo } from '@sluice/cache';
import { LRUCache } from 'lru-cache';
import { createLRU } from 'lru.min';
import { LRUCache as MnemonistLru } from 'mnemonist';
import { Xoshiro128, Zipf } from './cache-workload.js';

const CAPACITY = 10_000;
const KEYS = 100_000;
const BATCH = 1000;
const SEQUENCE = 1 << 20;

const keys = Array.from({ length: KEYS }, (_, i) => `/assets/${(i * 2654435761) >>> 0}/${i}.jpg`);
const value = { body: 'cached' };
type Value = typeof value;

interface Subject {
  get(key: string): Value | undefined;
  set(key: string, value: Value): void;
}

function subjects(): Record<string, Subject> {
  const ufo = new TinyUfo<string, Value>(CAPACITY, CAPACITY);
  const lruCache = new LRUCache<string, Value>({ max: CAPACITY });
  const lruMin = createLRU<string, Value>({ max: CAPACITY });
  const mnemonist = new MnemonistLru<string, Value>(CAPACITY);
  return {
    'TinyUfo (ours)': { get: (k) => ufo.get(k), set: (k, v) => void ufo.put(k, v, 1) },
    'lru-cache': { get: (k) => lruCache.get(k), set: (k, v) => void lruCache.set(k, v) },
    'lru.min': { get: (k) => lruMin.get(k), set: (k, v) => void lruMin.set(k, v) },
    'mnemonist LRUCache': { get: (k) => mnemonist.get(k), set: (k, v) => void mnemonist.set(k, v) },
  };
}

// Zipf ranks 1..n turned into key indexes; the same sequence for every cache.
const readOrder = new Zipf(CAPACITY, 1.0, new Xoshiro128(1)).sequence(SEQUENCE).map((rank) => rank - 1);
const mixedOrder = new Zipf(KEYS, 1.0, new Xoshiro128(2)).sequence(SEQUENCE).map((rank) => rank - 1);

let sink = 0;
const bench = new Bench({ name: 'cache ops', time: 1200, warmup: true });
const misses: Record<string, { requests: number; misses: number }> = {};

// Each workload gets fresh caches, filled the same way, and its own cursor per cache.
const readers = subjects();
const mixers = subjects();
const writers = subjects();
for (const [name, cache] of Object.entries(readers)) {
  for (let i = 0; i < CAPACITY; i++) cache.set(keys[i], value);
  for (let i = 0; i < CAPACITY; i++) if (cache.get(keys[i]) === undefined) throw new Error(`${name} lost ${keys[i]}`);
  let cursor = 0;
  bench.add(`read: ${name}`, () => {
    for (let i = 0; i < BATCH; i++) {
      if (cache.get(keys[readOrder[cursor]]) !== undefined) sink++;
      cursor = (cursor + 1) & (SEQUENCE - 1);
    }
  });
}
for (const [name, cache] of Object.entries(mixers)) {
  let cursor = 0;
  const tally = (misses[name] = { requests: 0, misses: 0 });
  bench.add(`mixed: ${name}`, () => {
    for (let i = 0; i < BATCH; i++) {
      const key = keys[mixedOrder[cursor]];
      if (cache.get(key) === undefined) {
        cache.set(key, value);
        tally.misses++;
      }
      cursor = (cursor + 1) & (SEQUENCE - 1);
    }
    tally.requests += BATCH;
  });
}
for (const [name, cache] of Object.entries(writers)) {
  let cursor = 0;
  bench.add(`put: ${name}`, () => {
    for (let i = 0; i < BATCH; i++) {
      cache.set(keys[cursor], value);
      cursor = cursor === KEYS - 1 ? 0 : cursor + 1;
    }
  });
}

await bench.run();

function stats(task: Task | undefined) {
  const r = task?.result;
  if (!r || !('throughput' in r)) throw new Error(`${task?.name}: ${r?.state}`);
  return r;
}

const rows: Record<string, string>[] = [];
for (const workload of ['read', 'mixed', 'put']) {
  const ours = stats(bench.getTask(`${workload}: TinyUfo (ours)`));
  const ourRate = ours.throughput.p50 * BATCH;
  for (const name of Object.keys(readers)) {
    const r = stats(bench.getTask(`${workload}: ${name}`));
    const rate = r.throughput.p50 * BATCH;
    const tally = misses[name];
    rows.push({
      workload,
      cache: name,
      'ops/s (median)': `${(rate / 1e6).toFixed(2)} M`,
      'ns/op': (1e9 / rate).toFixed(1),
      rme: `±${r.throughput.rme.toFixed(1)}%`,
      'ratio ours/this': name.includes('ours') ? '1.00' : (ourRate / rate).toFixed(2),
      'hit ratio': workload === 'mixed' ? `${((1 - tally.misses / tally.requests) * 100).toFixed(1)}%` : workload === 'read' ? '100%' : '0%',
    });
  }
}
console.log(`cache ops: ${CAPACITY} entries, ${KEYS} keys, batches of ${BATCH}, Node ${process.version} (sink ${sink % 10})`);
console.table(rows);
