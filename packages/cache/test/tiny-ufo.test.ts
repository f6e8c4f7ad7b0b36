import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheError, InvalidOptionError, InvalidWeightError, TinyUfo, type Evicted } from '../src/index.js';

const values = (evicted: readonly Evicted<number, string>[]): string[] => evicted.map((e) => e.value);

// The scenarios of Pingora's tinyufo unit tests: a cache of weight 5 filled with 1 (w1), 2 (w2), 3 (w2).
function filled(): TinyUfo<number, string> {
  const cache = new TinyUfo<number, string>(5, 5);
  assert.equal(cache.put(1, 'one', 1), []);
  assert.equal(cache.put(2, 'two', 2), []);
  assert.equal(cache.put(3, 'three', 2), []);
  assert.is(cache.weight, 5);
  return cache;
}

const eviction = suite('TinyUfo eviction order');

eviction('new entries wait in the small FIFO and leave it oldest first', () => {
  const cache = filled();
  for (const k of [1, 2, 3]) assert.is(cache.queueOf(k), 'small');
  const evicted = cache.put(4, 'four', 3);
  assert.equal(values(evicted), ['one', 'two']);
  assert.equal(evicted.map((e) => [e.key, e.weight]), [[1, 1], [2, 2]]);
  assert.is(cache.queueOf(1), undefined);
  assert.is(cache.queueOf(2), undefined);
  assert.is(cache.queueOf(3), 'small');
  assert.is(cache.queueOf(4), 'small');
  assert.is(cache.weight, 5);
  assert.is(cache.size, 2);
});

eviction('an entry read twice while small is promoted to main instead of evicted', () => {
  const cache = filled();
  cache.get(1);
  cache.get(1);
  const evicted = cache.put(4, 'four', 2);
  assert.is(evicted.length, 1);
  assert.is(evicted[0].weight, 2);
  assert.is(cache.queueOf(1), 'main');
  // The victim is the next small entry (2), unless admission sent the newcomer back instead.
  const gone = evicted[0].key;
  assert.ok(gone === 2 || gone === 4, `evicted ${gone}`);
  assert.is(cache.queueOf(gone), undefined);
  for (const k of [2, 3, 4].filter((k) => k !== gone)) assert.is(cache.queueOf(k), 'small');
});

eviction('an entry read once while small is still evicted', () => {
  const cache = filled();
  cache.get(1);
  assert.equal(values(cache.put(4, 'four', 1)), ['one']);
  assert.is(cache.queueOf(4), 'small');
});

eviction('main gives every entry one second chance per use, then evicts the oldest', () => {
  const cache = filled();
  for (const k of [1, 1, 2, 2, 3, 3]) cache.get(k);
  const evicted = cache.put(4, 'four', 1);
  assert.equal(values(evicted), ['one']);
  assert.is(cache.queueOf(1), undefined);
  assert.is(cache.queueOf(2), 'main');
  assert.is(cache.queueOf(3), 'main');
  assert.is(cache.queueOf(4), 'small');
  // Small is at its limit (10% + 1 of 5 = 1), so the next newcomer pushes 4 out of small.
  assert.equal(values(cache.put(1, 'one', 1)), ['four']);
  assert.is(cache.queueOf(1), 'small');
  assert.is(cache.queueOf(2), 'main');
  assert.is(cache.queueOf(4), undefined);
});

eviction('uses are capped at 3: ten reads protect an entry no longer than three', () => {
  const cache = new TinyUfo<number, number>(10, 10);
  for (let k = 0; k < 10; k++) cache.put(k, k, 1);
  for (let i = 0; i < 10; i++) cache.get(0);
  for (let k = 1; k < 10; k++) for (let i = 0; i < 3; i++) cache.get(k);
  // All move to main with 3 uses; after three passes key 0, the oldest, goes first despite its 10 reads.
  assert.equal(cache.forcePut(100, 100, 1).map((e) => e.key), [0]);
  // Key 1 is now the oldest with no uses left: it goes without another pass.
  assert.equal(cache.forcePut(101, 101, 1).map((e) => e.key), [1]);
});

eviction('scan resistance: keys read twice per round survive scans of one-time keys', () => {
  const cache = new TinyUfo<number, number>(100, 100);
  for (let round = 0; round < 50; round++) {
    for (let read = 0; read < 2; read++) for (let k = 0; k < 50; k++) if (cache.get(k) === undefined) cache.put(k, k, 1);
    // A scan of never-repeated keys, four times the cache size.
    for (let k = 0; k < 400; k++) cache.put(1_000_000 + round * 400 + k, k, 1);
  }
  let hot = 0;
  for (let k = 0; k < 50; k++) if (cache.has(k)) hot++;
  assert.is(hot, 50);
});

const admission = suite('TinyUfo admission (TinyLFU)');

admission('a newcomer less frequent than its victim is rejected and returned', () => {
  const cache = filled();
  // A put of a cached key counts as an admission in the sketch: 1, 2 and 3 are now seen twice.
  cache.put(1, 'one', 1);
  cache.put(2, 'two', 2);
  cache.put(3, 'three', 2);
  const rejected = cache.put(4, 'four', 1);
  assert.equal(rejected, [{ key: 4, value: 'four', weight: 1 }]);
  assert.is(cache.queueOf(4), undefined);
  for (const k of [1, 2, 3]) assert.is(cache.queueOf(k), 'small');
  assert.is(cache.weight, 5);
});

admission('forcePut admits the newcomer and evicts the victim', () => {
  const cache = filled();
  cache.put(1, 'one', 1);
  cache.put(2, 'two', 2);
  cache.put(3, 'three', 2);
  assert.equal(values(cache.forcePut(4, 'four', 1)), ['one']);
  assert.is(cache.queueOf(1), undefined);
  assert.is(cache.queueOf(4), 'small');
});

admission('a newcomer that keeps coming back is eventually admitted', () => {
  const cache = filled();
  cache.put(1, 'one', 1);
  let admittedAfter = 0;
  for (let attempt = 1; attempt <= 5 && admittedAfter === 0; attempt++) {
    const result = cache.put(4, 'four', 1);
    if (!result.some((e) => e.key === 4)) admittedAfter = attempt;
  }
  assert.is(admittedAfter, 2, 'rejected once (1 seen twice, 4 once), admitted on the second try');
  assert.is(cache.get(4), 'four');
});

admission('on a Zipf(1.0) stream over 10,000 keys a 1% cache hits ≥ 8pp more often than an LRU', () => {
  // Inverse-CDF Zipf sampling from a seeded LCG, as in bench/cache-hit-ratio.bench.ts (shorter run).
  const items = 10_000;
  const cumulative = new Float64Array(items);
  let total = 0;
  for (let k = 1; k <= items; k++) cumulative[k - 1] = total += 1 / k;
  let seed = 99;
  const sample = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const u = (seed / 2 ** 32) * total;
    let lo = 0;
    let hi = items - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const ufo = new TinyUfo<number, true>(100, 100);
  const lru = new Map<number, true>();
  let ufoHits = 0;
  let lruHits = 0;
  const requests = 300_000;
  for (let i = 0; i < requests; i++) {
    const key = sample();
    if (ufo.get(key)) ufoHits++;
    else ufo.put(key, true, 1);
    if (lru.delete(key)) lruHits++;
    else if (lru.size === 100) lru.delete(lru.keys().next().value as number);
    lru.set(key, true);
  }
  const gain = ((ufoHits - lruHits) / requests) * 100;
  assert.ok(gain >= 8, `TinyUfo ${((ufoHits / requests) * 100).toFixed(2)}% vs LRU ${((lruHits / requests) * 100).toFixed(2)}%`);
  assert.ok(ufo.size === 100);
});

const weights = suite('TinyUfo weights');

weights('bad weights throw ERR_CACHE_INVALID_WEIGHT and change nothing', () => {
  const cache = new TinyUfo<string, number>(10, 10);
  for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 32, '3' as unknown as number]) {
    const error = (() => {
      try {
        cache.put('k', 1, bad);
      } catch (e) {
        return e;
      }
    })();
    assert.instance(error, InvalidWeightError);
    assert.instance(error, CacheError);
    assert.is((error as CacheError).code, 'ERR_CACHE_INVALID_WEIGHT');
    assert.match((error as Error).message, String(bad));
  }
  assert.throws(() => cache.forcePut('k', 1, 0), (e: CacheError) => e.code === 'ERR_CACHE_INVALID_WEIGHT');
  assert.is(cache.size, 0);
});

weights('bad limits throw ERR_CACHE_INVALID_OPTION', () => {
  for (const bad of [0, -5, 2.5, NaN]) {
    assert.throws(() => new TinyUfo(bad, 10), (e: CacheError) => e instanceof InvalidOptionError && e.code === 'ERR_CACHE_INVALID_OPTION');
    assert.throws(() => new TinyUfo(10, bad), (e: CacheError) => e.code === 'ERR_CACHE_INVALID_OPTION');
  }
  // A byte limit passed as the entry estimate would size a multi-gigabyte sketch: refused.
  assert.throws(() => new TinyUfo(1e9, 1e9), (e: CacheError) => e.code === 'ERR_CACHE_INVALID_OPTION' && /entries, not weight/.test(e.message));
  assert.is(new TinyUfo(1e9, 1000).totalWeightLimit, 1e9);
});

weights('one heavy newcomer evicts as many entries as it needs', () => {
  const cache = new TinyUfo<number, number>(100, 10);
  for (let k = 0; k < 10; k++) cache.put(k, k, 10);
  const evicted = cache.put(99, 99, 35);
  assert.equal(evicted.map((e) => e.key), [0, 1, 2, 3]);
  assert.is(cache.weight, 95);
  assert.is(cache.get(99), 99);
});

weights('an entry heavier than the whole cache is returned at once, nothing evicted', () => {
  const cache = new TinyUfo<number, number>(10, 10);
  cache.put(1, 1, 4);
  assert.equal(cache.put(2, 2, 11), [{ key: 2, value: 2, weight: 11 }]);
  assert.is(cache.get(1), 1);
  assert.is(cache.weight, 4);
});

weights('updating a key replaces value and weight, evicting others if it grew', () => {
  const cache = new TinyUfo<number, string>(10, 10);
  cache.put(1, 'a', 3);
  cache.put(2, 'b', 3);
  cache.put(3, 'c', 3);
  assert.equal(cache.put(1, 'A', 1), []);
  assert.is(cache.weight, 7);
  assert.is(cache.get(1), 'A');
  const evicted = cache.put(2, 'B', 7);
  assert.ok(evicted.length >= 1);
  assert.ok(cache.weight <= 10, `weight ${cache.weight}`);
});

const access = suite('TinyUfo get, peek, remove');

access('peek reads without counting a use, get counts one', () => {
  const cache = filled();
  for (let i = 0; i < 5; i++) assert.is(cache.peek(1), 'one');
  assert.is(cache.peek(9), undefined);
  assert.equal(values(cache.forcePut(4, 'four', 1)), ['one'], 'peeks did not protect 1');
  const other = filled();
  other.get(1);
  other.get(1);
  assert.is.not(values(other.forcePut(4, 'four', 1))[0], 'one', 'two gets did');
});

access('remove returns the value, frees its weight and the key can come back', () => {
  const cache = filled();
  assert.is(cache.remove(1), 'one');
  assert.is(cache.remove(3), 'three');
  assert.is(cache.remove(3), undefined);
  assert.is(cache.get(1), undefined);
  assert.is(cache.weight, 2);
  assert.is(cache.size, 1);
  cache.put(5, 'five', 2);
  cache.put(6, 'six', 1);
  assert.is(cache.weight, 5);
  // Filling past the limit passes over the removed slots: they are never handed back as evicted.
  const evicted = [...cache.put(7, 'seven', 2), ...cache.put(8, 'eight', 2), ...cache.put(1, 'one again', 1)];
  assert.ok(evicted.length >= 2);
  assert.ok(evicted.every((e) => e.key !== 3 && e.value !== 'one'), JSON.stringify(evicted));
  assert.ok(cache.weight <= 5);
});

access('put/remove churn below the limit does not grow memory without bound', () => {
  const cache = new TinyUfo<number, number>(1_000_000, 16);
  for (let i = 0; i < 100_000; i++) {
    cache.put(i, i, 1);
    cache.remove(i);
  }
  assert.is(cache.size, 0);
  assert.is(cache.weight, 0);
  // Slots are reused after sweeps: the slot arrays stayed small.
  const slots = (cache as unknown as { next: Int32Array }).next.length;
  assert.ok(slots <= 256, `${slots} slots for an empty cache`);
});

access('keys may be strings, numbers, bigints and booleans; others need hashKey', () => {
  const cache = new TinyUfo<unknown, number>(10, 10);
  cache.put('1', 1);
  cache.put(1, 2);
  cache.put(1n, 3);
  cache.put(true, 4);
  assert.equal([cache.get('1'), cache.get(1), cache.get(1n), cache.get(true)], [1, 2, 3, 4]);
  assert.throws(() => cache.put({}, 5), (e: CacheError) => e.code === 'ERR_CACHE_UNHASHABLE_KEY');
  const byId = new TinyUfo<{ id: number }, string>(10, 10, { hashKey: (k) => k.id });
  const key = { id: 7 };
  byId.put(key, 'seven');
  assert.is(byId.get(key), 'seven');
});

const invariants = suite('TinyUfo invariants under random load');

invariants('weight never exceeds the limit; every put key is cached or was handed back', () => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const cache = new TinyUfo<number, number>(500, 50);
  const expected = new Map<number, number>();
  for (let i = 0; i < 200_000; i++) {
    const key = random(2000);
    const op = random(10);
    if (op < 5) {
      const got = cache.get(key);
      assert.is(got, expected.get(key));
    } else if (op < 9) {
      const value = i;
      const weight = 1 + random(20);
      const out = op === 8 ? cache.forcePut(key, value, weight) : cache.put(key, value, weight);
      expected.set(key, value);
      for (const e of out) {
        assert.is(expected.get(e.key), e.value, 'evicted entry is the latest value of its key');
        expected.delete(e.key);
      }
    } else {
      assert.is(cache.remove(key), expected.get(key));
      expected.delete(key);
    }
    if (cache.weight > 500) assert.unreachable(`weight ${cache.weight} over 500 after op ${i}`);
  }
  assert.is(cache.size, expected.size);
  for (const [key, value] of expected) assert.is(cache.peek(key), value);
});

invariants('grows past estimatedSize when entries are many and light', () => {
  const cache = new TinyUfo<number, number>(100_000, 10);
  for (let k = 0; k < 50_000; k++) cache.forcePut(k, k, 1);
  assert.is(cache.size, 50_000);
  assert.is(cache.get(0), 0);
  assert.is(cache.get(49_999), 49_999);
});

eviction.run();
admission.run();
weights.run();
access.run();
invariants.run();
