import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hashKey, TinyLfu, UnhashableKeyError } from '../src/index.js';

const sketch = suite('TinyLfu count-min sketch');

sketch('counts occurrences and never underestimates', () => {
  const lfu = new TinyLfu(1000);
  const truth = new Map<number, number>();
  let seed = 7;
  for (let i = 0; i < 4000; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const key = seed % 700;
    const count = (truth.get(key) ?? 0) + 1;
    truth.set(key, count);
    assert.ok(lfu.incr(hashKey(key)) >= Math.min(count, 255));
  }
  let exact = 0;
  for (const [key, count] of truth) {
    const estimate = lfu.get(hashKey(key));
    assert.ok(estimate >= count, `key ${key}: ${estimate} < ${count}`);
    if (estimate === count) exact++;
  }
  assert.ok(exact / truth.size > 0.9, `only ${exact}/${truth.size} exact`);
});

sketch('an unseen key estimates 0 in an empty sketch; counters saturate at 255', () => {
  const lfu = new TinyLfu(100_000);
  const h = hashKey('popular');
  assert.is(lfu.get(h), 0);
  for (let i = 0; i < 300; i++) lfu.incr(h);
  assert.is(lfu.get(h), 255);
  assert.is(lfu.incr(h), 255);
});

sketch('halves every counter after 8 × estimatedSize increments (aging)', () => {
  const lfu = new TinyLfu(10);
  assert.is(lfu.windowLimit, 80);
  const a = hashKey('a');
  for (let i = 0; i < 80; i++) lfu.incr(a);
  assert.is(lfu.get(a), 80);
  // The 81st increment ages first (80 → 40), then counts.
  assert.is(lfu.incr(a), 41);
  const b = hashKey('b');
  for (let i = 0; i < 79; i++) lfu.incr(b);
  assert.is(lfu.get(a), 41, 'a untouched before the next window');
  lfu.incr(b);
  lfu.incr(b);
  assert.is(lfu.get(a), 20);
});

sketch('is sized like Pingora: e·n columns, log2(n) rows capped at 4', () => {
  assert.is(new TinyLfu(100).width, 272);
  assert.is(new TinyLfu(5).depth, 3);
  assert.is(new TinyLfu(1_000_000).depth, 4);
  assert.is(new TinyLfu(1).width, 16);
});

const hashing = suite('hashKey');

hashing('is deterministic and tells types apart', () => {
  assert.is(hashKey('abc'), hashKey('abc'));
  assert.is.not(hashKey('1'), hashKey(1));
  assert.is.not(hashKey(1), hashKey(1.5));
  assert.is.not(hashKey(1n), hashKey(2n));
  assert.is.not(hashKey(true), hashKey(false));
  assert.is.not(hashKey(2n ** 40n), hashKey(2n ** 41n));
  for (const key of ['', 'x', 0, -0.25, 2 ** 53, 123n]) {
    const h = hashKey(key);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32, `hash of ${String(key)}: ${h}`);
  }
});

hashing('spreads consecutive integers evenly over sketch columns', () => {
  const buckets = new Uint32Array(64);
  for (let i = 0; i < 64_000; i++) buckets[hashKey(i) >>> 26]++;
  for (const n of buckets) assert.ok(n > 800 && n < 1200, `bucket of ${n}`);
});

hashing('throws ERR_CACHE_UNHASHABLE_KEY for objects and symbols', () => {
  for (const key of [{}, [], Symbol('s'), null, undefined, () => 1]) {
    assert.throws(() => hashKey(key), (e: UnhashableKeyError) => e.code === 'ERR_CACHE_UNHASHABLE_KEY' && /hashKey option/.test(e.message));
  }
});

sketch.run();
hashing.run();
