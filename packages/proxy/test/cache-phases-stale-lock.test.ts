// The cache phases when timing matters: stale-while-revalidate (served stale, refreshed in the
// background), stale-if-error (5xx and a dead origin), the cache lock (one upstream request for
// concurrent misses, followers served as the fill arrives, waiters giving up after the timeout),
// the predictor, the size limit, and the body tee'd into storage while it streams downstream.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request as httpRequest } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { TinyUfo } from '@sluice/cache';
import { CacheLock, HttpCache, MemoryStorage, Predictor, type MemoryEntry, type ProxyHttp } from '../src/index.js';
import { request, startProxy, startRawOrigin, type RunningProxy } from './helpers/net.js';
import { cachingProxy, memoryCache, startRoutedOrigin, sleep, type CountingOrigin, type RouteHandler } from './helpers/cache.js';

interface World {
  origin: CountingOrigin;
  routes: Map<string, RouteHandler>;
  proxies: RunningProxy[];
}

const test = suite<World>('cache phases: stale, lock, predictor, streaming');
test.before(async (w) => {
  w.proxies = [];
  Object.assign(w, await startRoutedOrigin());
});
test.after(async (w) => {
  for (const p of w.proxies) await p.close();
  await w.origin.close();
});

async function proxyFor(w: World, cache: HttpCache, extra: Partial<ProxyHttp<null>> = {}, port?: () => number): Promise<RunningProxy> {
  const p = await startProxy(cachingProxy(port ?? (() => w.origin.port), cache, extra));
  w.proxies.push(p);
  return p;
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

test('stale-while-revalidate: the stale response is served at once and refreshed in the background', async (w) => {
  let release: (() => void) | undefined;
  w.routes.set('/swr', (_req, res, n) => {
    const send = () => res.writeHead(200, { 'Cache-Control': 'max-age=1, stale-while-revalidate=60' }).end(`v${n}`);
    if (n === 2) release = send; // the refresh waits until the stale answer was seen
    else send();
  });
  const cache = memoryCache();
  const { port } = await proxyFor(w, cache);
  await request(port, { path: '/swr' });
  await sleep(1100);
  const stale = await request(port, { path: '/swr' });
  assert.is(stale.body.toString(), 'v1', 'served while the refresh is still waiting for the origin');
  await until(() => release !== undefined);
  const meanwhile = await request(port, { path: '/swr' });
  assert.is(meanwhile.body.toString(), 'v1');
  assert.is(w.origin.count('/swr'), 2, 'one refresh for both stale requests');
  release!();
  await until(() => cache.stats.stored === 2);
  assert.is((await request(port, { path: '/swr' })).body.toString(), 'v2');
  assert.is(cache.stats.stale, 2);
});

test('a background refresh answered 101 by the origin fails as ERR_PROXY_UNSOLICITED_101 (it asked for no upgrade); the stale entry stays', async (w) => {
  // The first request is answered with a cacheable response; the refresh (a GET with no Upgrade)
  // gets a 101 no client asked for: a subrequest has no connection to switch.
  let switched = 0;
  let switchedClosed = 0;
  const origin = await startRawOrigin((socket, n) => {
    if (n === 0 && origin.connections === 1) socket.write('HTTP/1.1 200 OK\r\nCache-Control: max-age=1, stale-while-revalidate=60\r\nContent-Length: 2\r\n\r\nv1');
    else {
      switched++;
      socket.once('close', () => switchedClosed++);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    }
  });
  const logged: Array<{ code: string | undefined; status: number }> = [];
  try {
    const cache = memoryCache();
    const { port } = await proxyFor(w, cache, { logging: (session, error) => void logged.push({ code: error?.code, status: session.responseStatus }) }, () => origin.port);
    assert.is((await request(port, { path: '/refresh-101' })).body.toString(), 'v1');
    await sleep(1100);
    assert.is((await request(port, { path: '/refresh-101' })).body.toString(), 'v1', 'served stale while refreshing');
    await until(() => logged.length === 3);
    const refresh = logged.find((l) => l.code !== undefined);
    assert.is(refresh?.code, 'ERR_PROXY_UNSOLICITED_101', JSON.stringify(logged));
    assert.is(cache.stats.stored, 1, 'nothing replaced the entry');
    await until(() => switchedClosed === switched, 2000).catch(() => assert.unreachable(`${switched - switchedClosed} switched upstream connection(s) left open`));
    assert.is((await request(port, { path: '/refresh-101' })).body.toString(), 'v1');
  } finally {
    await origin.close();
  }
});

test('stale-if-error: a 5xx or a dead origin during revalidation serves the stale response; must-revalidate forbids it', async (w) => {
  let down = false;
  w.routes.set('/sie', (_req, res, n) => {
    if (n === 1) return res.writeHead(200, { 'Cache-Control': 'max-age=1, stale-if-error=60' }).end('kept');
    res.writeHead(503).end('origin trouble');
  });
  w.routes.set('/sie-mr', (_req, res, n) => {
    if (n === 1) return res.writeHead(200, { 'Cache-Control': 'max-age=1, stale-if-error=60, must-revalidate' }).end('kept');
    res.writeHead(503).end('origin trouble');
  });
  const cache = memoryCache();
  const { port } = await proxyFor(w, cache, {}, () => (down ? 1 : w.origin.port));
  await request(port, { path: '/sie' });
  await request(port, { path: '/sie-mr' });
  await sleep(1100);
  const on5xx = await request(port, { path: '/sie' });
  assert.is(on5xx.status, 200);
  assert.is(on5xx.body.toString(), 'kept');
  const forbidden = await request(port, { path: '/sie-mr' });
  assert.is(forbidden.status, 503);
  down = true; // port 1: connection refused
  const onRefused = await request(port, { path: '/sie' });
  assert.is(onRefused.status, 200);
  assert.is(onRefused.body.toString(), 'kept');
  assert.is((await request(port, { path: '/sie-mr' })).status, 502);
  assert.is(cache.stats.stale, 2);
});

test('cache lock: concurrent misses make one upstream request; the others follow the fill', async (w) => {
  w.routes.set('/herd', (_req, res) => {
    // The head comes late, so every other request is waiting on the lock when the fill is published.
    setTimeout(() => {
      res.writeHead(200, { 'Cache-Control': 'max-age=60' });
      res.write('first half, ');
      setTimeout(() => res.end('second half'), 150);
    }, 200);
  });
  const cache = memoryCache({ lock: new CacheLock({ timeoutMs: 5000 }) });
  const { port } = await proxyFor(w, cache);
  const replies = await Promise.all(Array.from({ length: 6 }, () => request(port, { path: '/herd', agent: false })));
  for (const r of replies) assert.is(r.body.toString(), 'first half, second half');
  assert.is(w.origin.count('/herd'), 1);
  assert.is(cache.stats.lockWaits, 5);
});

test('cache lock: waiters go upstream themselves after the lock timeout', async (w) => {
  w.routes.set('/slow', (_req, res, n) => {
    setTimeout(() => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end(`slow ${n}`), n === 1 ? 600 : 0);
  });
  const cache = memoryCache({ lock: new CacheLock({ timeoutMs: 100 }) });
  const { port } = await proxyFor(w, cache);
  const first = request(port, { path: '/slow', agent: false });
  await until(() => w.origin.count('/slow') === 1);
  const waiter = await request(port, { path: '/slow', agent: false });
  assert.is(waiter.body.toString(), 'slow 2', 'gave up waiting and fetched itself');
  assert.is((await first).body.toString(), 'slow 1');
  assert.is(cache.stats.lockWaits, 1);
});

test('cache lock: an uncacheable response releases the waiters to go upstream', async (w) => {
  w.routes.set('/private', (_req, res, n) => setTimeout(() => res.writeHead(200, { 'Cache-Control': 'private' }).end(`p${n}`), 100));
  const cache = memoryCache({ lock: new CacheLock({ timeoutMs: 5000 }) });
  const { port } = await proxyFor(w, cache);
  const replies = await Promise.all(Array.from({ length: 3 }, () => request(port, { path: '/private', agent: false })));
  assert.equal(replies.map((r) => r.body.toString()).sort(), ['p1', 'p2', 'p3']);
  assert.is(w.origin.count('/private'), 3);
});

test('predictor: a key found uncacheable skips the cache next time, and learns when it turns cacheable', async (w) => {
  let cacheable = false;
  w.routes.set('/predict', (_req, res, n) => res.writeHead(200, { 'Cache-Control': cacheable ? 'max-age=60' : 'no-store' }).end(`r${n}`));
  const predictor = new Predictor();
  const cache = memoryCache({ predictor, lock: new CacheLock() });
  const { port } = await proxyFor(w, cache);
  await request(port, { path: '/predict' });
  assert.is(predictor.size, 1);
  await request(port, { path: '/predict' });
  assert.is(cache.stats.bypass, 1);
  cacheable = true;
  await request(port, { path: '/predict' }); // bypassed, but the cacheable answer is learnt
  assert.is(predictor.size, 0);
  await request(port, { path: '/predict' }); // miss, stored
  assert.is((await request(port, { path: '/predict' })).body.toString(), 'r4');
  assert.is(w.origin.count('/predict'), 4);
});

test('max cacheable size: a larger body is not stored and reaches the client whole', async (w) => {
  const big = Buffer.alloc(300_000, 'x');
  w.routes.set('/big', (_req, res) => {
    res.writeHead(200, { 'Cache-Control': 'max-age=60' }); // chunked: the size is only known while it streams
    res.write(big.subarray(0, 100_000));
    res.end(big.subarray(100_000));
  });
  w.routes.set('/big-cl', (_req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Length': String(big.length) }).end(big));
  const cache = new HttpCache({ storage: new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(8 << 20, 100), maxObjectBytes: 64 * 1024 }), rules: { maxFileSizeBytes: 64 * 1024 } });
  const { port } = await proxyFor(w, cache);
  for (const path of ['/big', '/big-cl']) {
    const a = await request(port, { path });
    assert.is(a.body.length, big.length);
    const b = await request(port, { path });
    assert.is(b.body.length, big.length);
    assert.is(w.origin.count(path), 2);
  }
  assert.is(cache.stats.stored, 0);
  assert.is(cache.stats.uncacheable, 4);
});

test('the body is tee\'d into storage as it streams: the client has the first bytes before the origin ends', async (w) => {
  let finish: (() => void) | undefined;
  w.routes.set('/stream', (_req, res) => {
    res.writeHead(200, { 'Cache-Control': 'max-age=60' });
    res.write('head-of-body;');
    finish = () => res.end('tail');
  });
  const cache = memoryCache();
  const { port } = await proxyFor(w, cache);
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/stream' }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d;
        if (text === 'head-of-body;') finish!(); // the origin ends only once the first bytes arrived
      });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.is(body, 'head-of-body;tail');
  await until(() => cache.stats.stored === 1);
  assert.is((await request(port, { path: '/stream' })).body.toString(), 'head-of-body;tail');
  assert.is(w.origin.count('/stream'), 1);
});

test('an upstream that dies mid-body leaves nothing stored and the client an incomplete response', async (w) => {
  w.routes.set('/dies', (_req, res, n) => {
    res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Length': '100' });
    res.write('partial');
    if (n === 1) setTimeout(() => res.destroy(), 50);
    else res.end('x'.repeat(93));
  });
  const cache = memoryCache({ lock: new CacheLock() });
  const { port } = await proxyFor(w, cache);
  const failed = await request(port, { path: '/dies' }).then(() => 'complete', () => 'aborted');
  assert.is(failed, 'aborted');
  const next = await request(port, { path: '/dies' });
  assert.is(next.body.length, 100);
  assert.is(w.origin.count('/dies'), 2);
  assert.is(cache.lock!.size, 0, 'the lock was released');
});

test('a WebSocket upgrade is neither answered from storage nor held by the lock', async (w) => {
  w.routes.set('/ws', (_req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end('plain page'));
  const wss = new WebSocketServer({ server: w.origin.server });
  wss.on('connection', (socket) => socket.on('message', (m) => socket.send(`echo ${String(m)}`)));
  try {
    const cache = memoryCache({ lock: new CacheLock({ timeoutMs: 5000 }) });
    const { port } = await proxyFor(w, cache);
    assert.is((await request(port, { path: '/ws' })).body.toString(), 'plain page'); // stored
    const echo = (text: string) => new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('open', () => ws.send(text));
      ws.on('message', (m) => {
        resolve(String(m));
        ws.close();
      });
      ws.on('error', reject);
    });
    assert.equal(await Promise.all([echo('a'), echo('b')]), ['echo a', 'echo b']);
    assert.is(cache.stats.bypass, 2, 'neither looked up nor locked');
    assert.is(cache.lock!.size, 0);
  } finally {
    wss.close();
  }
});

test.run();
