// A caching reverse proxy on ProxyHttp's cache phases: every GET and HEAD may be answered from an
// in-memory cache (TinyUFO, 256 MiB) as far as the origin's headers allow (RFC 9111: Cache-Control,
// Expires, Vary, validators; no TTL of our own), concurrent misses of one URL make one upstream
// request, unsafe requests invalidate what they touch, and PURGE from loopback removes a URL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, ResponseHeader, type PeerOptions } from '@sluice/core';
import { TinyUfo } from '@sluice/cache';
import { CacheKey, CacheLock, HttpCache, MemoryStorage, Predictor, primaryFromRequest, type MemoryEntry, type ProxyHttp, type Session } from '@sluice/proxy';

const PEER_OPTIONS: PeerOptions = { connectionTimeoutMs: 1000, totalConnectionTimeoutMs: 2000, readTimeoutMs: 30_000, idleTimeoutMs: 60_000 };

/** Where the cache's statistics are answered (JSON), by the proxy itself. */
export const STATS_PATH = '/.sluice/cache-stats';

/** The cache of the example: 256 MiB of memory, a lock against herds, a predictor of uncacheable URLs. */
export function exampleCache(): HttpCache {
  return new HttpCache({
    storage: new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(256 * 1024 * 1024, 100_000) }),
    lock: new CacheLock({ timeoutMs: 3000 }),
    predictor: new Predictor(),
    cacheStatus: 'sluice', // every response says what the cache did (RFC 9211 Cache-Status)
    // When the origin fails or drops the connection, a stale copy up to a minute past its freshness
    // is served (Varnish's grace; RFC 9111 §4.2.4 allows stale when disconnected), never where the
    // response forbids it (must-revalidate, proxy-revalidate, s-maxage, no-cache).
    rules: { defaultStaleIfErrorMs: 60_000 },
  });
}

export class CachingProxy implements ProxyHttp<null> {
  readonly peer: HttpPeer;
  readonly cache: HttpCache;

  constructor(upstream: string, cache: HttpCache = exampleCache()) {
    this.peer = new HttpPeer(upstream, false, '', PEER_OPTIONS);
    this.cache = cache;
  }

  newCtx(): null {
    return null;
  }

  upstreamPeer(): HttpPeer {
    return this.peer;
  }

  async requestFilter(session: Session): Promise<boolean> {
    if (session.request.uri !== STATS_PATH) return false;
    const body = Buffer.from(JSON.stringify(this.cache.metrics()) + '\n');
    const res = ResponseHeader.build(200);
    res.insertHeader('Content-Type', 'application/json');
    res.insertHeader('Content-Length', body.length);
    res.insertHeader('Cache-Control', 'no-store');
    await session.writeResponseHeader(res);
    await session.writeResponseBody(body, true);
    return true;
  }

  requestCacheFilter(): HttpCache {
    return this.cache;
  }

  cacheKeyCallback(session: Session): CacheKey {
    return new CacheKey('', primaryFromRequest(session.request, this.peer.addressText));
  }

  /** PURGE is honoured from this machine only. */
  isPurge(session: Session): boolean {
    if (session.request.method !== 'PURGE') return false;
    const host = session.clientAddr()?.address;
    return host === '127.0.0.1' || host === '::1' || host === '::ffff:127.0.0.1';
  }
}

/** A stand-in origin: `/` fresh for 10 s, `/swr` fresh for 2 s then served stale while refreshed, `/private` never stored. */
export async function startOrigin(): Promise<{ server: Server; address: string }> {
  let served = 0;
  const server = createServer((req, res) => {
    served++;
    const stamp = `origin response #${served} at ${new Date().toISOString()} (${req.method} ${req.url})\n`;
    res.setHeader('Content-Type', 'text/plain');
    if (req.url === '/swr') res.setHeader('Cache-Control', 'max-age=2, stale-while-revalidate=30');
    else if (req.url === '/private') res.setHeader('Cache-Control', 'no-store');
    else res.setHeader('Cache-Control', 'max-age=10');
    res.end(stamp);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}
