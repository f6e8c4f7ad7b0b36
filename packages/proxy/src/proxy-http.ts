import type { Digest, HeaderMap, HttpPeer, RequestHeader, ResponseHeader, SluiceError } from '@sluice/core';
import type { Session } from './session.js';
import type { HttpCache } from './http-cache.js';
import type { CacheKey } from './cache/cache-key.js';
import type { Cacheable, Uncacheable } from './cache/cacheability.js';
import type { CacheMeta } from './cache/storage.js';

/** A phase's result: the value itself, or a Promise of it when the phase must wait. */
export type Phase<T> = T | Promise<T>;

/**
 * A piece of body passing through a body filter (Pingora's `&mut Option<Bytes>`): set `data` to
 * replace it, to null to drop it. At the end of a body `data` may be null and a filter may set it to
 * add bytes last. One object per request, reused for every chunk.
 */
export interface BodyChunk {
  data: Buffer | null;
}

/**
 * What `cacheHitFilter` decides about a stored response: `'miss'` ignores it (fetch and store anew),
 * `'expire'` treats it as stale (revalidate), `'fresh'` serves it as fresh whatever its age.
 */
export type CacheHitOverride = 'miss' | 'expire' | 'fresh';

/**
 * How a purge request went (Pingora's PurgeStatus): something was removed (answered 200), nothing
 * was stored under the key (404), or the cache is not enabled for the request (405).
 */
export type PurgeStatus = 'found' | 'not-found' | 'no-cache';

/**
 * The programmable proxy (Pingora's `ProxyHttp`). Only {@link ProxyHttp.newCtx} and
 * {@link ProxyHttp.upstreamPeer} are required; every other phase has Pingora's default. Phases run in
 * the order of ARCHITECTURE.md's request lifecycle; each may return a value or a Promise, and the
 * proxy awaits only Promises.
 */
export interface ProxyHttp<Ctx> {
  /** A fresh per-request state, handed to every phase of that request. */
  newCtx(): Ctx;

  /** The upstream to send this request to. Called again (with the same ctx) for each retry. */
  upstreamPeer(session: Session, ctx: Ctx): Phase<HttpPeer>;

  /** First phase, before anything else (for module-like setup such as access control lists). */
  earlyRequestFilter?(session: Session, ctx: Ctx): Phase<void>;

  /**
   * Inspects or rewrites the request. Return `true` when the filter answered the request itself
   * (for example with {@link Session.respondError} or {@link Session.writeResponseHeader}); the
   * proxy then goes straight to logging.
   */
  requestFilter?(session: Session, ctx: Ctx): Phase<boolean | void>;

  /** Sees each piece of request body on its way upstream; may replace it through `chunk.data`. */
  requestBodyFilter?(session: Session, chunk: BodyChunk, endOfStream: boolean, ctx: Ctx): Phase<void>;

  /**
   * Enables HTTP caching for this request (Pingora's `request_cache_filter`): return the
   * {@link HttpCache} to use, or nothing to proxy without a cache (the default). Runs after
   * `requestFilter`; with a cache, `cacheKeyCallback` is required.
   */
  requestCacheFilter?(session: Session, ctx: Ctx): Phase<HttpCache | undefined | void>;

  /**
   * The key this request's response is stored under, e.g. `new CacheKey('', primaryFromRequest(req))`.
   * Required when `requestCacheFilter` is implemented: there is no silent default key.
   */
  cacheKeyCallback?(session: Session, ctx: Ctx): Phase<CacheKey>;

  /**
   * A stored response was found; `isFresh` is its RFC 9111 verdict for this request. Return
   * `'miss'`, `'expire'` or `'fresh'` to override it, or nothing to keep it.
   */
  cacheHitFilter?(session: Session, meta: CacheMeta, isFresh: boolean, ctx: Ctx): Phase<CacheHitOverride | void>;

  /** Nothing usable was stored: the request goes upstream (to be stored if cacheable). */
  cacheMiss?(session: Session, ctx: Ctx): void;

  /**
   * Whether the upstream's response may be stored, as received (before `responseFilter`). Default:
   * `responseCacheable(request, response, cache.rules)` (RFC 9111 §3).
   */
  responseCacheFilter?(session: Session, response: ResponseHeader, ctx: Ctx): Phase<Cacheable | Uncacheable>;

  /**
   * The secondary key (variance) of a response about to be stored, for `request`. Default:
   * `varianceKey(meta.varyFields, request)` from its Vary (RFC 9111 §4.1); undefined stores one variant.
   */
  cacheVaryFilter?(meta: CacheMeta, ctx: Ctx, request: RequestHeader): string | undefined;

  /**
   * Whether a response served from cache should be answered 304 Not Modified for this request's
   * conditionals. `response` is the stored response about to be served. Default: RFC 9110 §13.2.2
   * evaluation of If-None-Match / If-Modified-Since (and If-Match / If-Unmodified-Since, 412).
   */
  cacheNotModifiedFilter?(session: Session, response: ResponseHeader, ctx: Ctx): Phase<boolean>;

  /**
   * Whether to serve a stale response the rules allow: while it is revalidated in the background
   * (`error` undefined, stale-while-revalidate) or because going upstream failed (stale-if-error).
   * Default: true, for upstream errors only when `error` is set.
   */
  shouldServeStale?(session: Session, ctx: Ctx, error: SluiceError | undefined): boolean;

  /** Whether this request is a purge of its cache key (default false). */
  isPurge?(session: Session, ctx: Ctx): boolean;

  /** Rewrites the answer to a purge (status 200, 404 or 405 by `status`) before it is sent. */
  purgeResponseFilter?(session: Session, ctx: Ctx, status: PurgeStatus, response: ResponseHeader): Phase<void>;

  /** Whether to go upstream at all (default true); false answers 502 unless a response was written. */
  proxyUpstreamFilter?(session: Session, ctx: Ctx): Phase<boolean>;

  /** A connection to `peer` is ready; `reused` says it came from the pool. */
  connectedToUpstream?(session: Session, reused: boolean, peer: HttpPeer, digest: Digest, ctx: Ctx): Phase<void>;

  /**
   * Connecting to `peer` failed. Return the error (usually the same one); mark it retryable with
   * `e.setRetry(true)` to have {@link ProxyHttp.upstreamPeer} pick again, up to `max_retries` times.
   */
  failToConnect?(session: Session, peer: HttpPeer, ctx: Ctx, error: SluiceError): SluiceError;

  /** Rewrites the request about to go upstream (a copy; the downstream request stays as received). */
  upstreamRequestFilter?(session: Session, upstreamRequest: RequestHeader, ctx: Ctx): Phase<void>;

  /** Sees the upstream's response head before anything else (caching would see it as received). */
  upstreamResponseFilter?(session: Session, upstreamResponse: ResponseHeader, ctx: Ctx): Phase<void>;

  /** Rewrites the response head about to go downstream. Remove Content-Length if you change the body. */
  responseFilter?(session: Session, upstreamResponse: ResponseHeader, ctx: Ctx): Phase<void>;

  /** Sees each piece of the upstream's response body (before caching would store it). Synchronous. */
  upstreamResponseBodyFilter?(session: Session, chunk: BodyChunk, endOfStream: boolean, ctx: Ctx): void;

  /** The upstream's response trailers (HTTP/1.1 chunked trailers or HTTP/2 trailers, e.g. gRPC's status). Synchronous. */
  upstreamResponseTrailerFilter?(session: Session, trailers: HeaderMap, ctx: Ctx): void;

  /**
   * Sees each piece of response body on its way downstream; may replace it through `chunk.data`.
   * Return a number of milliseconds to wait before sending it (throttling), or nothing.
   */
  responseBodyFilter?(session: Session, chunk: BodyChunk, endOfStream: boolean, ctx: Ctx): Phase<number | void>;

  /** The trailers about to go downstream. */
  responseTrailerFilter?(session: Session, trailers: HeaderMap, ctx: Ctx): Phase<void>;

  /**
   * An error while proxying on an established upstream connection. Return the error; its retry mark
   * decides whether the request is tried again (errors on reused connections are marked
   * `ReusedOnly` already, so they retry once on a fresh connection).
   */
  errorWhileProxy?(peer: HttpPeer, session: Session, error: SluiceError, ctx: Ctx, clientReused: boolean): SluiceError;

  /**
   * The request failed; return the status to answer with when no response head went out yet
   * (default: the error's own HTTP status, 504 for an upstream read timeout, 502 for other upstream
   * errors, 400 for downstream errors, 500 for internal ones). Return 0 to answer nothing.
   */
  failToProxy?(session: Session, error: SluiceError, ctx: Ctx): Phase<number>;

  /** Return true to keep `error` out of the error log. */
  suppressErrorLog?(session: Session, ctx: Ctx, error: SluiceError): boolean;

  /** One line describing the request for error logs (default: method, target, Host). */
  requestSummary?(session: Session, ctx: Ctx): string;

  /** Always the last phase of a request, with the error that ended it, if any. */
  logging?(session: Session, error: SluiceError | undefined, ctx: Ctx): Phase<void>;
}
