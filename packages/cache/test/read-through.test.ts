import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LookupError, RTCache, type CacheError, type LookupResult, type ReadThroughResult } from '../src/index.js';

// A lookup whose answers the test releases by hand, counting its calls.
function gatedLookup<V>(answer: (key: string, calls: number) => LookupResult<V>) {
  const waiting: Array<{ key: string; resolve: (r: LookupResult<V>) => void; reject: (e: Error) => void }> = [];
  const state = {
    calls: 0,
    lookup: (key: string): Promise<LookupResult<V>> => {
      state.calls++;
      return new Promise<LookupResult<V>>((resolve, reject) => waiting.push({ key, resolve, reject }));
    },
    /** Answers the oldest pending call; `answer` sees how many calls were made so far. */
    release: () => {
      const call = waiting.shift();
      if (call) call.resolve(answer(call.key, state.calls));
    },
    /** Fails the oldest pending call. */
    fail: (error: Error) => waiting.shift()?.reject(error),
  };
  return state;
}

const isPromise = (x: unknown): x is Promise<unknown> => typeof (x as Promise<unknown>)?.then === 'function';

// What a Promise rejected with (uvu 0.5 has no assert.rejects); fails when it fulfils.
async function rejection(result: unknown): Promise<unknown> {
  try {
    await result;
  } catch (error) {
    return error;
  }
  return assert.unreachable('expected a rejection');
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function manualClock(): { now: number; read: () => number } {
  const clock = { now: 0, read: () => clock.now };
  return clock;
}

const coalescing = suite('RTCache lookup coalescing');

coalescing('500 concurrent misses run the lookup once and share its value', async () => {
  const lookup = gatedLookup((key) => ({ value: `value of ${key}` }));
  const cache = new RTCache<string, string>({ size: 100, lookup: lookup.lookup });
  const pending = Array.from({ length: 500 }, () => cache.get('k'));
  assert.ok(pending.every(isPromise));
  await tick();
  assert.is(lookup.calls, 1);
  lookup.release();
  const results = await Promise.all(pending);
  assert.is(lookup.calls, 1);
  assert.equal(results[0], { value: 'value of k', status: 'miss' });
  for (const r of results.slice(1)) assert.equal(r, { value: 'value of k', status: 'lockHit' });
  // Now cached: answered synchronously, no Promise.
  const hit = cache.get('k');
  assert.not.ok(isPromise(hit));
  assert.equal(hit, { value: 'value of k', status: 'hit' });
});

coalescing('200 keys × 5 concurrent misses each: exactly one lookup per key', async () => {
  const calls = new Map<number, number>();
  const cache = new RTCache<number, number>({
    size: 1000,
    lookup: async (key) => {
      calls.set(key, (calls.get(key) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, key % 7));
      return { value: key * 2 };
    },
  });
  const pending: Array<Promise<ReadThroughResult<number>> | ReadThroughResult<number>> = [];
  for (let round = 0; round < 5; round++) for (let key = 0; key < 200; key++) pending.push(cache.get(key));
  const results = await Promise.all(pending);
  assert.is(calls.size, 200);
  for (const n of calls.values()) assert.is(n, 1);
  results.forEach((r, i) => {
    assert.is(r.value, (i % 200) * 2);
    assert.is(r.status, i < 200 ? 'miss' : 'lockHit');
  });
  assert.is(cache.size, 200);
});

coalescing('different keys do not wait for each other', async () => {
  const lookup = gatedLookup((key) => ({ value: key.toUpperCase() }));
  const cache = new RTCache<string, string>({ size: 100, lookup: lookup.lookup });
  const a = cache.get('a');
  const b = cache.get('b');
  await tick();
  assert.is(lookup.calls, 2);
  lookup.release();
  lookup.release();
  assert.equal(await a, { value: 'A', status: 'miss' });
  assert.equal(await b, { value: 'B', status: 'miss' });
});

coalescing('lookup gets the extra argument; its TTL wins over the one given to get', async () => {
  const clock = manualClock();
  const seen: Array<number | undefined> = [];
  const cache = new RTCache<string, string, number>({
    size: 10,
    clock: clock.read,
    lookup: (key, extra) => {
      seen.push(extra);
      return key === 'short' ? { value: 's', ttlMs: 10 } : { value: 'l' };
    },
  });
  await cache.get('short', 1000, 7);
  await cache.get('long', 1000, 8);
  assert.equal(seen, [7, 8]);
  clock.now = 10;
  assert.equal(await cache.get('short'), { value: 's', status: 'expired' });
  clock.now = 999;
  assert.equal(cache.get('long'), { value: 'l', status: 'hit' });
  clock.now = 1000;
  assert.equal(await cache.get('long'), { value: 'l', status: 'expired' });
});

coalescing('a lookup returning ttl 0 answers every waiter but caches nothing', async () => {
  let calls = 0;
  const cache = new RTCache<string, number>({ size: 10, lookup: async () => ({ value: ++calls, ttlMs: 0 }) });
  const results = await Promise.all(Array.from({ length: 100 }, () => cache.get('k')));
  assert.ok(results.every((r) => r.value === 1));
  assert.is(results.filter((r) => r.status === 'lockHit').length, 99);
  assert.is(cache.size, 0);
  assert.equal(await cache.get('k'), { value: 2, status: 'miss' });
});

const errors = suite('RTCache lookup errors');

errors('a failed lookup rejects every waiter with LookupError and is not cached', async () => {
  const lookup = gatedLookup<string>(() => ({ value: 'fine' }));
  const cache = new RTCache<string, string>({ size: 10, lookup: lookup.lookup });
  const pending = Array.from({ length: 300 }, () => cache.get('k'));
  await tick();
  const cause = new Error('database down');
  lookup.fail(cause);
  const settled = await Promise.allSettled(pending);
  assert.is(lookup.calls, 1);
  for (const s of settled) {
    assert.is(s.status, 'rejected');
    const error = (s as PromiseRejectedResult).reason as LookupError;
    assert.instance(error, LookupError);
    assert.is(error.code, 'ERR_CACHE_LOOKUP');
    assert.is(error.cause, cause);
    assert.is(error.key, 'k');
    assert.match(error.message, 'database down');
  }
  assert.is(cache.size, 0);
  const again = cache.get('k');
  await tick();
  assert.is(lookup.calls, 2, 'the error was not cached: a new get looks up again');
  lookup.release();
  assert.equal(await again, { value: 'fine', status: 'miss' });
});

errors('a lookup that throws synchronously or rejects with a non-Error is wrapped too', async () => {
  const sync = new RTCache<string, string>({
    size: 10,
    lookup: () => {
      throw new TypeError('bad key');
    },
  });
  const thrown = (await rejection(sync.get('k'))) as LookupError;
  assert.is(thrown.code, 'ERR_CACHE_LOOKUP');
  assert.instance(thrown.cause, TypeError);
  const odd = new RTCache<string, string>({ size: 10, lookup: () => Promise.reject('just a string') });
  const oddError = (await rejection(odd.get('k'))) as LookupError;
  assert.is(oddError.cause, 'just a string');
  assert.match(oddError.message, 'just a string');
});

errors('a TTL from the lookup that is negative rejects with ERR_CACHE_INVALID_TTL', async () => {
  const cache = new RTCache<string, string>({ size: 10, lookup: () => ({ value: 'v', ttlMs: -5 }) });
  assert.is(((await rejection(cache.get('k'))) as CacheError).code, 'ERR_CACHE_INVALID_TTL');
  assert.is(cache.size, 0);
});

errors('bad options throw ERR_CACHE_INVALID_OPTION', () => {
  const lookup = () => ({ value: 1 });
  assert.throws(() => new RTCache({ size: 0, lookup }), (e: CacheError) => e.code === 'ERR_CACHE_INVALID_OPTION');
  assert.throws(() => new RTCache({ size: 1, lookup, lockAgeMs: -1 }), (e: CacheError) => e.code === 'ERR_CACHE_INVALID_OPTION' && /lockAgeMs/.test(e.message));
  assert.throws(() => new RTCache({ size: 1, lookup, lockTimeoutMs: NaN }), (e: CacheError) => /lockTimeoutMs/.test(e.message));
  assert.throws(() => new RTCache({ size: 1, lookup: 'no' as never }), (e: CacheError) => /lookup must be a function/.test(e.message));
});

const locks = suite('RTCache lock timeout and lock age');

locks('waiters stop waiting after lockTimeoutMs and look up alone, uncached', async () => {
  const lookup = gatedLookup((key, calls) => ({ value: `${key}#${calls}` }));
  const cache = new RTCache<string, string>({ size: 10, lookup: lookup.lookup, lockTimeoutMs: 20 });
  const leader = cache.get('k');
  await tick();
  const waiters = Array.from({ length: 5 }, () => cache.get('k'));
  // Wait until every waiter gave up and ran its own lookup (bounded: the test fails, not hangs).
  for (let i = 0; i < 200 && lookup.calls < 6; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.is(lookup.calls, 6);
  for (let i = 0; i < 6; i++) lookup.release();
  const results = await Promise.all(waiters);
  for (const r of results) assert.is(r.status, 'miss');
  assert.equal(await leader, { value: 'k#6', status: 'miss' });
  // Only the leader, which held the lock, wrote the cache.
  assert.equal(cache.get('k'), { value: 'k#6', status: 'hit' });
});

locks('a waiter whose lookup times out still gets the error of its own lookup', async () => {
  const lookup = gatedLookup<string>(() => ({ value: 'v' }));
  const cache = new RTCache<string, string>({ size: 10, lookup: lookup.lookup, lockTimeoutMs: 10 });
  const leader = cache.get('k');
  await tick();
  const waiter = cache.get('k');
  for (let i = 0; i < 200 && lookup.calls < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  lookup.release();
  lookup.fail(new Error('own lookup failed'));
  assert.equal(await leader, { value: 'v', status: 'miss' });
  const own = (await rejection(waiter)) as LookupError;
  assert.is(own.code, 'ERR_CACHE_LOOKUP');
  assert.match(own.message, 'own lookup failed');
});

locks('a lock older than lockAgeMs is bypassed at once', async () => {
  const clock = manualClock();
  const lookup = gatedLookup((key, calls) => ({ value: `${key}#${calls}` }));
  const cache = new RTCache<string, string>({ size: 10, lookup: lookup.lookup, lockAgeMs: 100, lockTimeoutMs: Infinity, clock: clock.read });
  const leader = cache.get('k');
  await tick();
  clock.now = 100;
  const young = cache.get('k');
  await tick();
  assert.is(lookup.calls, 1, 'a lock 100 ms old is still waited on');
  clock.now = 101;
  const bypass = cache.get('k');
  await tick();
  assert.is(lookup.calls, 2, 'a lock 101 ms old is not');
  lookup.release();
  lookup.release();
  assert.equal(await bypass, { value: 'k#2', status: 'miss' });
  assert.equal(await leader, { value: 'k#2', status: 'miss' });
  assert.equal(await young, { value: 'k#2', status: 'lockHit' });
});

const stale = suite('RTCache getStale and getStaleWhileUpdate');

stale('getStale serves a value expired within staleTtlMs, synchronously', async () => {
  const clock = manualClock();
  let version = 0;
  const cache = new RTCache<string, number>({ size: 10, clock: clock.read, lookup: () => ({ value: ++version }) });
  await cache.get('k', 100);
  clock.now = 150;
  const result = cache.getStale('k', 50, 100);
  assert.not.ok(isPromise(result));
  assert.equal(result, { value: 1, status: 'stale', staleMs: 50 });
  assert.is(version, 1);
  clock.now = 151;
  assert.equal(await cache.getStale('k', 50, 100), { value: 2, status: 'expired' });
  assert.equal(cache.getStale('k', 50), { value: 2, status: 'hit' });
});

stale('getStaleWhileUpdate serves stale and refreshes in the background, once', async () => {
  const clock = manualClock();
  const lookup = gatedLookup((key, calls) => ({ value: `${key}#${calls}`, ttlMs: 100 }));
  const cache = new RTCache<string, string>({ size: 10, clock: clock.read, lookup: lookup.lookup });
  const first = cache.get('k');
  await tick();
  lookup.release();
  await first;
  clock.now = 120;
  const served = Array.from({ length: 50 }, () => cache.getStaleWhileUpdate('k', 1000));
  for (const s of served) assert.equal(s, { value: 'k#1', status: 'stale', staleMs: 20 });
  await tick();
  assert.is(lookup.calls, 2, 'one background refresh for 50 stale reads');
  lookup.release();
  for (let i = 0; i < 50 && (cache.get('k') as ReadThroughResult<string>).status !== 'hit'; i++) await tick();
  assert.equal(cache.get('k'), { value: 'k#2', status: 'hit' });
});

stale('a failing background refresh reaches onRefreshError and the stale value stays', async () => {
  const clock = manualClock();
  let fail = false;
  const reported: Array<[unknown, string]> = [];
  const cache = new RTCache<string, string>({
    size: 10,
    clock: clock.read,
    lookup: async () => {
      if (fail) throw new Error('origin down');
      return { value: 'v', ttlMs: 10 };
    },
    onRefreshError: (error, key) => reported.push([error, key]),
  });
  await cache.get('k');
  fail = true;
  clock.now = 20;
  assert.equal(cache.getStaleWhileUpdate('k', 100), { value: 'v', status: 'stale', staleMs: 10 });
  for (let i = 0; i < 50 && reported.length === 0; i++) await tick();
  assert.is(reported.length, 1);
  assert.instance(reported[0][0], LookupError);
  assert.is(reported[0][1], 'k');
  assert.equal(cache.getStale('k', 100), { value: 'v', status: 'stale', staleMs: 10 });
});

stale('getStaleWhileUpdate on a miss waits for the lookup like get', async () => {
  const cache = new RTCache<string, string>({ size: 10, lookup: () => ({ value: 'v' }) });
  const result = cache.getStaleWhileUpdate('k', 100);
  assert.ok(isPromise(result));
  assert.equal(await result, { value: 'v', status: 'miss' });
});

coalescing.run();
errors.run();
locks.run();
stale.run();
