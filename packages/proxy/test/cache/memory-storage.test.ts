import { suite } from 'uvu';
import * as assert from 'uvu/assert';
// The real TinyUFO, by path until @sluice/cache is a dependency of @sluice/proxy.
import { TinyUfo } from '@sluice/cache';
import { CacheKey } from '../../src/cache/cache-key.js';
import { MemoryStorage, CacheTooLargeError, type MemoryEntry } from '../../src/cache/memory-storage.js';
import { InvalidCacheOptionError } from '../../src/cache/errors.js';
import { storageCompliance, testMeta } from '../../src/cache/storage-compliance.js';
import type { EvictionReason } from '../../src/cache/storage.js';

const MiB = 1024 * 1024;
const compliance = storageCompliance('MemoryStorage on TinyUfo', {
  create: () => new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(8 * MiB, 1000) }),
});

const memory = suite('MemoryStorage specifics');

async function fill(storage: MemoryStorage, key: CacheKey, bytes: number): Promise<boolean> {
  const handler = storage.getMissHandler(key, testMeta());
  handler.write(Buffer.alloc(bytes, 0x61));
  return handler.finish();
}

memory('weight is body bytes plus fields and a fixed overhead', async () => {
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(MiB, 100) });
  await fill(storage, new CacheKey('n', 'a'), 1000);
  assert.is(storage.entries, 1);
  // 1000 body bytes, one piece (96), the entry overhead (1280) and a few fields at 64 each.
  assert.ok(storage.weightBytes >= 1000 + 96 + 1280 && storage.weightBytes < 1000 + 96 + 1280 + 400, String(storage.weightBytes));
});

memory('eviction by size keeps the total under the budget and reports evictions', async () => {
  const events: EvictionReason[] = [];
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(100_000, 100), onEvict: (_p, _m, reason) => events.push(reason) });
  for (let i = 0; i < 50; i++) await fill(storage, new CacheKey('n', `k${i}`), 10_000);
  assert.ok(storage.weightBytes <= 100_000, String(storage.weightBytes));
  assert.ok(storage.entries < 50 && storage.entries >= 5, String(storage.entries));
  assert.is(events.length, 50 - storage.entries);
  // evicted keys are gone from lookups, the index too
  let found = 0;
  for (let i = 0; i < 50; i++) if (storage.lookup(new CacheKey('n', `k${i}`)) !== undefined) found++;
  assert.is(found, storage.entries);
});

memory('an object larger than the budget is refused', async () => {
  const events: EvictionReason[] = [];
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(10_000, 100), onEvict: (_p, _m, r) => events.push(r) });
  assert.is(await fill(storage, new CacheKey('n', 'big'), 20_000), false);
  assert.equal(events, ['rejected']);
  assert.is(storage.lookup(new CacheKey('n', 'big')), undefined);
});

memory('maxObjectBytes stops a fill with ERR_CACHE_TOO_LARGE and fails followers', async () => {
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(MiB, 100), maxObjectBytes: 10 });
  const key = new CacheKey('n', 'x');
  const handler = storage.getMissHandler(key, testMeta());
  handler.write(Buffer.from('12345'));
  const follower = storage.lookup(key)!.body.wholeBody().catch((e: { code: string }) => e.code);
  try {
    handler.write(Buffer.from('678901'));
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, CacheTooLargeError);
    assert.is((error as CacheTooLargeError).code, 'ERR_CACHE_TOO_LARGE');
  }
  assert.is(await follower, 'ERR_CACHE_FILL_FAILED');
  assert.is(storage.lookup(key), undefined);
  assert.is(storage.fillsInProgress, 0);
});

memory('purge during a fill: the fill is not stored, its followers fail', async () => {
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(MiB, 100) });
  const key = new CacheKey('n', 'p');
  const handler = storage.getMissHandler(key, testMeta());
  handler.write(Buffer.from('a'));
  const follower = storage.lookup(key)!.body.wholeBody().catch((e: { code: string }) => e.code);
  assert.is(storage.purge(key, 'all'), true);
  assert.is(await follower, 'ERR_CACHE_FILL_FAILED');
  assert.is(handler.finish(), false);
  assert.is(storage.lookup(key), undefined);
});

memory('replacing an entry reports it', async () => {
  const events: EvictionReason[] = [];
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(MiB, 100), onEvict: (_p, _m, r) => events.push(r) });
  await fill(storage, new CacheKey('n', 'r'), 10);
  await fill(storage, new CacheKey('n', 'r'), 20);
  assert.equal(events, ['replaced']);
  assert.is(storage.lookup(new CacheKey('n', 'r'))!.body.length, 20);
});

memory('invalid options are typed errors', () => {
  assert.throws(() => new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(10, 10), maxObjectBytes: 0 }), (e: InvalidCacheOptionError) => e.code === 'ERR_CACHE_INVALID_OPTION');
});

compliance.run();
memory.run();
