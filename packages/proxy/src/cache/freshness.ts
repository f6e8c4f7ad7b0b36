// RFC 9111 §4.2: how long a stored response stays fresh, how old it is, and when a stale one may
// still be served (RFC 9111 §4.2.4, RFC 5861).
import type { ResponseHeader } from '@sluice/core';
import type { CacheControl } from './cache-control.js';
import { deltaSeconds } from './cache-control.js';
import { parseHttpDate } from './http-date.js';
import type { TargetedOptions } from './targeted-cache-control.js';

/**
 * RFC 9110 §15.1: status codes a cache may store without explicit freshness, using heuristic
 * freshness (RFC 9111 §4.2.2).
 */
export const HEURISTICALLY_CACHEABLE_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** How freshness is computed. */
export interface FreshnessOptions extends TargetedOptions {
  /** A shared cache (a proxy) honours s-maxage and proxy-revalidate. Default true. */
  shared?: boolean;
  /**
   * The fraction of (Date − Last-Modified) used as heuristic freshness (RFC 9111 §4.2.2 suggests
   * 10%). Default 0.1; 0 turns heuristic freshness off.
   */
  heuristicFraction?: number;
  /** The most heuristic freshness a response gets. Default 86 400 000 ms (one day). */
  heuristicMaxMs?: number;
  /**
   * Freshness for a response without explicit freshness or Last-Modified, by status: the operator's
   * default TTL (Pingora's CacheMetaDefaults). Return 0 for none. Default: none for every status.
   */
  defaultTtlMs?: (status: number) => number;
  /** How a malformed Age is read (see `AgeParsing`). Default 'strict'. */
  ageParsing?: AgeParsing;
}

const DEFAULT_HEURISTIC_MAX_MS = 86_400_000;

/**
 * The freshness lifetime of a response in milliseconds (RFC 9111 §4.2.1): s-maxage (shared caches),
 * then max-age, then Expires − Date, then heuristic freshness from Last-Modified (only for the
 * statuses of `HEURISTICALLY_CACHEABLE_STATUSES` or with `public`, §4.2.2), then the default TTL for
 * the status. 0 when the response is stale on arrival.
 * @param responseTimeMs when the response was received, used in place of a missing Date.
 */
export function freshnessLifetimeMs(resp: ResponseHeader, cc: CacheControl, responseTimeMs: number, options: FreshnessOptions = {}): number {
  const shared = options.shared ?? true;
  // RFC 9111 §5.2.2.4: no-cache (unqualified) means every reuse needs revalidation.
  if (cc.noCache && cc.noCacheFields === undefined) return 0;
  if (shared && cc.sMaxAge !== undefined) return cc.sMaxAge * 1000;
  if (cc.maxAge !== undefined) return cc.maxAge * 1000;
  // RFC 9213 §2.2: a targeted field replaces Cache-Control and Expires alike.
  const expiresLines = cc.targeted ? [] : resp.headers.getAll('expires');
  const dateMs = dateValueMs(resp, responseTimeMs);
  if (expiresLines.length > 0) {
    // RFC 9111 §5.3: an invalid Expires (e.g. "0") is a time in the past; §4.2.1: disagreeing
    // duplicates may be treated as stale.
    const expires = parseHttpDate(expiresLines[0]);
    for (let i = 1; i < expiresLines.length; i++) if (parseHttpDate(expiresLines[i]) !== expires) return 0;
    if (Number.isNaN(expires)) return 0;
    return Math.max(0, expires - dateMs);
  }
  if (HEURISTICALLY_CACHEABLE_STATUSES.has(resp.status) || cc.public) {
    const fraction = options.heuristicFraction ?? 0.1;
    const lastModified = parseHttpDate(resp.headers.get('last-modified'));
    if (fraction > 0 && !Number.isNaN(lastModified) && lastModified < dateMs) {
      return Math.min(Math.floor((dateMs - lastModified) * fraction), options.heuristicMaxMs ?? DEFAULT_HEURISTIC_MAX_MS);
    }
  }
  return options.defaultTtlMs === undefined ? 0 : Math.max(0, options.defaultTtlMs(resp.status));
}

/** Whether the response carries explicit freshness (RFC 9111 §4.2.1): max-age, s-maxage (shared) or Expires. */
export function hasExplicitFreshness(resp: ResponseHeader, cc: CacheControl, shared = true): boolean {
  return cc.maxAge !== undefined || (shared && cc.sMaxAge !== undefined) || (!cc.targeted && resp.headers.has('expires'));
}

/** The Date of a response in ms, or `responseTimeMs` when missing or invalid (RFC 9110 §6.6.1). */
export function dateValueMs(resp: ResponseHeader, responseTimeMs: number): number {
  const date = parseHttpDate(resp.headers.get('date'));
  return Number.isNaN(date) ? responseTimeMs : date;
}

/** How a malformed Age field is read. */
export type AgeParsing =
  /**
   * Anything but one line holding one delta-seconds (a list, a second line, a sign, a fraction, a
   * parameter) makes the response stale: the most restrictive reading, and what http-cache-tests
   * requires. The default.
   */
  | 'strict'
  /** RFC 9111 §5.1 literally: the first member of a list is used; an invalid value is ignored. */
  | 'first-member';

// A malformed Age under 'strict': as old as delta-seconds can say (RFC 9111 §1.2.2), so stale.
const STALE_AGE_SECONDS = 2147483648;

/**
 * The Age field in seconds (RFC 9111 §5.1); 0 when absent. A malformed value is stale under
 * 'strict' (default), and under 'first-member' the list's first member counts and an invalid one
 * is ignored (0).
 */
export function ageValueSeconds(resp: ResponseHeader, parsing: AgeParsing = 'strict'): number {
  const lines = resp.headers.getAll('age');
  if (lines.length === 0) return 0;
  if (parsing === 'strict') {
    const seconds = lines.length === 1 ? deltaSeconds(lines[0].trim()) : NaN;
    return Number.isNaN(seconds) ? STALE_AGE_SECONDS : seconds;
  }
  const value = lines[0];
  const comma = value.indexOf(',');
  const seconds = deltaSeconds((comma === -1 ? value : value.slice(0, comma)).trim());
  return Number.isNaN(seconds) ? 0 : seconds;
}

/**
 * The age the response had when it was stored (RFC 9111 §4.2.3 corrected_initial_age), in ms:
 * the larger of the apparent age (response time − Date) and Age plus the request's round trip.
 */
export function correctedInitialAgeMs(resp: ResponseHeader, requestTimeMs: number, responseTimeMs: number, parsing: AgeParsing = 'strict'): number {
  const apparentAge = Math.max(0, responseTimeMs - dateValueMs(resp, responseTimeMs));
  const responseDelay = Math.max(0, responseTimeMs - requestTimeMs);
  const correctedAgeValue = ageValueSeconds(resp, parsing) * 1000 + responseDelay;
  return Math.max(apparentAge, correctedAgeValue);
}

/**
 * The current age of a stored response in ms (RFC 9111 §4.2.3): its corrected initial age plus the
 * time it has been stored.
 */
export function currentAgeMs(correctedInitialAge: number, responseTimeMs: number, nowMs: number): number {
  return correctedInitialAge + Math.max(0, nowMs - responseTimeMs);
}

/** The Age field value to send with a response served from cache (RFC 9111 §5.1): whole seconds, at most 2^31 (§1.2.2). */
export function ageFieldValue(ageMs: number): string {
  return String(Math.min(STALE_AGE_SECONDS, Math.floor(Math.max(0, ageMs) / 1000)));
}

/** What a request may be answered with, given a stored response's freshness. */
export type FreshnessVerdict =
  /** Fresh enough for this request: serve it. */
  | 'fresh'
  /** Must be revalidated (or refetched) before use. */
  | 'stale';

/**
 * Whether a stored response may answer this request without contacting the origin, honouring the
 * request's own directives (RFC 9111 §5.2.1): no-cache and max-age=0 force revalidation, max-age
 * caps the age, min-fresh demands remaining freshness, max-stale accepts staleness unless the
 * response forbids serving stale (§4.2.4).
 */
export function freshnessVerdict(lifetimeMs: number, ageMs: number, responseCc: CacheControl, requestCc: CacheControl, shared = true): FreshnessVerdict {
  if (requestCc.noCache) return 'stale';
  if (responseCc.noCache && responseCc.noCacheFields === undefined) return 'stale';
  if (requestCc.maxAge !== undefined && ageMs > requestCc.maxAge * 1000) return 'stale';
  if (requestCc.minFresh !== undefined && lifetimeMs - ageMs < requestCc.minFresh * 1000) return 'stale';
  if (lifetimeMs > ageMs) return 'fresh';
  // max-stale: the client accepts a stale response unless the origin forbade it (§5.2.2.2).
  if (requestCc.maxStale !== undefined && !staleForbidden(responseCc, shared) && ageMs - lifetimeMs <= requestCc.maxStale * 1000) {
    return 'fresh';
  }
  return 'stale';
}

/**
 * Whether the response forbids serving it stale in any case (RFC 9111 §4.2.4): must-revalidate,
 * unqualified no-cache, and in a shared cache proxy-revalidate or s-maxage (§5.2.2.10).
 */
export function staleForbidden(cc: CacheControl, shared = true): boolean {
  if (cc.mustRevalidate) return true;
  if (cc.noCache && cc.noCacheFields === undefined) return true;
  return shared && (cc.proxyRevalidate || cc.sMaxAge !== undefined);
}

/** Why a stale response would be served. */
export type StaleReason =
  /** Served while a background refresh runs (stale-while-revalidate, RFC 5861 §3). */
  | 'revalidating'
  /** Served because the origin failed: an error, a timeout or a 5xx (stale-if-error, RFC 5861 §4). */
  | 'error';

/** Limits for serving stale responses. */
export interface ServeStaleOptions {
  shared?: boolean;
  /**
   * How long past its freshness a response may be served when the origin fails and no directive
   * says so (RFC 9111 §4.2.4 allows it when disconnected). Default 0: only with stale-if-error.
   */
  defaultStaleIfErrorMs?: number;
  /** The same for stale-while-revalidate. Default 0. */
  defaultStaleWhileRevalidateMs?: number;
}

/**
 * Whether a stale response may be served for `reason`, `stalenessMs` past its freshness lifetime:
 * never when the response forbids it (must-revalidate, proxy-revalidate, s-maxage, no-cache); else
 * within the response's stale-while-revalidate / stale-if-error window (for errors the request's
 * stale-if-error, when present, replaces the response's, RFC 5861 §4).
 */
export function mayServeStale(reason: StaleReason, stalenessMs: number, responseCc: CacheControl, requestCc: CacheControl | undefined, options: ServeStaleOptions = {}): boolean {
  if (staleForbidden(responseCc, options.shared ?? true)) return false;
  if (requestCc !== undefined && requestCc.noCache) return false;
  let windowSeconds: number | undefined;
  if (reason === 'revalidating') {
    windowSeconds = responseCc.staleWhileRevalidate;
    if (windowSeconds === undefined) return stalenessMs <= (options.defaultStaleWhileRevalidateMs ?? 0) && (options.defaultStaleWhileRevalidateMs ?? 0) > 0;
  } else {
    windowSeconds = requestCc?.staleIfError ?? responseCc.staleIfError;
    if (windowSeconds === undefined) return stalenessMs <= (options.defaultStaleIfErrorMs ?? 0) && (options.defaultStaleIfErrorMs ?? 0) > 0;
  }
  return stalenessMs <= windowSeconds * 1000;
}
