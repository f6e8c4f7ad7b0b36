// A caching proxy's statistics as Prometheus metrics: real requests through @sluice/proxy's cache
// phases (hits, misses, a bypass, a purge, an invalidation, evictions by the eviction manager), then
// a real scrape of the metrics service, parsed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, silentLogger } from '@sluice/core';
import { CacheKey, HttpCache, LruEvictionManager, MemoryStorage, httpProxyService, primaryFromRequest, type MemoryEntry, type ProxyHttp, type WeightedCache } from '@sluice/proxy';
import { ObservabilityError, SluiceMetrics, prometheusHttpService } from '../src/index.js';
import { parseExposition, value, type Exposition } from './helpers/exposition.js';
import { get } from './helpers/http.js';

/** A storage map that never evicts by itself: the eviction manager bounds it. */
class PlainMap implements WeightedCache<string, MemoryEntry> {
  private readonly map = new Map<string, { value: MemoryEntry; weight: number }>();
  weight = 0;
  get size(): number {
    return this.map.size;
  }
  get(key: string): MemoryEntry | undefined {
    return this.map.get(key)?.value;
  }
  put(key: string, value: MemoryEntry, weight: number): readonly { key: string; value: MemoryEntry; weight: number }[] {
    this.weight += weight - (this.map.get(key)?.weight ?? 0);
    this.map.set(key, { value, weight });
    return [];
  }
  remove(key: string): MemoryEntry | undefined {
    const old = this.map.get(key);
    if (old === undefined) return undefined;
    this.map.delete(key);
    this.weight -= old.weight;
    return old.value;
  }
}

const origin = createServer((req, res) => {
  req.resume();
  if (req.method !== 'GET') return void res.writeHead(204).end();
  res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end('y'.repeat(1000));
});
const cache = new HttpCache({ storage: new MemoryStorage({ cache: new PlainMap() }), eviction: new LruEvictionManager({ maxBytes: 2500 }) });
let originPort = 0;

const proxy: ProxyHttp<null> = {
  newCtx: () => null,
  upstreamPeer: () => new HttpPeer(`127.0.0.1:${originPort}`),
  requestCacheFilter: () => cache,
  cacheKeyCallback: (session) => new CacheKey('', primaryFromRequest(session.request)),
  isPurge: (session) => session.request.method === 'PURGE',
};
const metrics = new SluiceMetrics();
metrics.watchCache('edge', cache);
const proxyService = httpProxyService({ max_retries: 0, upstream_keepalive_pool_size: 16 }, proxy, { logger: silentLogger }).addTcp('127.0.0.1:0');
const metricsService = prometheusHttpService('127.0.0.1:0', metrics.registry);
const shutdown = new AbortController();
let running: Promise<unknown>;
let proxyPort = 0;
let metricsPort = 0;

async function scrape(): Promise<Exposition> {
  const res = await get(metricsPort, '/metrics');
  assert.is(res.status, 200);
  return parseExposition(res.body);
}

const test = suite('cache metrics');
test.before(async () => {
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
  running = Promise.all([proxyService.start(shutdown.signal, silentLogger), metricsService.start(shutdown.signal, silentLogger)]);
  await proxyService.readiness.ready;
  await metricsService.readiness.ready;
  proxyPort = proxyService.addresses[0].port;
  metricsPort = metricsService.addresses[0].port;
});
test.after(async () => {
  shutdown.abort();
  proxyService.stopNow();
  metricsService.stopNow();
  await running;
  origin.closeAllConnections();
  await new Promise((r) => origin.close(r));
});

test('hits, misses, bypass, purge, invalidation and evictions are scraped per cache', async () => {
  const before = await scrape();
  assert.is(value(before, 'sluice_cache_requests_total', { cache: 'edge', result: 'hit' }), 0, 'series exist before traffic');
  assert.is((await get(proxyPort, '/a')).status, 200); // miss, stored
  assert.is((await get(proxyPort, '/a')).status, 200); // hit
  assert.is((await get(proxyPort, '/a')).status, 200); // hit
  assert.is((await get(proxyPort, '/b')).status, 200); // miss, stored
  assert.is((await get(proxyPort, '/c')).status, 200); // miss, stored: past 2500 bytes, /a is evicted
  assert.is((await get(proxyPort, '/b', { method: 'POST' })).status, 204); // bypass; invalidates /b
  assert.is((await get(proxyPort, '/c', { method: 'PURGE' })).status, 200); // purged
  const e = await scrape();
  const event = (name: string) => value(e, 'sluice_cache_events_total', { cache: 'edge', event: name });
  assert.is(value(e, 'sluice_cache_requests_total', { cache: 'edge', result: 'hit' }), 2);
  assert.is(value(e, 'sluice_cache_requests_total', { cache: 'edge', result: 'miss' }), 3);
  assert.is(value(e, 'sluice_cache_requests_total', { cache: 'edge', result: 'bypass' }), 1);
  assert.is(value(e, 'sluice_cache_requests_total', { cache: 'edge', result: 'stale' }), 0);
  assert.is(event('stored'), 3);
  assert.is(event('evicted'), 1);
  assert.is(event('invalidated'), 1);
  assert.is(event('purged'), 1);
  assert.is(value(e, 'sluice_cache_entries', { cache: 'edge' }), 0, 'evicted, invalidated and purged: nothing left');
  assert.is(value(e, 'sluice_cache_bytes', { cache: 'edge' }), 0);
  assert.is(e.types.get('sluice_cache_requests_total'), 'counter');
  assert.is(e.types.get('sluice_cache_entries'), 'gauge');
});

test('a cache name is required and watched once', () => {
  assert.throws(() => metrics.watchCache('edge', cache), (err: unknown) => err instanceof ObservabilityError && err.code === 'ERR_METRICS_INVALID_OPTION');
  assert.throws(() => metrics.watchCache('', cache), (err: unknown) => err instanceof ObservabilityError);
});

test.run();
