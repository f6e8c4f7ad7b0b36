import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheKey } from '../../src/cache/cache-key.js';
import { LruEvictionManager } from '../../src/cache/eviction-manager.js';
import { InvalidCacheOptionError } from '../../src/cache/errors.js';

const lru = suite('LruEvictionManager');
const k = (n: number | string, variance?: string) => new CacheKey('ns', `h/${n}`, variance);
const names = (keys: readonly CacheKey[]) => keys.map((key) => key.primary + (key.variance ?? ''));

lru('admits within the budget without evicting; counts bytes and items', () => {
  const m = new LruEvictionManager({ maxBytes: 300 });
  assert.equal(m.admit(k(1), 100, 0), []);
  assert.equal(m.admit(k(2), 100, 0), []);
  assert.is(m.totalBytes, 200);
  assert.is(m.totalItems, 2);
  assert.is(m.evictedItems, 0);
});

lru('past the budget the least recently used entries go first, and are counted', () => {
  const m = new LruEvictionManager({ maxBytes: 300 });
  for (let i = 1; i <= 3; i++) m.admit(k(i), 100, 0);
  assert.ok(m.access(k(1), 100, 0), 'a tracked key is accessed');
  // 1 was used last: 2 is now the oldest, then 3.
  assert.equal(names(m.admit(k(4), 150, 0)), ['h/2', 'h/3']);
  assert.is(m.totalBytes, 250);
  assert.is(m.totalItems, 2);
  assert.is(m.evictedItems, 2);
  assert.is(m.evictedBytes, 200);
  assert.ok(m.peek(k(1)));
  assert.not.ok(m.peek(k(2)));
});

lru('variants are separate entries; re-admitting one replaces its size', () => {
  const m = new LruEvictionManager({ maxBytes: 1000 });
  m.admit(k(1, 'accept-encoding:gzip'), 100, 0);
  m.admit(k(1, 'accept-encoding:br'), 100, 0);
  assert.is(m.totalItems, 2);
  m.admit(k(1, 'accept-encoding:br'), 300, 0);
  assert.is(m.totalItems, 2);
  assert.is(m.totalBytes, 400);
});

lru('an entry larger than the whole budget evicts only itself', () => {
  const m = new LruEvictionManager({ maxBytes: 300 });
  m.admit(k(1), 100, 0);
  assert.equal(names(m.admit(k(2), 200, 0)), []);
  // 2 is the newest; evicting the older ones is not enough, so it goes too.
  assert.equal(names(m.admit(k(3), 400, 0)), ['h/1', 'h/2', 'h/3']);
  assert.is(m.totalBytes, 0);
});

lru('maxItems bounds the count as well', () => {
  const m = new LruEvictionManager({ maxBytes: 1 << 20, maxItems: 2 });
  m.admit(k(1), 1, 0);
  m.admit(k(2), 1, 0);
  assert.equal(names(m.admit(k(3), 1, 0)), ['h/1']);
});

lru('remove forgets an entry without counting an eviction; access of an unknown key is false', () => {
  const m = new LruEvictionManager({ maxBytes: 300 });
  m.admit(k(1), 100, 0);
  m.remove(k(1));
  m.remove(k(1));
  assert.is(m.totalBytes, 0);
  assert.is(m.evictedItems, 0);
  assert.not.ok(m.access(k(1), 100, 0));
});

lru("remove 'all' forgets every variant of a primary key (a purge), and only those", () => {
  const m = new LruEvictionManager({ maxBytes: 1000 });
  m.admit(k(1), 10, 0);
  m.admit(k(1, 'a'), 20, 0);
  m.admit(k(1, 'b'), 30, 0);
  m.admit(k(2, 'a'), 40, 0);
  m.remove(k(1), 'all');
  assert.is(m.totalItems, 1);
  assert.is(m.totalBytes, 40);
  assert.ok(m.peek(k(2, 'a')));
  // an evicted variant leaves the index too: purging its primary later finds nothing to subtract
  const small = new LruEvictionManager({ maxBytes: 50 });
  small.admit(k(3, 'a'), 30, 0);
  small.admit(k(4), 30, 0);
  small.remove(k(3), 'all');
  assert.is(small.totalBytes, 30);
});

lru('invalid limits are typed errors', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new LruEvictionManager({ maxBytes: bad }), (e: unknown) => e instanceof InvalidCacheOptionError && e.code === 'ERR_CACHE_INVALID_OPTION');
  }
  assert.throws(() => new LruEvictionManager({ maxBytes: 10, maxItems: 0 }), (e: unknown) => e instanceof InvalidCacheOptionError);
});

lru.run();
