import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RequestHeader, ResponseHeader } from '@sluice/core';
import { TinyUfo } from '@sluice/cache';
import { createCacheMeta, entryState, responseForHit, refreshedCacheMeta, requestDirectives } from '../../src/cache/cache-meta.js';
import { responseCacheable, stripFields } from '../../src/cache/cacheability.js';
import { mayServeStale } from '../../src/cache/freshness.js';
import { addRevalidationHeaders, evaluatePreconditions } from '../../src/cache/conditional.js';
import { formatHttpDate } from '../../src/cache/http-date.js';
import { CacheKey, primaryFromRequest } from '../../src/cache/cache-key.js';
import { MemoryStorage, type MemoryEntry } from '../../src/cache/memory-storage.js';
import { varianceKey } from '../../src/cache/vary.js';

const T0 = Date.UTC(2024, 3, 1, 10, 0, 0);
function request(fields: Record<string, string> = {}, method = 'GET'): RequestHeader {
  const req = new RequestHeader(method, '/doc');
  req.headers.append('Host', 'origin.test');
  for (const [n, v] of Object.entries(fields)) req.headers.append(n, v);
  return req;
}
function response(status: number, fields: Record<string, string>): ResponseHeader {
  const resp = new ResponseHeader(status);
  for (const [n, v] of Object.entries(fields)) resp.headers.append(n, v);
  return resp;
}

const lifecycle = suite('an entry from store to stale to 304 refresh');

lifecycle('fresh, then stale within stale-while-revalidate, then refreshed by a 304', () => {
  const req = request();
  const origin = response(200, {
    date: formatHttpDate(T0), 'cache-control': 'max-age=60, stale-while-revalidate=30', etag: '"v1"',
    'content-length': '5', connection: 'close', 'x-private': 'p',
  });
  const verdict = responseCacheable(req, origin);
  assert.ok(verdict.cacheable);
  if (!verdict.cacheable) return;
  stripFields(origin, verdict.stripFields);
  assert.is(origin.headers.get('connection'), undefined);
  // one second on the wire
  const meta = createCacheMeta(req, origin, { requestTimeMs: T0 - 1000, responseTimeMs: T0 });
  assert.is(meta.freshnessLifetimeMs, 60_000);
  assert.is(meta.correctedInitialAgeMs, 1000);

  const at30 = entryState(meta, request(), T0 + 30_000);
  assert.is(at30.verdict, 'fresh');
  assert.is(at30.ageMs, 31_000);
  assert.is(responseForHit(meta, T0 + 30_000).headers.get('age'), '31');
  assert.is(meta.response.headers.get('age'), undefined, 'the stored head is not modified');

  const at70 = entryState(meta, request(), T0 + 70_000);
  assert.is(at70.verdict, 'stale');
  assert.is(at70.stalenessMs, 11_000);
  assert.ok(mayServeStale('revalidating', at70.stalenessMs, at70.responseCacheControl, at70.requestCacheControl));
  const at95 = entryState(meta, request(), T0 + 95_000);
  assert.not.ok(mayServeStale('revalidating', at95.stalenessMs, at95.responseCacheControl, at95.requestCacheControl));

  const upstream = request({ 'if-none-match': '"client"' });
  assert.ok(addRevalidationHeaders(upstream, meta.response));
  assert.is(upstream.headers.get('if-none-match'), '"v1"');
  const notModified = response(304, { date: formatHttpDate(T0 + 100_000), 'cache-control': 'max-age=120', etag: '"v1"' });
  const refreshed = refreshedCacheMeta(meta, notModified, { requestTimeMs: T0 + 100_000, responseTimeMs: T0 + 100_000 });
  assert.is(refreshed.freshnessLifetimeMs, 120_000);
  assert.is(refreshed.response.headers.get('content-length'), '5');
  assert.is(refreshed.response.headers.get('cache-control'), 'max-age=120');
  assert.is(entryState(refreshed, request(), T0 + 150_000).verdict, 'fresh');
  assert.is(meta.response.headers.get('cache-control'), 'max-age=60, stale-while-revalidate=30', 'the old meta is untouched');
});

lifecycle('a client conditional is answered 304 from the entry', () => {
  const meta = createCacheMeta(request(), response(200, { etag: 'W/"x"', 'cache-control': 'max-age=60' }), { requestTimeMs: T0, responseTimeMs: T0 });
  assert.is(evaluatePreconditions(request({ 'if-none-match': '"x"' }), meta.response, meta.responseTimeMs), 'not-modified');
});

lifecycle('Pragma: no-cache counts only without Cache-Control (RFC 9111 §5.4)', () => {
  const meta = createCacheMeta(request(), response(200, { 'cache-control': 'max-age=60' }), { requestTimeMs: T0, responseTimeMs: T0 });
  assert.is(entryState(meta, request({ pragma: 'no-cache' }), T0 + 1000).verdict, 'stale');
  assert.is(entryState(meta, request({ pragma: 'x, No-Cache' }), T0 + 1000).verdict, 'stale');
  assert.is(entryState(meta, request({ pragma: 'no-cache', 'cache-control': 'max-age=100' }), T0 + 1000).verdict, 'fresh');
  assert.is(entryState(meta, request({ pragma: 'no-cachex' }), T0 + 1000).verdict, 'fresh');
  assert.not.ok(requestDirectives(request()).noCache);
});

lifecycle('Vary: * has no meta', () => {
  assert.throws(() => createCacheMeta(request(), response(200, { vary: '*' }), { requestTimeMs: T0, responseTimeMs: T0 }), RangeError);
});

lifecycle('variants end to end through MemoryStorage: the primary lookup tells which variance to ask for', async () => {
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(1 << 20, 100) });
  const base = (req: RequestHeader) => new CacheKey('site', primaryFromRequest(req));
  for (const encoding of ['gzip', 'br']) {
    const req = request({ 'accept-encoding': encoding });
    const meta = createCacheMeta(req, response(200, { vary: 'Accept-Encoding', 'cache-control': 'max-age=60' }), { requestTimeMs: T0, responseTimeMs: T0 });
    const handler = storage.getMissHandler(base(req).withVariance(meta.variance), meta);
    handler.write(Buffer.from(`body-${encoding}`));
    handler.finish();
  }
  const incoming = request({ 'Accept-Encoding': ' GZIP ' });
  const first = storage.lookup(base(incoming));
  assert.ok(first);
  const variance = varianceKey(first.meta.varyFields, incoming);
  assert.is.not(variance, first.meta.variance); // the latest stored variant is br
  const hit = storage.lookup(base(incoming).withVariance(variance));
  assert.is(hit!.body.toBuffer()!.toString(), 'body-gzip');
});

lifecycle.run();
