import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidOptionError, InvalidTtlError, MemoryCache, type CacheError } from '../src/index.js';

// A clock the test moves by hand.
function manualClock(): { now: number; read: () => number } {
  const clock = { now: 1000, read: () => clock.now };
  return clock;
}

const basics = suite('MemoryCache get, put, remove, multiGet');

basics('miss, then hit after put, miss after remove', () => {
  const cache = new MemoryCache<string, number>(10);
  assert.equal(cache.get('a'), { value: undefined, status: 'miss' });
  cache.put('a', 1);
  assert.equal(cache.get('a'), { value: 1, status: 'hit' });
  cache.put('b', 2);
  cache.put('c', 3);
  cache.remove('a');
  cache.remove('b');
  assert.equal(cache.get('a'), { value: undefined, status: 'miss' });
  assert.equal(cache.get('b'), { value: undefined, status: 'miss' });
  assert.equal(cache.get('c'), { value: 3, status: 'hit' });
  assert.is(cache.size, 1);
});

basics('multiGet answers each key in order', () => {
  const cache = new MemoryCache<number, string>(10);
  cache.put(1, 'one');
  cache.put(3, 'three');
  assert.equal(cache.multiGet([1, 2, 3]), [
    { value: 'one', status: 'hit' },
    { value: undefined, status: 'miss' },
    { value: 'three', status: 'hit' },
  ]);
  assert.equal(cache.multiGet(new Set<number>()), []);
});

basics('holds at most size entries', () => {
  const cache = new MemoryCache<number, number>(50);
  for (let i = 0; i < 1000; i++) cache.forcePut(i, i);
  assert.is(cache.size, 50);
  assert.equal(cache.get(999), { value: 999, status: 'hit' });
});

basics('object keys work with a hashKey option', () => {
  const cache = new MemoryCache<{ id: number }, string>(10, { hashKey: (k) => k.id });
  const key = { id: 1 };
  cache.put(key, 'one');
  assert.equal(cache.get(key), { value: 'one', status: 'hit' });
  assert.equal(cache.get({ id: 1 }), { value: undefined, status: 'miss' }, 'keys compare by identity, as in Map');
  assert.throws(() => new MemoryCache<object, string>(10).put({}, 'x'), (e: CacheError) => e.code === 'ERR_CACHE_UNHASHABLE_KEY');
});

basics('bad sizes throw ERR_CACHE_INVALID_OPTION', () => {
  for (const bad of [0, -1, 1.5, NaN, 2 ** 24 + 1]) {
    assert.throws(() => new MemoryCache(bad), (e: CacheError) => e instanceof InvalidOptionError && e.code === 'ERR_CACHE_INVALID_OPTION');
  }
});

const ttl = suite('MemoryCache TTL with a controllable clock');

ttl('a value is a hit until its TTL runs out, then expired', () => {
  const clock = manualClock();
  const cache = new MemoryCache<string, string>(10, { clock: clock.read });
  cache.put('k', 'v', 100);
  clock.now += 99;
  assert.equal(cache.get('k'), { value: 'v', status: 'hit' });
  clock.now += 1;
  assert.equal(cache.get('k'), { value: undefined, status: 'expired' });
  clock.now += 1_000_000;
  assert.equal(cache.get('k'), { value: undefined, status: 'expired' });
});

ttl('no TTL means no expiry; a new put restarts the TTL', () => {
  const clock = manualClock();
  const cache = new MemoryCache<string, string>(10, { clock: clock.read });
  cache.put('forever', 'f');
  cache.put('k', 'v1', 50);
  clock.now += 40;
  cache.put('k', 'v2', 50);
  clock.now += 40;
  assert.equal(cache.get('k'), { value: 'v2', status: 'hit' });
  clock.now += 1e12;
  assert.equal(cache.get('forever'), { value: 'f', status: 'hit' });
});

ttl('ttl 0 stores nothing and leaves an existing value alone', () => {
  const cache = new MemoryCache<string, string>(10);
  cache.put('k', 'v', 0);
  assert.equal(cache.get('k'), { value: undefined, status: 'miss' });
  cache.put('k', 'old');
  cache.put('k', 'new', 0);
  assert.equal(cache.get('k'), { value: 'old', status: 'hit' });
  cache.forcePut('j', 'v', 0);
  assert.is(cache.size, 1);
});

ttl('getStale returns an expired value with how long ago it expired', () => {
  const clock = manualClock();
  const cache = new MemoryCache<string, string>(10, { clock: clock.read });
  cache.put('k', 'v', 100);
  assert.equal(cache.getStale('k'), { value: 'v', status: 'hit' });
  clock.now += 100;
  assert.equal(cache.getStale('k'), { value: 'v', status: 'stale', staleMs: 0 });
  clock.now += 250;
  assert.equal(cache.getStale('k'), { value: 'v', status: 'stale', staleMs: 250 });
  assert.equal(cache.getStale('other'), { value: undefined, status: 'miss' });
});

ttl('negative or NaN TTLs throw ERR_CACHE_INVALID_TTL', () => {
  const cache = new MemoryCache<string, string>(10);
  for (const bad of [-1, NaN, -Infinity]) {
    assert.throws(() => cache.put('k', 'v', bad), (e: CacheError) => e instanceof InvalidTtlError && e.code === 'ERR_CACHE_INVALID_TTL' && e.message.includes(String(bad)));
  }
  assert.is(cache.size, 0);
  cache.put('k', 'v', Infinity);
  assert.equal(cache.get('k'), { value: 'v', status: 'hit' });
});

ttl('the default clock is real time', async () => {
  const cache = new MemoryCache<string, string>(10);
  cache.put('k', 'v', 5);
  assert.is(cache.get('k').status, 'hit');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(cache.get('k').status, 'expired');
});

basics.run();
ttl.run();
