// The eviction manager in the cache phases, over real sockets: a storage that never evicts by
// itself stays within the manager's budget, the least recently used entries go first, and purges
// leave the manager's count. The origin counts what reaches it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpCache, LruEvictionManager, MemoryStorage, type MemoryEntry, type WeightedCache } from '../src/index.js';
import { request, startProxy, type RunningProxy } from './helpers/net.js';
import { cachingProxy, startRoutedOrigin, type CountingOrigin, type RouteHandler } from './helpers/cache.js';

/** A WeightedCache that never evicts: the bound must come from the eviction manager. */
class UnboundedMap<K, V> implements WeightedCache<K, V> {
  private readonly map = new Map<K, { value: V; weight: number }>();
  weight = 0;
  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }
  put(key: K, value: V, weight: number): readonly { key: K; value: V; weight: number }[] {
    const old = this.map.get(key);
    if (old !== undefined) this.weight -= old.weight;
    this.map.set(key, { value, weight });
    this.weight += weight;
    return [];
  }
  remove(key: K): V | undefined {
    const old = this.map.get(key);
    if (old === undefined) return undefined;
    this.map.delete(key);
    this.weight -= old.weight;
    return old.value;
  }
}

interface World {
  origin: CountingOrigin;
  routes: Map<string, RouteHandler>;
  proxy: RunningProxy;
  cache: HttpCache;
  eviction: LruEvictionManager;
  storage: MemoryStorage;
}

const BODY = 'x'.repeat(1000);
const test = suite<World>('cache phases with an eviction manager');
test.before(async (w) => {
  Object.assign(w, await startRoutedOrigin());
  for (let i = 1; i <= 5; i++) w.routes.set(`/o${i}`, (_req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(BODY));
  // Room for three 1000-byte bodies with their fields, not four.
  w.eviction = new LruEvictionManager({ maxBytes: 3500 });
  w.storage = new MemoryStorage({ cache: new UnboundedMap<string, MemoryEntry>() });
  w.cache = new HttpCache({ storage: w.storage, eviction: w.eviction });
  w.proxy = await startProxy(cachingProxy(() => w.origin.port, w.cache));
});
test.after(async (w) => {
  await w.proxy.close();
  await w.origin.close();
});

test('storage stays within the budget; the least recently used entry is dropped first', async (w) => {
  const get = async (path: string) => {
    const res = await request(w.proxy.port, { path });
    assert.is(res.status, 200);
    assert.is(res.body.length, 1000);
  };
  await get('/o1');
  await get('/o2');
  await get('/o3');
  assert.is(w.storage.entries, 3);
  await get('/o1'); // a hit: /o1 becomes the most recently used, /o2 the oldest
  assert.is(w.origin.count('/o1'), 1);
  await get('/o4');
  assert.is(w.storage.entries, 3, 'one entry was dropped from storage for /o4');
  assert.is(w.eviction.totalItems, 3);
  assert.ok(w.eviction.totalBytes <= 3500);
  assert.is(w.cache.stats.evicted, 1);
  await get('/o1');
  await get('/o3');
  assert.is(w.origin.count('/o1'), 1, '/o1 was kept');
  assert.is(w.origin.count('/o3'), 1, '/o3 was kept');
  await get('/o2');
  assert.is(w.origin.count('/o2'), 2, '/o2 had been evicted, so it went upstream again');
});

test('invalidation by an unsafe request leaves the manager too', async (w) => {
  w.routes.set('/o5', (req, res) => {
    if (req.method === 'POST') return void res.writeHead(204).end();
    res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(BODY);
  });
  await request(w.proxy.port, { path: '/o5' });
  const items = w.eviction.totalItems;
  const bytes = w.eviction.totalBytes;
  const entries = w.storage.entries;
  const res = await request(w.proxy.port, { path: '/o5', method: 'POST', body: 'x' });
  assert.is(res.status, 204);
  assert.is(w.storage.entries, entries - 1);
  assert.is(w.eviction.totalItems, items - 1, 'the invalidated entry no longer counts against the budget');
  assert.ok(w.eviction.totalBytes < bytes);
});

test.run();
