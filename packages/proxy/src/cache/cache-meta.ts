// The glue between a fetched response and a stored entry: builds the CacheMeta that storage keeps,
// judges a stored entry's freshness for a request, prepares the response served from it, and
// refreshes it after a 304 (RFC 9111 §4, §4.3.4).
import type { RequestHeader, ResponseHeader } from '@sluice/core';
import { parseCacheControl, type CacheControl } from './cache-control.js';
import { mergeNotModified } from './conditional.js';
import { ageFieldValue, correctedInitialAgeMs, currentAgeMs, freshnessLifetimeMs, freshnessVerdict, type FreshnessOptions, type FreshnessVerdict } from './freshness.js';
import type { CacheMeta } from './storage.js';
import { varianceKey, varyFields } from './vary.js';
import { responseCacheControl } from './targeted-cache-control.js';

/** When the exchange that produced a response happened (ms since epoch). */
export interface ExchangeTimes {
  /** When the request went upstream (RFC 9111 §4.2.3 request_time). */
  requestTimeMs: number;
  /** When the response head arrived (response_time). */
  responseTimeMs: number;
}

/**
 * The meta to store for a cacheable response (after `stripFields`): freshness lifetime, corrected
 * initial age, Vary fields and the request's variance. Call `responseCacheable` first: a response
 * with Vary: * has no meta.
 * @throws RangeError for Vary: *.
 */
export function createCacheMeta(req: RequestHeader, resp: ResponseHeader, times: ExchangeTimes, options: FreshnessOptions = {}): CacheMeta {
  const fields = varyFields(resp);
  if (fields === '*') throw new RangeError('createCacheMeta: a response with Vary: * cannot be stored (RFC 9111 §4.1)');
  const cc = responseCacheControl(resp, options);
  return {
    response: resp,
    varyFields: fields,
    variance: varianceKey(fields, req),
    requestTimeMs: times.requestTimeMs,
    responseTimeMs: times.responseTimeMs,
    correctedInitialAgeMs: correctedInitialAgeMs(resp, times.requestTimeMs, times.responseTimeMs, options.ageParsing),
    freshnessLifetimeMs: freshnessLifetimeMs(resp, cc, times.responseTimeMs, options),
  };
}

/** A stored entry judged for one request. */
export interface EntryState {
  verdict: FreshnessVerdict;
  /** The entry's current age, ms (RFC 9111 §4.2.3). */
  ageMs: number;
  /** How far past its freshness lifetime it is, ms (0 while fresh). */
  stalenessMs: number;
  /** The stored response's Cache-Control, for `mayServeStale`. */
  responseCacheControl: CacheControl;
  /** The request's Cache-Control, for `mayServeStale`. */
  requestCacheControl: CacheControl;
}

/** Judges a stored entry for `req` at `nowMs`: fresh enough to serve, or stale (revalidate). */
export function entryState(meta: CacheMeta, req: RequestHeader, nowMs: number, options: FreshnessOptions = {}): EntryState {
  const shared = options.shared ?? true;
  const ageMs = currentAgeMs(meta.correctedInitialAgeMs, meta.responseTimeMs, nowMs);
  const responseCc = responseCacheControl(meta.response, options);
  const requestCc = requestDirectives(req);
  return {
    verdict: freshnessVerdict(meta.freshnessLifetimeMs, ageMs, responseCc, requestCc, shared),
    ageMs,
    stalenessMs: Math.max(0, ageMs - meta.freshnessLifetimeMs),
    responseCacheControl: responseCc,
    requestCacheControl: requestCc,
  };
}

/**
 * The request's Cache-Control; without one, `Pragma: no-cache` counts as `no-cache` (RFC 9111 §5.4).
 */
export function requestDirectives(req: RequestHeader): CacheControl {
  const lines = req.headers.getAll('cache-control');
  const cc = parseCacheControl(lines);
  if (lines.length === 0) {
    for (const line of req.headers.getAll('pragma')) {
      if (/(^|,)\s*no-cache\s*(,|$)/i.test(line)) cc.noCache = true;
    }
  }
  return cc;
}

/**
 * The response head to send for a hit: a copy of the stored one with Age set to the entry's
 * current age (RFC 9111 §5.1: a cache MUST send Age when it serves from storage).
 */
export function responseForHit(meta: CacheMeta, nowMs: number): ResponseHeader {
  const resp = meta.response.clone();
  resp.headers.set('Age', ageFieldValue(currentAgeMs(meta.correctedInitialAgeMs, meta.responseTimeMs, nowMs)));
  return resp;
}

/**
 * The meta after a 304 validated the entry (RFC 9111 §4.3.4): the 304's fields merged into a copy
 * of the stored response (except `skip`, e.g. the cache's strip list), and freshness recomputed
 * from the new exchange's times, as if the stored response had just arrived.
 */
export function refreshedCacheMeta(meta: CacheMeta, notModified: ResponseHeader, times: ExchangeTimes, options: FreshnessOptions = {}, skip: readonly string[] = []): CacheMeta {
  const response = meta.response.clone();
  // A stored Age described the old exchange; the 304's own Age (if any) replaces it via the merge.
  response.headers.delete('age');
  mergeNotModified(response, notModified, skip);
  const cc = responseCacheControl(response, options);
  return {
    response,
    varyFields: meta.varyFields,
    variance: meta.variance,
    requestTimeMs: times.requestTimeMs,
    responseTimeMs: times.responseTimeMs,
    correctedInitialAgeMs: correctedInitialAgeMs(response, times.requestTimeMs, times.responseTimeMs, options.ageParsing),
    freshnessLifetimeMs: freshnessLifetimeMs(response, cc, times.responseTimeMs, options),
  };
}
