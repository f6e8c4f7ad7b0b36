// The cache phases of the proxy (Pingora's proxy_cache.rs beside proxy_h1.rs): for a request whose
// `requestCacheFilter` returned an HttpCache, look the key up, serve fresh hits (HEAD, conditionals,
// ranges), revalidate stale entries upstream with their validators, merge 304s, serve stale while
// revalidating or when the origin fails, hold concurrent misses behind the cache lock, and tee the
// upstream's response body into storage as it streams downstream. The engine (http-proxy.ts) calls
// four hooks: `start` before going upstream, `upstreamRequest` on the request sent, `responseArrived`
// on the response head, `finish` when the request is over.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResponseHeader, SluiceError, toSluiceError } from '@sluice/core';
import type { RequestHeader } from '@sluice/core';
import { CacheKey } from './cache/cache-key.js';
import type { WritePermit } from './cache/cache-lock.js';
import { fieldsToStrip, responseCacheable, stripFields, type Cacheable, type Uncacheable } from './cache/cacheability.js';
import { createCacheMeta, entryState, refreshedCacheMeta, requestDirectives, responseForHit, type EntryState } from './cache/cache-meta.js';
import { addRevalidationHeaders, evaluatePreconditions, ifRangeAllows, notModifiedMatches } from './cache/conditional.js';
import { currentAgeMs, mayServeStale } from './cache/freshness.js';
import { invalidationTargets } from './cache/invalidation.js';
import { contentRange, multipartByteranges, parseRange, rangeView, unsatisfiedContentRange } from './cache/range.js';
import type { CacheHit, CacheMeta, MissHandler } from './cache/storage.js';
import type { StreamingBody } from './cache/streaming-body.js';
import { responseCacheControl, surrogateCapability } from './cache/targeted-cache-control.js';
import { varianceKey } from './cache/vary.js';
import type { HttpCache } from './http-cache.js';
import type { BodyChunk, ProxyHttp, PurgeStatus } from './proxy-http.js';
import type { DownstreamSession } from './session.js';
import { SubrequestSession } from './subrequest-session.js';
import { ignore, isThenable } from './thenable.js';
import { downstreamWrite } from './downstream-write.js';

const CACHED_WRITE = 'writing a cached response downstream';

/** What the cache phases need from the proxy engine. */
export interface CacheHost {
  /** Runs a request through every phase (the background refresh is one). */
  processRequest(session: DownstreamSession): Promise<number>;
}

/** The part of an upstream exchange the cache reads when it answers instead of forwarding. */
export interface UpstreamBody {
  readBodyChunk(): Promise<Buffer | null>;
}

/** `responseArrived`'s answer when the cache served the request itself (a 304 merged, a stale response). */
export const SERVED_FROM_CACHE = true;

// What a cached request does upstream.
const MISS = 0; // nothing usable stored: fetch, store if cacheable
const REVALIDATE = 1; // a stale entry: conditional request with its validators
const BYPASS = 2; // method or predictor: no lookup, no lock; an unsafe method invalidates (RFC 9111 §4.4)

// RFC 9110 §15.4.5: the fields a 304 carries from the response it stands for (and Cache-Status, RFC 9211).
const NOT_MODIFIED_FIELDS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified', 'age', 'cache-status'];
// A client's own conditionals and Range do not go into a refresh the cache makes for itself.
const CLIENT_CONDITIONALS = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'range'];
// How often a request looks up again after a lock it waited on ended (a writer that stored a variant for others).
const MAX_LOCK_ROUNDS = 3;
// A complete stored body in several pieces up to this size is merged into one (once, kept by the
// entry) so a hit sends it whole; a larger one goes piece by piece rather than be copied.
const MERGE_MAX_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** The state of one cached request, from `start` to `finish`. */
class CacheRequest {
  readonly cache: HttpCache;
  key: CacheKey;
  mode = MISS;
  /** The stale entry being revalidated. */
  stale: CacheHit | undefined;
  staleState: EntryState | undefined;
  permit: WritePermit | undefined;
  fill: CacheFill | undefined;
  requestTimeMs = 0;
  /** Why it goes upstream, as RFC 9211's `fwd` parameter says it. */
  forward = 'uri-miss';
  /** A stale-while-revalidate refresh: never served stale, never waits on the lock. */
  readonly background: boolean;

  constructor(cache: HttpCache, key: CacheKey, background: boolean) {
    this.cache = cache;
    this.key = key;
    this.background = background;
  }

  releaseLock(status: 'done' | 'transient-error' | 'give-up'): void {
    if (this.permit === undefined) return;
    this.permit.release(status);
    this.permit = undefined;
  }
}

/**
 * The response body on its way into storage, written by the engine as each piece goes downstream
 * (after `upstreamResponseBodyFilter`, before `responseBodyFilter`). A storage refusal (too large)
 * ends the fill, never the response.
 */
export class CacheFill {
  private readonly request: CacheRequest;
  private writer: MissHandler | undefined;
  // The variant being written and its meta, for the eviction manager's admission.
  private readonly key: CacheKey;
  private readonly meta: CacheMeta;
  private bodyBytes = 0;
  // A storage whose writes return Promises is written in order, without holding the response back.
  private pending: Promise<void> | undefined;

  /** @internal */
  constructor(request: CacheRequest, writer: MissHandler, key: CacheKey, meta: CacheMeta) {
    this.request = request;
    this.writer = writer;
    this.key = key;
    this.meta = meta;
  }

  /** Whether the fill is still going (neither finished, refused nor aborted). */
  get active(): boolean {
    return this.writer !== undefined;
  }

  /** Stores a piece of body (`data` may be null); `end` completes the entry. */
  body(data: Buffer | null, end: boolean): void {
    if (this.writer === undefined) return;
    if (data !== null && data.length > 0) {
      if (this.pending !== undefined) {
        const piece = data;
        this.pending = this.pending.then(() => this.write(piece));
      } else this.write(data);
    }
    if (end) {
      if (this.pending !== undefined) this.pending = this.pending.then(() => this.complete());
      else this.complete();
    }
  }

  /** Abandons the entry (the upstream failed or the client left before the end). */
  abort(reason: string): void {
    const writer = this.writer;
    if (writer === undefined) return;
    this.writer = undefined;
    writer.abort(reason);
    this.request.releaseLock('transient-error');
  }

  private write(data: Buffer): void {
    const writer = this.writer;
    if (writer === undefined) return;
    this.bodyBytes += data.length;
    try {
      const w = writer.write(data);
      if (isThenable(w)) this.pending = Promise.resolve(w).catch((e: unknown) => this.refused(e));
    } catch (e) {
      this.refused(e);
    }
  }

  // Storage refused the body (ERR_CACHE_TOO_LARGE or its own failure): the response goes on uncached.
  private refused(e: unknown): void {
    const writer = this.writer;
    if (writer === undefined) return;
    this.writer = undefined;
    writer.abort(e instanceof Error ? e.message : String(e));
    const r = this.request;
    r.cache.stats.uncacheable++;
    if ((e as { code?: unknown } | null)?.code === 'ERR_CACHE_TOO_LARGE') r.cache.predictor?.markUncacheable(r.key, 'too-large');
    r.releaseLock('give-up');
  }

  private complete(): void {
    const writer = this.writer;
    if (writer === undefined) return;
    this.writer = undefined;
    const r = this.request;
    const settle = (stored: boolean) => {
      if (stored) {
        r.cache.stats.stored++;
        if (r.cache.eviction !== undefined) admit(r.cache, this.key, this.meta, this.bodyBytes);
      }
      r.releaseLock('done');
    };
    try {
      const done = writer.finish();
      if (isThenable(done)) Promise.resolve(done).then(settle, () => r.releaseLock('transient-error'));
      else settle(done);
    } catch {
      r.releaseLock('transient-error');
    }
  }
}

/** What an entry weighs for the eviction manager: its body and its stored fields. */
function entryBytes(meta: CacheMeta, bodyBytes: number): number {
  const headers = meta.response.headers;
  let bytes = bodyBytes;
  for (let i = 0; i < headers.size; i++) bytes += headers.nameAt(i).length + headers.valueAt(i).length + 4;
  return bytes;
}

/** When the entry stops being fresh (ms since epoch), for the eviction manager. */
function freshUntilMs(meta: CacheMeta): number {
  return meta.responseTimeMs - meta.correctedInitialAgeMs + meta.freshnessLifetimeMs;
}

/** Tells the eviction manager about a stored entry and drops the entries it evicts to make room. */
function admit(cache: HttpCache, key: CacheKey, meta: CacheMeta, bodyBytes: number): void {
  const victims = cache.eviction!.admit(key, entryBytes(meta, bodyBytes), freshUntilMs(meta));
  for (let i = 0; i < victims.length; i++) {
    const removed = cache.storage.purge(victims[i], 'variant');
    if (isThenable(removed)) Promise.resolve(removed).catch(ignore);
  }
  cache.stats.evicted += victims.length;
}

/** A 304 for `res` (RFC 9110 §15.4.5): the status and the fields that describe the representation. */
function notModifiedResponse(res: ResponseHeader): ResponseHeader {
  const out = ResponseHeader.build(304);
  for (let i = 0; i < NOT_MODIFIED_FIELDS.length; i++) {
    const values = res.headers.getAll(NOT_MODIFIED_FIELDS[i]);
    for (let v = 0; v < values.length; v++) out.headers.append(NOT_MODIFIED_FIELDS[i], values[v]);
  }
  return out;
}

/** Appends this cache's member to `Cache-Status` (RFC 9211: each cache adds its own, nearest the client last). */
function addCacheStatus(cache: HttpCache, res: ResponseHeader, params: string): void {
  if (cache.cacheStatus !== undefined) res.headers.append('Cache-Status', `${cache.cacheStatus}; ${params}`);
}

function emptyResponse(status: number, contentRangeValue?: string): ResponseHeader {
  const out = ResponseHeader.build(status);
  if (contentRangeValue !== undefined) out.headers.appendUnchecked('Content-Range', contentRangeValue);
  out.headers.appendUnchecked('Content-Length', '0');
  return out;
}

/** The cache phases of one proxy. Created by `HttpProxy` when its `ProxyHttp` has `requestCacheFilter`. */
export class ProxyCache<Ctx> {
  private readonly proxy: ProxyHttp<Ctx>;
  private readonly host: CacheHost;
  private readonly requests = new WeakMap<DownstreamSession, CacheRequest>();
  private readonly backgroundSessions = new WeakSet<DownstreamSession>();

  /** @throws SluiceError `ERR_PROXY_CACHE_KEY_CALLBACK_MISSING` when caching can be enabled without a key callback. */
  constructor(proxy: ProxyHttp<Ctx>, host: CacheHost) {
    if (proxy.cacheKeyCallback === undefined) {
      throw new SluiceError('ConfigError', { code: 'ERR_PROXY_CACHE_KEY_CALLBACK_MISSING', context: 'requestCacheFilter is implemented but cacheKeyCallback is not: a cached request needs a key, and there is no default' });
    }
    this.proxy = proxy;
    this.host = host;
  }

  /**
   * The cache phases before going upstream. Returns true when the request was answered (a hit, a
   * purge, a stale response, 504 for only-if-cached); false when it goes upstream. Synchronous
   * `false` when `requestCacheFilter` answers synchronously without a cache.
   */
  start(session: DownstreamSession, ctx: Ctx): boolean | Promise<boolean> {
    const enabled = this.proxy.requestCacheFilter!(session, ctx);
    if (isThenable(enabled)) return Promise.resolve(enabled).then((cache) => this.enabled(session, ctx, cache ?? undefined));
    if (enabled == null && this.proxy.isPurge === undefined) return false;
    return this.enabled(session, ctx, enabled ?? undefined);
  }

  private async enabled(session: DownstreamSession, ctx: Ctx, cache: HttpCache | undefined): Promise<boolean> {
    const proxy = this.proxy;
    if (cache === undefined) {
      if (proxy.isPurge?.(session, ctx) !== true) return false;
      await this.answerPurge(session, ctx, 'no-cache');
      return true;
    }
    let key = proxy.cacheKeyCallback!(session, ctx);
    if (isThenable(key)) key = await key;
    if (proxy.isPurge?.(session, ctx) === true) {
      let found = cache.storage.purge(key, 'all');
      if (isThenable(found)) found = await found;
      if (found) cache.stats.purged++;
      cache.eviction?.remove(key, 'all');
      await this.answerPurge(session, ctx, found ? 'found' : 'not-found');
      return true;
    }
    const background = this.backgroundSessions.has(session);
    const r = new CacheRequest(cache, key, background);
    this.requests.set(session, r);
    const req = session.request;
    const method = req.method;
    // A protocol switch (WebSocket) is never answered from storage nor stored.
    if ((method !== 'GET' && method !== 'HEAD') || session.isUpgradeRequest || (cache.predictor !== undefined && !cache.predictor.cacheablePrediction(key))) {
      r.mode = BYPASS;
      r.forward = method !== 'GET' && method !== 'HEAD' ? 'method' : 'bypass';
      cache.stats.bypass++;
      return false;
    }
    for (let round = 0; ; round++) {
      let hit = await this.lookup(r, req, ctx);
      if (hit !== undefined) {
        const state = entryState(hit.meta, req, Date.now(), cache.rules);
        let fresh = state.verdict === 'fresh';
        if (proxy.cacheHitFilter !== undefined) {
          let override = proxy.cacheHitFilter(session, hit.meta, fresh, ctx);
          if (isThenable(override)) override = await override;
          if (override === 'miss') hit = undefined;
          else if (override === 'expire') fresh = false;
          else if (override === 'fresh') fresh = true;
        }
        if (hit !== undefined && fresh) {
          if (background) return this.answerNothing(session); // refreshed meanwhile
          cache.stats.hits++;
          // An entry stored before the manager knew it (or under another manager) is admitted now.
          if (cache.eviction !== undefined && hit.body.isComplete && !cache.eviction.access(r.key, entryBytes(hit.meta, hit.body.length), freshUntilMs(hit.meta))) {
            admit(cache, r.key, hit.meta, hit.body.length);
          }
          await this.serve(session, ctx, r, hit.meta, hit.body, 'hit');
          return true;
        }
        if (hit !== undefined && !fresh) {
          if (!background && this.staleAllowed(session, ctx, cache, state, undefined, 'revalidating')) {
            cache.stats.stale++;
            this.refreshInBackground(session, r);
            await this.serve(session, ctx, r, hit.meta, hit.body, 'hit');
            return true;
          }
          r.mode = REVALIDATE;
          r.forward = 'stale';
          r.stale = hit;
          r.staleState = state;
        }
      }
      if (r.mode === MISS && requestDirectives(req).onlyIfCached) {
        // RFC 9111 §5.2.1.7: nothing stored that may be used, and the client forbids going upstream.
        cache.stats.misses++;
        await this.send(session, ctx, emptyResponse(504), null);
        return true;
      }
      if (round === 0) {
        if (r.mode === MISS) {
          cache.stats.misses++;
          proxy.cacheMiss?.(session, ctx);
        } else cache.stats.revalidations++;
      }
      // Only GETs fill the cache, so only they take the lock; a refresh never waits for another fill.
      if (cache.lock === undefined || method !== 'GET') return false;
      const lock = cache.lock.lock(r.key);
      if (lock.isWrite) {
        r.permit = lock;
        return false;
      }
      if (background) return this.answerNothing(session);
      cache.stats.lockWaits++;
      let outcome = lock.wait();
      if (isThenable(outcome)) outcome = await outcome;
      if (outcome.status === 'filling') {
        const meta = outcome.hit.meta;
        const variance = this.varies(meta) ? this.variance(meta, ctx, req) : undefined;
        if (variance === meta.variance) {
          await this.serve(session, ctx, r, meta, outcome.hit.body, `fwd=${r.forward}; collapsed`);
          return true;
        }
        return false; // another variant was fetched: this one goes upstream itself
      }
      if ((outcome.status !== 'done' && outcome.status !== 'transient-error') || round + 1 >= MAX_LOCK_ROUNDS) return false;
      r.mode = MISS;
      r.stale = undefined;
    }
  }

  /**
   * The request going upstream for a cached request: `Surrogate-Capability` announces this cache
   * (Edge Architecture §3); a revalidation carries the stored validators instead of the client's
   * conditionals (RFC 9111 §4.3.1) and no Range, so that a 200 can replace the entry.
   */
  upstreamRequest(session: DownstreamSession, req: RequestHeader): void {
    const r = this.requests.get(session);
    if (r === undefined) return;
    r.requestTimeMs = Date.now();
    req.headers.set('Surrogate-Capability', surrogateCapability(r.cache.rules.deviceToken));
    if (r.mode === REVALIDATE) {
      req.headers.delete('range');
      addRevalidationHeaders(req, r.stale!.meta.response);
    }
  }

  /**
   * The upstream's response head, after `upstreamResponseFilter` and hop-by-hop removal. Returns
   * `SERVED_FROM_CACHE` when the cache answered instead (304 merged into the stale entry, or a stale
   * response for a 5xx under stale-if-error; the upstream body was read off), the fill to tee the
   * body into, or undefined to forward without storing.
   */
  responseArrived(session: DownstreamSession, ctx: Ctx, res: ResponseHeader, upstream: UpstreamBody): undefined | CacheFill | typeof SERVED_FROM_CACHE | Promise<undefined | CacheFill | typeof SERVED_FROM_CACHE> {
    const r = this.requests.get(session);
    if (r === undefined) return undefined;
    if (r.mode === BYPASS) {
      this.invalidate(session, r, res);
      if (r.cache.predictor === undefined || session.request.method !== 'GET') {
        addCacheStatus(r.cache, res, `fwd=${r.forward}; fwd-status=${res.status}`);
        return undefined;
      }
    }
    return this.arrived(session, ctx, r, res, upstream);
  }

  private async arrived(session: DownstreamSession, ctx: Ctx, r: CacheRequest, res: ResponseHeader, upstream: UpstreamBody): Promise<undefined | CacheFill | typeof SERVED_FROM_CACHE> {
    const proxy = this.proxy;
    const cache = r.cache;
    const responseTimeMs = Date.now();
    if (r.mode === REVALIDATE) {
      const stale = r.stale!;
      // RFC 9111 §4.3.5: a 200 to a HEAD freshens the stored GET response it describes, as a 304 does.
      const headFreshens = res.status === 200 && session.request.method === 'HEAD' && describesSameBody(stale.meta.response, res);
      if (res.status === 304 || headFreshens) {
        let meta = stale.meta;
        // RFC 9111 §4.3.4: a 304 for another representation must not update the stored one.
        if (headFreshens || notModifiedMatches(meta.response, res)) {
          // Fields the cache would not have stored (Set-Cookie by policy, private="…") are not merged in either.
          const rules = cache.rules;
          const skip = fieldsToStrip(res, responseCacheControl(meta.response, rules), rules.shared ?? true, (rules.setCookie ?? 'uncacheable') !== 'store');
          meta = refreshedCacheMeta(meta, res, { requestTimeMs: r.requestTimeMs, responseTimeMs }, rules, skip);
          let updated = cache.storage.updateMeta(r.key.withVariance(meta.variance), meta);
          if (isThenable(updated)) updated = await updated;
          cache.stats.revalidated++;
        }
        r.releaseLock('done');
        await drain(upstream);
        await this.serve(session, ctx, r, meta, stale.body, `fwd=stale; fwd-status=${res.status}`);
        return SERVED_FROM_CACHE;
      }
      if (res.status >= 500 && this.staleAllowed(session, ctx, cache, r.staleState!, SluiceError.explain('HTTPStatus', `the origin answered ${res.status}`, { status: res.status }).intoUp(), 'error')) {
        r.releaseLock('transient-error');
        await drain(upstream);
        cache.stats.stale++;
        await this.serve(session, ctx, r, stale.meta, stale.body, `hit; fwd=stale; fwd-status=${res.status}`);
        return SERVED_FROM_CACHE;
      }
    }
    let verdict: Cacheable | Uncacheable;
    if (proxy.responseCacheFilter !== undefined) {
      const v = proxy.responseCacheFilter(session, res, ctx);
      verdict = isThenable(v) ? await v : v;
    } else verdict = responseCacheable(session.request, res, cache.rules);
    if (!verdict.cacheable) {
      cache.stats.uncacheable++;
      // A 304 or 206 answers the client's own conditional or Range, and Authorization is the
      // request's: none says the resource is uncacheable for the next request.
      if (res.status !== 304 && res.status !== 206 && verdict.reason !== 'authorization') cache.predictor?.markUncacheable(r.key, verdict.reason);
      r.releaseLock('give-up');
      addCacheStatus(cache, res, `fwd=${r.forward}; fwd-status=${res.status}; detail=${verdict.reason}`);
      return undefined;
    }
    cache.predictor?.markCacheable(r.key);
    if (r.mode === BYPASS) {
      addCacheStatus(cache, res, `fwd=bypass; fwd-status=${res.status}`);
      return undefined; // the predictor learnt; this response was not looked up for
    }
    const stored = res.clone();
    stripFields(stored, verdict.stripFields);
    let meta: CacheMeta;
    try {
      meta = createCacheMeta(session.request, stored, { requestTimeMs: r.requestTimeMs, responseTimeMs }, cache.rules);
    } catch {
      // Vary: * judged cacheable by a user's responseCacheFilter: it can never match (RFC 9111 §4.1).
      cache.stats.uncacheable++;
      r.releaseLock('give-up');
      addCacheStatus(cache, res, `fwd=${r.forward}; fwd-status=${res.status}; detail=vary-star`);
      return undefined;
    }
    if (proxy.cacheVaryFilter !== undefined) meta.variance = proxy.cacheVaryFilter(meta, ctx, session.request);
    const key = r.key.withVariance(meta.variance);
    let writer = cache.storage.getMissHandler(key, meta);
    if (isThenable(writer)) writer = await writer;
    if (r.permit !== undefined) {
      // Waiting requests follow this fill instead of waiting for its end.
      let hit = cache.storage.lookup(key);
      if (isThenable(hit)) hit = await hit;
      if (hit !== undefined) r.permit.publish(hit);
    }
    r.fill = new CacheFill(r, writer, key, meta);
    addCacheStatus(cache, res, `fwd=${r.forward}; fwd-status=${res.status}; stored`);
    return r.fill;
  }

  /**
   * A request that failed before its response could be forwarded: serves the stale entry being
   * revalidated when stale-if-error allows it (RFC 5861 §4) and `shouldServeStale` agrees.
   * Resolves with whether it did.
   */
  async serveStaleOnError(session: DownstreamSession, ctx: Ctx, error: SluiceError): Promise<boolean> {
    const r = this.requests.get(session);
    if (r === undefined || r.mode !== REVALIDATE || session.responseWritten || r.background) return false;
    if (!this.staleAllowed(session, ctx, r.cache, r.staleState!, error, 'error')) return false;
    r.releaseLock('transient-error');
    r.cache.stats.stale++;
    try {
      await this.serve(session, ctx, r, r.stale!.meta, r.stale!.body, 'hit; fwd=stale; detail=upstream-error');
    } catch {
      session.abort();
    }
    return true;
  }

  /** The request is over: an unfinished fill is abandoned, a lock still held is released. */
  finish(session: DownstreamSession): void {
    const r = this.requests.get(session);
    if (r === undefined) return;
    this.requests.delete(session);
    if (r.fill !== undefined && r.fill.active) r.fill.abort('the response did not complete');
    r.releaseLock('transient-error');
  }

  // Finds the stored variant for this request: the latest variant tells which fields it varies on.
  private async lookup(r: CacheRequest, req: RequestHeader, ctx: Ctx): Promise<CacheHit | undefined> {
    const storage = r.cache.storage;
    let hit = storage.lookup(r.key);
    if (isThenable(hit)) hit = await hit;
    if (hit !== undefined && this.varies(hit.meta)) {
      const variance = this.variance(hit.meta, ctx, req);
      r.key = r.key.withVariance(variance);
      if (variance !== hit.meta.variance) {
        hit = storage.lookup(r.key);
        if (isThenable(hit)) hit = await hit;
        if (hit === undefined) r.forward = 'vary-miss';
      }
    }
    return hit === undefined || hit.body.isFailed ? undefined : hit;
  }

  // Whether variants are told apart for this stored response: it has Vary, or cacheVaryFilter decides.
  private varies(meta: CacheMeta): boolean {
    return meta.varyFields.length > 0 || this.proxy.cacheVaryFilter !== undefined;
  }

  private variance(meta: CacheMeta, ctx: Ctx, req: RequestHeader): string | undefined {
    return this.proxy.cacheVaryFilter !== undefined ? this.proxy.cacheVaryFilter(meta, ctx, req) : varianceKey(meta.varyFields, req);
  }

  private staleAllowed(session: DownstreamSession, ctx: Ctx, cache: HttpCache, state: EntryState, error: SluiceError | undefined, reason: 'revalidating' | 'error'): boolean {
    if (!mayServeStale(reason, state.stalenessMs, state.responseCacheControl, state.requestCacheControl, cache.rules)) return false;
    if (this.proxy.shouldServeStale !== undefined) return this.proxy.shouldServeStale(session, ctx, error);
    return error === undefined || error.source === 'Upstream';
  }

  // RFC 5861 §3: the stale response is served now, and one request refreshes it through the phases.
  private refreshInBackground(session: DownstreamSession, r: CacheRequest): void {
    const id = r.key.combinedHash();
    const refreshing = r.cache.refreshing;
    if (refreshing.has(id)) return;
    refreshing.add(id);
    const req = session.request.clone();
    req.method = 'GET';
    for (let i = 0; i < CLIENT_CONDITIONALS.length; i++) req.headers.delete(CLIENT_CONDITIONALS[i]);
    const sub = new SubrequestSession(session, req);
    this.backgroundSessions.add(sub);
    void this.host.processRequest(sub).finally(() => refreshing.delete(id));
  }

  private answerNothing(session: DownstreamSession): boolean {
    // A background refresh found the entry fresh, or another request fetching it: nothing to do.
    void session.respondError(204);
    return true;
  }

  // RFC 9111 §4.4: a successful unsafe request invalidates its target (the request's own key) and
  // the same-origin Location / Content-Location (keyed like primaryFromRequest, in the same namespace).
  private invalidate(session: DownstreamSession, r: CacheRequest, res: ResponseHeader): void {
    const targets = invalidationTargets(session.request, res);
    for (let i = 0; i < targets.length; i++) {
      const key = i === 0 ? r.key : new CacheKey(r.key.namespace, targets[i]);
      const removed = r.cache.storage.purge(key, 'all');
      r.cache.eviction?.remove(key, 'all');
      if (isThenable(removed)) void Promise.resolve(removed).then((gone) => { if (gone) r.cache.stats.invalidated++; }, () => {});
      else if (removed) r.cache.stats.invalidated++;
    }
  }

  private async answerPurge(session: DownstreamSession, ctx: Ctx, status: PurgeStatus): Promise<void> {
    const res = emptyResponse(status === 'found' ? 200 : status === 'not-found' ? 404 : 405);
    if (this.proxy.purgeResponseFilter !== undefined) {
      const r = this.proxy.purgeResponseFilter(session, ctx, status, res);
      if (isThenable(r)) await r;
    }
    session.corkResponse();
    const head = session.writeResponseHeader(res);
    if (head) await downstreamWrite(head, CACHED_WRITE);
    const end = session.finishResponse(null);
    if (end) await downstreamWrite(end, CACHED_WRITE);
  }

  /**
   * Answers from a stored response (RFC 9111 §4): Age set, the request's conditionals evaluated
   * (304 / 412), Range served from the stored body (206, multipart/byteranges, 416), HEAD without
   * the body; a body still being filled is followed as it arrives.
   */
  private async serve(session: DownstreamSession, ctx: Ctx, r: CacheRequest, meta: CacheMeta, body: StreamingBody, cacheStatus: string): Promise<void> {
    if (r.background) return this.answerQuietly(session);
    const proxy = this.proxy;
    const req = session.request;
    const now = Date.now();
    const res = responseForHit(meta, now);
    if (r.cache.cacheStatus !== undefined) {
      // RFC 9211 §2.5: ttl is the remaining freshness in seconds, negative when stale.
      const ttl = Math.floor((meta.freshnessLifetimeMs - currentAgeMs(meta.correctedInitialAgeMs, meta.responseTimeMs, now)) / 1000);
      addCacheStatus(r.cache, res, `${cacheStatus}; ttl=${ttl}`);
    }
    if (proxy.cacheNotModifiedFilter !== undefined) {
      let notModified = proxy.cacheNotModifiedFilter(session, res, ctx);
      if (isThenable(notModified)) notModified = await notModified;
      if (notModified) return this.send(session, ctx, notModifiedResponse(res), null);
    } else {
      const outcome = evaluatePreconditions(req, meta.response, meta.responseTimeMs);
      if (outcome === 'not-modified') return this.send(session, ctx, notModifiedResponse(res), null);
      if (outcome === 'precondition-failed') return this.send(session, ctx, emptyResponse(412), null);
    }
    const status = res.status;
    if (req.method === 'GET' && status === 200 && req.headers.has('range') && ifRangeAllows(req, meta.response)) {
      let whole: Buffer;
      try {
        whole = body.isComplete ? body.toBuffer()! : await body.wholeBody();
      } catch (e) {
        throw SluiceError.because('ReadError', 'the cache fill this range was to come from failed', e).intoUp();
      }
      const range = parseRange(req.headers.get('range'), whole.length, r.cache.rules);
      if (range.kind === 'unsatisfiable') return this.send(session, ctx, emptyResponse(416, unsatisfiedContentRange(whole.length)), null);
      if (range.kind === 'satisfiable') {
        res.setStatus(206);
        if (range.ranges.length === 1) {
          const view = rangeView(whole, range.ranges[0]);
          res.headers.set('Content-Range', contentRange(range.ranges[0], whole.length));
          res.headers.set('Content-Length', String(view.length));
          return this.send(session, ctx, res, [view]);
        }
        const multipart = multipartByteranges(whole, range.ranges, meta.response.headers.get('content-type'), randomBytes(12).toString('hex'));
        res.headers.set('Content-Type', multipart.contentType);
        res.headers.set('Content-Length', String(multipart.length));
        return this.send(session, ctx, res, multipart.pieces);
      }
    }
    const bodyAllowed = status !== 204 && status !== 304 && status >= 200;
    if (body.isComplete) {
      if (bodyAllowed) res.headers.set('Content-Length', String(body.length));
      if (req.method === 'HEAD' || !bodyAllowed) return this.send(session, ctx, res, null);
      // Merged once (and kept) when small, so this hit and the next leave whole (see send).
      const pieces = body.pieces();
      return this.send(session, ctx, res, pieces.length > 1 && body.length <= MERGE_MAX_BYTES ? [body.toBuffer()!] : pieces);
    }
    return this.send(session, ctx, res, req.method === 'HEAD' || !bodyAllowed ? null : body);
  }

  // A background refresh has no client: its "answer" is only the end of the request.
  private answerQuietly(session: DownstreamSession): void {
    session.writeResponseHeader(ResponseHeader.build(204));
  }

  /** Sends a response from cache through `responseFilter` and `responseBodyFilter`. */
  private async send(session: DownstreamSession, ctx: Ctx, res: ResponseHeader, body: readonly Buffer[] | StreamingBody | null): Promise<void> {
    const proxy = this.proxy;
    if (proxy.responseFilter !== undefined) {
      const f = proxy.responseFilter(session, res, ctx);
      if (isThenable(f)) await f;
    }
    if (proxy.responseBodyFilter === undefined && session.writeWholeResponse !== undefined && res.headers.has('content-length') && (body === null || (Array.isArray(body) && body.length <= 1))) {
      // The body is here in one piece and nothing filters it: head and body leave together, one call.
      const whole = body === null || body.length === 0 ? EMPTY : (body as readonly Buffer[])[0];
      const w = session.writeWholeResponse(res, whole);
      if (w) await downstreamWrite(w, CACHED_WRITE);
      return;
    }
    session.corkResponse();
    const head = session.writeResponseHeader(res);
    if (head) await downstreamWrite(head, CACHED_WRITE);
    const chunk: BodyChunk | undefined = proxy.responseBodyFilter !== undefined ? { data: null } : undefined;
    if (body !== null) {
      if (Array.isArray(body)) {
        const pieces = body as readonly Buffer[];
        for (let i = 0; i < pieces.length; i++) await this.sendPiece(session, ctx, chunk, pieces[i]);
      } else {
        try {
          for await (const piece of (body as StreamingBody).read()) await this.sendPiece(session, ctx, chunk, piece);
        } catch (e) {
          if (e instanceof SluiceError) throw e;
          // The fill this response followed failed: the client must not see a complete message.
          throw SluiceError.because('ReadError', 'following a cache fill', e).intoUp();
        }
      }
    }
    if (chunk !== undefined) {
      chunk.data = null;
      await this.filterBody(session, ctx, chunk, true);
      if (chunk.data !== null && (chunk.data as Buffer).length > 0) {
        const w = session.writeResponseBody(chunk.data, false);
        if (w) await downstreamWrite(w, CACHED_WRITE);
      }
    }
    const end = session.finishResponse(null);
    if (end) await downstreamWrite(end, CACHED_WRITE);
  }

  private async sendPiece(session: DownstreamSession, ctx: Ctx, chunk: BodyChunk | undefined, piece: Buffer): Promise<void> {
    let data: Buffer | null = piece;
    if (chunk !== undefined) {
      chunk.data = piece;
      await this.filterBody(session, ctx, chunk, false);
      data = chunk.data;
      if (data === null || data.length === 0) return;
    }
    const w = session.writeResponseBody(data, false);
    if (w) await downstreamWrite(w, CACHED_WRITE);
  }

  private async filterBody(session: DownstreamSession, ctx: Ctx, chunk: BodyChunk, end: boolean): Promise<void> {
    let delay = this.proxy.responseBodyFilter!(session, chunk, end, ctx);
    if (isThenable(delay)) delay = await delay;
    if (typeof delay === 'number' && delay > 0) await sleep(delay);
  }
}

/**
 * Whether a 200 to a HEAD describes the stored response (RFC 9111 §4.3.5): its validators match
 * (as a 304's must, §4.3.4), and so does Content-Length when both have one.
 */
function describesSameBody(stored: ResponseHeader, head: ResponseHeader): boolean {
  if (!notModifiedMatches(stored, head)) return false;
  const length = head.headers.get('content-length');
  const storedLength = stored.headers.get('content-length');
  return length === undefined || storedLength === undefined || length.trim() === storedLength.trim();
}

/** Reads an upstream body to its end (the cache answers instead; the connection stays reusable). */
async function drain(upstream: UpstreamBody): Promise<void> {
  while ((await upstream.readBodyChunk()) !== null) {
    // discarded
  }
}
