// A caching proxy in front of a counting origin, for the cache-phase tests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TinyUfo } from '@sluice/cache';
import { CacheKey, HttpCache, MemoryStorage, primaryFromRequest, type HttpCacheOptions, type MemoryEntry, type ProxyHttp } from '../../src/index.js';
import { peerOf, startOrigin, type Origin } from './net.js';

/** An origin that counts the requests it got, per path, and remembers their heads. */
export interface CountingOrigin extends Origin {
  count(path: string): number;
  /** The request heads it got, in order. */
  seen: IncomingMessage[];
}

export async function startCountingOrigin(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<CountingOrigin> {
  const counts = new Map<string, number>();
  const seen: IncomingMessage[] = [];
  const origin = await startOrigin((req, res) => {
    const path = req.url ?? '/';
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    seen.push(req);
    req.resume();
    handler(req, res, n);
  });
  return Object.assign(origin, { count: (path: string) => counts.get(path) ?? 0, seen });
}

/** A MemoryStorage-backed cache (32 MiB) with `options` added. */
export function memoryCache(options: Partial<HttpCacheOptions> = {}): HttpCache {
  const storage = new MemoryStorage({ cache: new TinyUfo<string, MemoryEntry>(32 * 1024 * 1024, 1000) });
  return new HttpCache({ storage, ...options });
}

/** A proxy caching every request in `cache`, keyed by host + path, forwarding to `port()`. */
export function cachingProxy<Ctx = null>(port: () => number, cache: HttpCache, extra: Partial<ProxyHttp<Ctx>> = {}): ProxyHttp<Ctx> {
  return {
    newCtx: () => null as Ctx,
    upstreamPeer: () => peerOf(port()),
    requestCacheFilter: () => cache,
    cacheKeyCallback: (session) => new CacheKey('', primaryFromRequest(session.request)),
    ...extra,
  };
}

/** A handler of one path of a routed origin; `n` counts that path's requests from 1. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A counting origin that answers each path by its handler in `routes` (404 for the others). */
export async function startRoutedOrigin(): Promise<{ origin: CountingOrigin; routes: Map<string, RouteHandler> }> {
  const routes = new Map<string, RouteHandler>();
  const origin = await startCountingOrigin((req, res, n) => {
    const handler = routes.get(req.url ?? '/');
    if (handler === undefined) return void res.writeHead(404).end();
    handler(req, res, n);
  });
  return { origin, routes };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
