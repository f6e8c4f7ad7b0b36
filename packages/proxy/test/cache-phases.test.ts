// The cache phases over real sockets: misses stored and served as hits, HEAD from GET entries,
// conditionals answered from cache, ranges, revalidation with 304 merges, Vary, invalidation, purge,
// the phase hooks, and the statistics. The origin counts what reaches it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { SluiceError } from '@sluice/core';
import { HttpProxy, Predictor, type HttpCache, type ProxyHttp } from '../src/index.js';
import { request, startProxy, type RunningProxy } from './helpers/net.js';
import { h2Client, h2Request } from './helpers/h2.js';
import { cachingProxy, memoryCache, startRoutedOrigin, sleep, type CountingOrigin, type RouteHandler } from './helpers/cache.js';

interface World {
  origin: CountingOrigin;
  routes: Map<string, RouteHandler>;
  proxies: RunningProxy[];
}

const test = suite<World>('cache phases');
test.before(async (w) => {
  w.proxies = [];
  Object.assign(w, await startRoutedOrigin());
});
test.after(async (w) => {
  for (const p of w.proxies) await p.close();
  await w.origin.close();
});

async function proxyFor(w: World, cache: HttpCache, extra: Partial<ProxyHttp<null>> = {}): Promise<number> {
  const p = await startProxy(cachingProxy(() => w.origin.port, cache, extra));
  w.proxies.push(p);
  return p.port;
}

test('a fresh response is stored on a miss and served from storage with Age', async (w) => {
  w.routes.set('/fresh', (_req, res, n) => res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'text/plain', ETag: '"v1"' }).end(`body ${n}`));
  const cache = memoryCache();
  const port = await proxyFor(w, cache);
  const first = await request(port, { path: '/fresh' });
  assert.is(first.status, 200);
  assert.is(first.body.toString(), 'body 1');
  const second = await request(port, { path: '/fresh' });
  assert.is(second.status, 200);
  assert.is(second.body.toString(), 'body 1');
  assert.is(second.headers['content-length'], '6');
  assert.is(second.headers['content-type'], 'text/plain');
  assert.ok(second.headers.age !== undefined, 'a hit carries Age (RFC 9111 §5.1)');
  assert.is(w.origin.count('/fresh'), 1);
  assert.is(cache.stats.misses, 1);
  assert.is(cache.stats.hits, 1);
  assert.is(cache.stats.stored, 1);
  const m = cache.metrics();
  assert.is(m.entries, 1);
  assert.ok((m.bytes ?? 0) > 6);
});

test('Surrogate-Capability goes upstream; a response without freshness is not stored (no default TTL)', async (w) => {
  w.routes.set('/nofresh', (req, res, n) => res.writeHead(200, { 'X-Cap': String(req.headers['surrogate-capability']) }).end(`n${n}`));
  const cache = memoryCache();
  const port = await proxyFor(w, cache);
  const a = await request(port, { path: '/nofresh' });
  const b = await request(port, { path: '/nofresh' });
  assert.is(a.headers['x-cap'], 'sluice="Surrogate/1.0"');
  assert.is(b.body.toString(), 'n2');
  assert.is(w.origin.count('/nofresh'), 2);
  assert.is(cache.stats.hits, 0, 'stored stale on arrival (heuristic status, no Last-Modified): never served unvalidated');
});

test('HEAD is answered from a GET entry, with the GET length and no body', async (w) => {
  w.routes.set('/head', (_req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end('0123456789'));
  const port = await proxyFor(w, memoryCache());
  await request(port, { path: '/head' });
  const head = await request(port, { path: '/head', method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.headers['content-length'], '10');
  assert.is(head.body.length, 0);
  assert.is(w.origin.count('/head'), 1);
});

test('conditional requests on a hit: 304 for If-None-Match and If-Modified-Since, 412 for If-Match', async (w) => {
  const lastModified = new Date(Date.now() - 3600_000).toUTCString();
  w.routes.set('/cond', (_req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60', ETag: '"abc"', 'Last-Modified': lastModified }).end('conditional'));
  const port = await proxyFor(w, memoryCache());
  await request(port, { path: '/cond' });
  const inm = await request(port, { path: '/cond', headers: { 'If-None-Match': 'W/"x", "abc"' } });
  assert.is(inm.status, 304);
  assert.is(inm.headers.etag, '"abc"');
  assert.is(inm.body.length, 0);
  const ims = await request(port, { path: '/cond', headers: { 'If-Modified-Since': new Date().toUTCString() } });
  assert.is(ims.status, 304);
  const other = await request(port, { path: '/cond', headers: { 'If-None-Match': '"zzz"' } });
  assert.is(other.status, 200);
  assert.is(other.body.toString(), 'conditional');
  const im = await request(port, { path: '/cond', headers: { 'If-Match': '"nope"' } });
  assert.is(im.status, 412);
  assert.is(w.origin.count('/cond'), 1);
});

test('Range from a stored body: single 206, multipart/byteranges, 416; If-Range mismatch gives 200', async (w) => {
  w.routes.set('/range', (_req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'text/plain', ETag: '"r1"' }).end('abcdefghijklmnopqrstuvwxyz'));
  const port = await proxyFor(w, memoryCache());
  await request(port, { path: '/range' });
  const one = await request(port, { path: '/range', headers: { Range: 'bytes=2-4' } });
  assert.is(one.status, 206);
  assert.is(one.body.toString(), 'cde');
  assert.is(one.headers['content-range'], 'bytes 2-4/26');
  const suffix = await request(port, { path: '/range', headers: { Range: 'bytes=-3' } });
  assert.is(suffix.body.toString(), 'xyz');
  const multi = await request(port, { path: '/range', headers: { Range: 'bytes=0-1,10-11' } });
  assert.is(multi.status, 206);
  const type = String(multi.headers['content-type']);
  assert.match(type, /^multipart\/byteranges; boundary=/);
  const text = multi.body.toString();
  assert.match(text, /Content-Range: bytes 0-1\/26\r\n\r\nab\r\n/);
  assert.match(text, /Content-Range: bytes 10-11\/26\r\n\r\nkl\r\n/);
  assert.is(Number(multi.headers['content-length']), multi.body.length);
  const bad = await request(port, { path: '/range', headers: { Range: 'bytes=100-200' } });
  assert.is(bad.status, 416);
  assert.is(bad.headers['content-range'], 'bytes */26');
  const ifRange = await request(port, { path: '/range', headers: { Range: 'bytes=0-0', 'If-Range': '"other"' } });
  assert.is(ifRange.status, 200);
  assert.is(ifRange.body.length, 26);
  assert.is(w.origin.count('/range'), 1);
});

test('a stale entry is revalidated with its validators; a 304 merges its fields and the stored body is served', async (w) => {
  w.routes.set('/reval', (req, res, n) => {
    if (n === 1) return res.writeHead(200, { 'Cache-Control': 'max-age=1', ETag: '"e1"', 'X-Version': 'one' }).end('stored body');
    if (req.headers['if-none-match'] !== '"e1"') return res.writeHead(200, { 'X-Version': 'unconditional' }).end('refetched');
    res.writeHead(304, { 'Cache-Control': 'max-age=60', ETag: '"e1"', 'X-Version': 'two' }).end();
  });
  const cache = memoryCache();
  const port = await proxyFor(w, cache);
  await request(port, { path: '/reval' });
  await sleep(1100);
  const revalidated = await request(port, { path: '/reval' });
  assert.is(revalidated.status, 200);
  assert.is(revalidated.body.toString(), 'stored body');
  assert.is(revalidated.headers['x-version'], 'two');
  assert.is(w.origin.count('/reval'), 2);
  const fresh = await request(port, { path: '/reval' });
  assert.is(fresh.headers['x-version'], 'two');
  assert.is(w.origin.count('/reval'), 2, 'the merged max-age=60 made it fresh again');
  assert.is(cache.stats.revalidations, 1);
  assert.is(cache.stats.revalidated, 1);
});

test('a stale entry answered with a new 200 is replaced; the client\'s own conditionals do not go upstream', async (w) => {
  let conditional = '';
  w.routes.set('/replace', (req, res, n) => {
    if (n === 2) conditional = String(req.headers['if-none-match']);
    res.writeHead(200, { 'Cache-Control': n === 1 ? 'max-age=1' : 'max-age=60', ETag: n === 1 ? '"a"' : '"b"' }).end(`version ${n}`);
  });
  const port = await proxyFor(w, memoryCache());
  await request(port, { path: '/replace' });
  await sleep(1100);
  const r = await request(port, { path: '/replace', headers: { 'If-None-Match': '"client"' } });
  assert.is(conditional, '"a"', 'the stored validator, not the client\'s');
  assert.is(r.body.toString(), 'version 2');
  const again = await request(port, { path: '/replace' });
  assert.is(again.body.toString(), 'version 2');
  assert.is(w.origin.count('/replace'), 2);
});

test('a 304 merges no Set-Cookie into the stored response (not stored by policy, so not merged either)', async (w) => {
  w.routes.set('/cookie304', (_req, res, n) => {
    if (n === 1) return res.writeHead(200, { 'Cache-Control': 'max-age=1', ETag: '"c"' }).end('shared');
    res.writeHead(304, { 'Cache-Control': 'max-age=60', ETag: '"c"', 'Set-Cookie': 'session=for-one-client' }).end();
  });
  const port = await proxyFor(w, memoryCache());
  await request(port, { path: '/cookie304' });
  await sleep(1100);
  await request(port, { path: '/cookie304' });
  const other = await request(port, { path: '/cookie304' });
  assert.is(other.body.toString(), 'shared');
  assert.is(other.headers['set-cookie'], undefined);
  assert.is(w.origin.count('/cookie304'), 2);
});

test('the predictor does not remember a 304 or 206 the client asked for', async (w) => {
  w.routes.set('/predict-cond', (req, res, n) => {
    if (req.headers['if-none-match'] === '"p"') return res.writeHead(304, { ETag: '"p"' }).end();
    if (req.headers.range !== undefined) return res.writeHead(206, { 'Content-Range': 'bytes 0-0/4' }).end('b');
    res.writeHead(200, { 'Cache-Control': 'max-age=60', ETag: '"p"' }).end(`body${n}`);
  });
  const predictor = new Predictor();
  const port = await proxyFor(w, memoryCache({ predictor }));
  assert.is((await request(port, { path: '/predict-cond', headers: { 'If-None-Match': '"p"' } })).status, 304);
  assert.is((await request(port, { path: '/predict-cond', headers: { Range: 'bytes=0-0' } })).status, 206);
  assert.is(predictor.size, 0);
  await request(port, { path: '/predict-cond' });
  assert.is((await request(port, { path: '/predict-cond' })).body.toString(), 'body3');
  assert.is(w.origin.count('/predict-cond'), 3);
});

test('a 200 to a HEAD freshens the stored GET response it describes (RFC 9111 §4.3.5)', async (w) => {
  w.routes.set('/head-fresh', (req, res, n) => {
    if (req.method === 'HEAD') return res.writeHead(200, { 'Cache-Control': 'max-age=60', ETag: n === 2 ? '"hf"' : '"other"', 'X-Head': String(n), 'Content-Length': '6' }).end();
    res.writeHead(200, { 'Cache-Control': 'max-age=1', ETag: '"hf"', 'X-Stored': 'kept' }).end(`get ${n}`);
  });
  const port = await proxyFor(w, memoryCache());
  await request(port, { path: '/head-fresh' });
  await sleep(1100);
  const head = await request(port, { path: '/head-fresh', method: 'HEAD' });
  assert.is(head.headers['x-stored'], 'kept', 'stored fields the HEAD response lacks are kept');
  assert.is(head.headers['x-head'], '2');
  const get = await request(port, { path: '/head-fresh' });
  assert.is(get.body.toString(), 'get 1', 'freshened by the HEAD: no new GET');
  assert.is(get.headers['x-head'], '2');
  assert.is(w.origin.count('/head-fresh'), 2);
});

test('request no-cache forces revalidation; only-if-cached on a miss answers 504', async (w) => {
  w.routes.set('/nocache', (_req, res, n) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(`n${n}`));
  const port = await proxyFor(w, memoryCache());
  await request(port, { path: '/nocache' });
  const forced = await request(port, { path: '/nocache', headers: { 'Cache-Control': 'no-cache' } });
  assert.is(forced.body.toString(), 'n2');
  assert.is(w.origin.count('/nocache'), 2);
  const only = await request(port, { path: '/never-stored', headers: { 'Cache-Control': 'only-if-cached' } });
  assert.is(only.status, 504);
  assert.is(w.origin.count('/never-stored'), 0);
});

test('Vary: each variant has its own entry (secondary key)', async (w) => {
  w.routes.set('/vary', (req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60', Vary: 'Accept-Language' }).end(`lang ${req.headers['accept-language'] ?? 'none'}`));
  const port = await proxyFor(w, memoryCache());
  const en = await request(port, { path: '/vary', headers: { 'Accept-Language': 'en' } });
  const fr = await request(port, { path: '/vary', headers: { 'Accept-Language': 'fr' } });
  assert.is(en.body.toString(), 'lang en');
  assert.is(fr.body.toString(), 'lang fr');
  assert.is(w.origin.count('/vary'), 2);
  assert.is((await request(port, { path: '/vary', headers: { 'Accept-Language': 'EN' } })).body.toString(), 'lang en');
  assert.is((await request(port, { path: '/vary', headers: { 'Accept-Language': 'fr' } })).body.toString(), 'lang fr');
  assert.is((await request(port, { path: '/vary' })).body.toString(), 'lang none');
  assert.is(w.origin.count('/vary'), 3);
});

test('a successful unsafe request invalidates the stored target (RFC 9111 §4.4); a failed one does not', async (w) => {
  w.routes.set('/inv', (req, res, n) => {
    if (req.method === 'POST') return res.writeHead(n === 2 ? 500 : 200).end('posted');
    res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(`get ${n}`);
  });
  const cache = memoryCache();
  const port = await proxyFor(w, cache);
  await request(port, { path: '/inv' }); // n=1, stored
  const failed = await request(port, { path: '/inv', method: 'POST', body: 'x' }); // n=2: 500
  assert.is(failed.status, 500);
  assert.is((await request(port, { path: '/inv' })).body.toString(), 'get 1');
  await request(port, { path: '/inv', method: 'POST', body: 'x' }); // n=3: 200
  assert.is((await request(port, { path: '/inv' })).body.toString(), 'get 4');
  assert.is(cache.stats.invalidated, 1);
  assert.is(cache.stats.bypass, 2);
});

test('purge: 200 when something was removed, 404 when nothing was stored, 405 without a cache', async (w) => {
  w.routes.set('/purge-me', (_req, res, n) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(`p${n}`));
  const cache = memoryCache();
  const port = await proxyFor(w, cache, {
    requestCacheFilter: (s) => (s.request.headers.get('x-no-cache') ? undefined : cache),
    isPurge: (s) => s.request.method === 'PURGE',
    purgeResponseFilter: (_s, _c, status, res) => {
      res.insertHeader('X-Purge', status);
    },
  });
  await request(port, { path: '/purge-me' });
  const found = await request(port, { path: '/purge-me', method: 'PURGE' });
  assert.is(found.status, 200);
  assert.is(found.headers['x-purge'], 'found');
  const missing = await request(port, { path: '/purge-me', method: 'PURGE' });
  assert.is(missing.status, 404);
  const noCache = await request(port, { path: '/purge-me', method: 'PURGE', headers: { 'X-No-Cache': '1' } });
  assert.is(noCache.status, 405);
  assert.is((await request(port, { path: '/purge-me' })).body.toString(), 'p2');
  assert.is(cache.stats.purged, 1);
});

test('cacheHitFilter forces a miss or an expiry; responseCacheFilter and cacheMiss are consulted', async (w) => {
  w.routes.set('/hitfilter', (req, res, n) => {
    if (req.headers['if-none-match'] === '"h"') return res.writeHead(304, { ETag: '"h"' }).end();
    res.writeHead(200, { 'Cache-Control': 'max-age=60', ETag: '"h"' }).end(`h${n}`);
  });
  w.routes.set('/never', (_req, res, n) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(`never ${n}`));
  const misses: string[] = [];
  const port = await proxyFor(w, memoryCache(), {
    cacheHitFilter: (s) => (s.request.headers.get('x-force') as 'miss' | 'expire' | undefined) ?? undefined,
    cacheMiss: (s) => void misses.push(s.request.uri),
    responseCacheFilter: (s) => (s.request.uri === '/never' ? { cacheable: false, reason: 'status', detail: 'test says no' } : { cacheable: true, stripFields: [], cacheControl: undefined as never }),
  });
  await request(port, { path: '/hitfilter' });
  assert.is((await request(port, { path: '/hitfilter' })).body.toString(), 'h1');
  assert.is((await request(port, { path: '/hitfilter', headers: { 'X-Force': 'miss' } })).body.toString(), 'h2');
  const expired = await request(port, { path: '/hitfilter', headers: { 'X-Force': 'expire' } });
  assert.is(expired.body.toString(), 'h2');
  assert.is(w.origin.count('/hitfilter'), 3, 'expire revalidated upstream (304)');
  await request(port, { path: '/never' });
  assert.is((await request(port, { path: '/never' })).body.toString(), 'never 2');
  assert.equal(misses, ['/hitfilter', '/hitfilter', '/never', '/never']);
});

test('cacheVaryFilter, cacheNotModifiedFilter and shouldServeStale decide when implemented', async (w) => {
  w.routes.set('/custom', (req, res, n) => {
    if (n > 1 && req.headers['x-fail'] !== undefined) return res.writeHead(500).end('down');
    res.writeHead(200, { 'Cache-Control': 'max-age=1, stale-if-error=60' }).end(`variant ${req.headers['x-device'] ?? 'none'} ${n}`);
  });
  const seen: Array<string | undefined> = [];
  const port = await proxyFor(w, memoryCache(), {
    // One variant per device class, though the origin sends no Vary.
    cacheVaryFilter: (_meta, _ctx, req) => `device:${req.headers.get('x-device') ?? ''}`,
    cacheNotModifiedFilter: (s) => s.request.headers.get('x-want-304') === '1',
    shouldServeStale: (_s, _c, error) => {
      seen.push(error?.type);
      return false;
    },
  });
  assert.is((await request(port, { path: '/custom', headers: { 'X-Device': 'phone' } })).body.toString(), 'variant phone 1');
  assert.is((await request(port, { path: '/custom', headers: { 'X-Device': 'tv' } })).body.toString(), 'variant tv 2');
  assert.is((await request(port, { path: '/custom', headers: { 'X-Device': 'phone' } })).body.toString(), 'variant phone 1');
  assert.is((await request(port, { path: '/custom', headers: { 'X-Device': 'tv', 'X-Want-304': '1' } })).status, 304);
  await sleep(1100);
  const refused = await request(port, { path: '/custom', headers: { 'X-Device': 'tv', 'X-Fail': '1' } });
  assert.is(refused.status, 500, 'stale-if-error allowed it, shouldServeStale said no');
  assert.equal(seen, ['HTTPStatus']);
});

test('Cache-Status (RFC 9211) says what the cache did, when the cache has a name', async (w) => {
  w.routes.set('/cs', (req, res, n) => {
    if (req.method === 'POST') return res.writeHead(204).end();
    if (n === 2) return res.writeHead(304, { 'Cache-Control': 'max-age=60', ETag: '"cs"' }).end();
    res.writeHead(200, { 'Cache-Control': 'max-age=1', ETag: '"cs"' }).end('status');
  });
  w.routes.set('/cs-private', (_req, res) => res.writeHead(200, { 'Cache-Control': 'no-store' }).end('mine'));
  const port = await proxyFor(w, memoryCache({ cacheStatus: 'sluice' }));
  const status = async (path: string, method = 'GET', headers: Record<string, string> = {}) => String((await request(port, { path, method, headers })).headers['cache-status']);
  assert.is(await status('/cs'), 'sluice; fwd=uri-miss; fwd-status=200; stored');
  assert.match(await status('/cs'), /^sluice; hit; ttl=[01]$/);
  assert.match(await status('/cs', 'GET', { 'If-None-Match': '"cs"' }), /^sluice; hit; ttl=/, 'a 304 from cache says so too');
  await sleep(1100);
  assert.match(await status('/cs'), /^sluice; fwd=stale; fwd-status=304; ttl=(59|60)$/);
  assert.is(await status('/cs-private'), 'sluice; fwd=uri-miss; fwd-status=200; detail=no-store');
  assert.is(await status('/cs', 'POST'), 'sluice; fwd=method; fwd-status=204');
  assert.throws(() => memoryCache({ cacheStatus: 'not a token' }), (e: Error & { code?: string }) => e.code === 'ERR_CACHE_INVALID_OPTION');
});

test('responseFilter and responseBodyFilter run on hits too', async (w) => {
  w.routes.set('/filtered', (_req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end('lower'));
  const port = await proxyFor(w, memoryCache(), {
    responseFilter: (_s, res) => {
      res.insertHeader('X-Seen', 'yes');
      res.removeHeader('Content-Length');
    },
    responseBodyFilter: (_s, chunk) => {
      if (chunk.data !== null) chunk.data = Buffer.from(chunk.data.toString().toUpperCase());
    },
  });
  await request(port, { path: '/filtered' });
  const hit = await request(port, { path: '/filtered' });
  assert.is(hit.headers['x-seen'], 'yes');
  assert.is(hit.body.toString(), 'LOWER');
  assert.is(w.origin.count('/filtered'), 1);
});

test('HTTP/2 downstream (h2c): hits, HEAD, 304 and ranges from cache as on HTTP/1.1', async (w) => {
  w.routes.set('/h2', (_req, res, n) => res.writeHead(200, { 'Cache-Control': 'max-age=60', ETag: '"h2"' }).end(`over h2, fetch ${n}`));
  const p = await startProxy(cachingProxy(() => w.origin.port, memoryCache()), { h2c: true });
  w.proxies.push(p);
  const client = h2Client(p.port);
  try {
    const first = await h2Request(client, { ':path': '/h2' });
    assert.is(first.headers[':status'], 200);
    const hit = await h2Request(client, { ':path': '/h2' });
    assert.is(hit.body.toString(), 'over h2, fetch 1');
    assert.ok(hit.headers.age !== undefined);
    const head = await h2Request(client, { ':path': '/h2', ':method': 'HEAD' });
    assert.is(head.headers['content-length'], '16');
    assert.is(head.body.length, 0);
    assert.is((await h2Request(client, { ':path': '/h2', 'if-none-match': '"h2"' })).headers[':status'], 304);
    const range = await h2Request(client, { ':path': '/h2', range: 'bytes=0-1' });
    assert.is(range.headers[':status'], 206);
    assert.is(range.body.toString(), 'ov');
    assert.is(w.origin.count('/h2'), 1);
  } finally {
    client.close();
  }
});

test('a hit is sent whole: exact bytes and headers over h1 and h2, one DATA frame with END_STREAM on h2', async (w) => {
  // Bodies the origin writes in several pieces: a small one (stored merged, sent whole) and one past
  // the merge bound (sent piece by piece); every byte value, so any re-encoding shows.
  const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255));
  const bodies = new Map([['/whole-small', pattern(3000)], ['/whole-large', pattern(200_000)]]);
  for (const [path, body] of bodies) {
    w.routes.set(path, (_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'application/octet-stream', ETag: '"w"', 'X-Origin-Field': 'kept', 'Content-Length': String(body.length) });
      let at = 0;
      const next = (): void => {
        if (at >= body.length) return void res.end();
        const piece = body.subarray(at, (at += 1000 + (at % 7000)));
        res.write(piece, () => setImmediate(next)); // separate writes: separate pieces in storage
      };
      next();
    });
  }
  const cache = memoryCache();
  const p = await startProxy(cachingProxy(() => w.origin.port, cache), { h2c: true });
  w.proxies.push(p);
  const client = h2Client(p.port);
  try {
    for (const [path, body] of bodies) {
      const miss = await request(p.port, { path });
      assert.ok(miss.body.equals(body), `${path}: the miss`);
      const hit = await request(p.port, { path });
      assert.ok(hit.body.equals(body), `${path}: h1 hit bytes`);
      assert.is(hit.headers['content-length'], String(body.length));
      assert.is(hit.headers['content-type'], 'application/octet-stream');
      assert.is(hit.headers.etag, '"w"');
      assert.is(hit.headers['x-origin-field'], 'kept');
      assert.ok(hit.headers.age !== undefined);
      const h2 = await h2Request(client, { ':path': path });
      assert.is(h2.headers[':status'], 200);
      assert.ok(h2.body.equals(body), `${path}: h2 hit bytes`);
      assert.is(h2.headers['content-length'], String(body.length));
      assert.is(h2.headers['content-type'], 'application/octet-stream');
      assert.is(h2.headers.etag, '"w"');
      assert.is(h2.headers['x-origin-field'], 'kept');
      assert.is(w.origin.count(path), 1, `${path}: every hit from storage`);
    }
    // A Range merges the large entry into one piece: its next hits go whole too, past the client's
    // 65535-byte flow-control window on h2.
    const large = bodies.get('/whole-large')!;
    assert.ok((await request(p.port, { path: '/whole-large', headers: { range: 'bytes=0-9' } })).body.equals(large.subarray(0, 10)));
    assert.ok((await h2Request(client, { ':path': '/whole-large' })).body.equals(large), 'h2, one piece past the window');
    assert.ok((await request(p.port, { path: '/whole-large' })).body.equals(large), 'h1, one piece');
    // nghttp prints each frame: the small hit is HEADERS then one DATA frame carrying END_STREAM
    // (a piece-by-piece send ends with an empty DATA frame instead).
    const out = await new Promise<string>((resolve, reject) =>
      execFile('nghttp', ['-nv', `http://127.0.0.1:${p.port}/whole-small`], { timeout: 10_000 }, (e, stdout) => (e ? reject(e) : resolve(stdout))),
    );
    const data = [...out.matchAll(/recv DATA frame <length=(\d+), flags=(0x[0-9a-f]+), stream_id=\d+>/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.equal(data, ['3000 0x01'], 'one DATA frame, END_STREAM set');
    assert.is(w.origin.count('/whole-small'), 1);
  } finally {
    client.close();
  }
});

test('a request without a cache costs nothing and is proxied as usual', async (w) => {
  w.routes.set('/plain', (_req, res, n) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(`plain ${n}`));
  const port = await proxyFor(w, memoryCache(), { requestCacheFilter: () => undefined });
  await request(port, { path: '/plain' });
  assert.is((await request(port, { path: '/plain' })).body.toString(), 'plain 2');
});

test('requestCacheFilter without cacheKeyCallback is a typed configuration error', () => {
  const cache = memoryCache();
  try {
    new HttpProxy({ newCtx: () => null, upstreamPeer: () => { throw new Error('unused'); }, requestCacheFilter: () => cache });
    assert.unreachable('constructed');
  } catch (e) {
    assert.instance(e, SluiceError);
    assert.is((e as SluiceError).code, 'ERR_PROXY_CACHE_KEY_CALLBACK_MISSING');
  }
});

test.run();
