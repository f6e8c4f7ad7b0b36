// RFC 9111 §3: whether a response may be stored, and which of its fields must not be.
import type { RequestHeader, ResponseHeader } from '@sluice/core';
import { parseCacheControl, type CacheControl } from './cache-control.js';
import { HEURISTICALLY_CACHEABLE_STATUSES, hasExplicitFreshness } from './freshness.js';
import { varyFields } from './vary.js';
import { responseCacheControl, type TargetedOptions } from './targeted-cache-control.js';

/** Why a response is not stored (Pingora's NoCacheReason, in RFC terms). */
export type UncacheableReason =
  | 'method'
  | 'request-no-store'
  | 'status'
  | 'partial-content'
  | 'no-store'
  | 'private'
  | 'authorization'
  | 'must-understand'
  | 'no-freshness'
  | 'vary-star'
  | 'set-cookie'
  | 'too-large';

/** A response that may be stored. */
export interface Cacheable {
  cacheable: true;
  /** Lower-case names of fields to remove before storing (RFC 9111 §3.1, private= and no-cache= lists). */
  stripFields: string[];
  /** The directives this cache obeys (Cache-Control, or a targeted field), for freshness. */
  cacheControl: CacheControl;
}

/** A response that must not be stored, and why. */
export interface Uncacheable {
  cacheable: false;
  reason: UncacheableReason;
  /** A sentence for logs and the cache-status field. */
  detail: string;
}

/** What to do with a response carrying Set-Cookie. */
export type SetCookiePolicy =
  /** Do not store it (default: a cookie meant for one client must never reach another). */
  | 'uncacheable'
  /** Store it without the Set-Cookie fields. */
  | 'strip'
  /** Store it as it is (RFC 9111 allows this; only for origins known to send shared cookies). */
  | 'store';

/** Cacheability rules. */
export interface CacheabilityOptions extends TargetedOptions {
  /** A shared cache (default true): private responses and Authorization rules apply (§3.5). */
  shared?: boolean;
  /** Request methods whose responses are stored. Default GET (HEAD is answered from GET entries). */
  methods?: ReadonlySet<string>;
  /** Default 'uncacheable'. */
  setCookie?: SetCookiePolicy;
  /** Responses whose Content-Length exceeds this are not stored. Default 64 MiB. */
  maxFileSizeBytes?: number;
  /**
   * Whether the operator gives this status a default TTL (see `FreshnessOptions.defaultTtlMs`):
   * a response without explicit freshness is then storable. Default: none.
   */
  defaultTtlMs?: (status: number) => number;
}

const DEFAULT_METHODS: ReadonlySet<string> = new Set(['GET']);
const DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024;
// RFC 9111 §3.1: never stored, whatever the response says.
const ALWAYS_STRIPPED = ['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authentication-info', 'proxy-authorization'];
// RFC 9110 §15: status codes this cache understands (for must-understand, RFC 9111 §5.2.2.3).
const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 400, 403, 404, 405, 410, 414, 451, 501]);

function uncacheable(reason: UncacheableReason, detail: string): Uncacheable {
  return { cacheable: false, reason, detail };
}

/**
 * Decides whether `resp`, answering `req`, may be stored (RFC 9111 §3): the method is cacheable, the
 * status final and not 206 (partial bodies are not stored), no no-store on either side (unless
 * must-understand with an understood status, §5.2.2.3), no private in a shared cache, Authorization
 * only with public / must-revalidate / s-maxage (§3.5), no Vary: *, the Set-Cookie policy, the size
 * limit, and some freshness: explicit, heuristic (status or public) or an operator default TTL.
 */
export function responseCacheable(req: RequestHeader, resp: ResponseHeader, options: CacheabilityOptions = {}): Cacheable | Uncacheable {
  const shared = options.shared ?? true;
  if (!(options.methods ?? DEFAULT_METHODS).has(req.method)) return uncacheable('method', `${req.method} responses are not stored`);
  const requestCc = parseCacheControl(req.headers.getAll('cache-control'));
  if (requestCc.noStore) return uncacheable('request-no-store', 'the request has Cache-Control: no-store (RFC 9111 §5.2.1.5)');
  const status = resp.status;
  if (status < 200 || status === 304) return uncacheable('status', `status ${status} is not a storable final response`);
  if (status === 206) return uncacheable('partial-content', 'partial responses (206) are not stored; ranges are served from full entries');
  const cc = responseCacheControl(resp, options);
  if (cc.mustUnderstand) {
    // §5.2.2.3: store only when the status is understood, and then no-store is overridden.
    if (!UNDERSTOOD_STATUSES.has(status)) return uncacheable('must-understand', `must-understand with status ${status}, which this cache does not understand`);
  } else if (cc.noStore) {
    return uncacheable('no-store', 'the response has Cache-Control: no-store (RFC 9111 §5.2.2.5)');
  }
  if (shared && cc.private && cc.privateFields === undefined) return uncacheable('private', 'Cache-Control: private responses are not stored in a shared cache (RFC 9111 §5.2.2.7)');
  if (shared && req.headers.has('authorization') && !cc.public && !cc.mustRevalidate && cc.sMaxAge === undefined) {
    return uncacheable('authorization', 'a response to a request with Authorization needs public, must-revalidate or s-maxage to be stored (RFC 9111 §3.5)');
  }
  if (varyFields(resp) === '*') return uncacheable('vary-star', 'Vary: * never matches a later request (RFC 9111 §4.1)');
  const setCookie = options.setCookie ?? 'uncacheable';
  const hasSetCookie = resp.headers.has('set-cookie');
  if (hasSetCookie && setCookie === 'uncacheable') return uncacheable('set-cookie', 'responses with Set-Cookie are not stored (setCookie policy)');
  const contentLength = resp.headers.get('content-length');
  const maxSize = options.maxFileSizeBytes ?? DEFAULT_MAX_FILE_SIZE;
  if (contentLength !== undefined && Number(contentLength) > maxSize) {
    return uncacheable('too-large', `Content-Length ${contentLength} exceeds maxFileSizeBytes ${maxSize}`);
  }
  const freshnessKnown = hasExplicitFreshness(resp, cc, shared) || cc.public || HEURISTICALLY_CACHEABLE_STATUSES.has(status) ||
    (!shared && cc.private) || (options.defaultTtlMs !== undefined && options.defaultTtlMs(status) > 0);
  if (!freshnessKnown) return uncacheable('no-freshness', `status ${status} without explicit freshness is not stored (RFC 9111 §3)`);
  return { cacheable: true, stripFields: fieldsToStrip(resp, cc, shared, hasSetCookie && setCookie === 'strip'), cacheControl: cc };
}

/**
 * The lower-case names of the fields a cache removes before storing (RFC 9111 §3.1): hop-by-hop
 * fields and those named by Connection, the fields of private="…" (shared caches, §5.2.2.7) and of
 * no-cache="…" (§5.2.2.4: they may not be reused without revalidation; removing them is the simple
 * way to comply), and Set-Cookie when the policy strips it.
 */
export function fieldsToStrip(resp: ResponseHeader, cc: CacheControl, shared: boolean, stripSetCookie: boolean): string[] {
  const out = ALWAYS_STRIPPED.slice();
  for (const line of resp.headers.getAll('connection')) {
    for (const part of line.split(',')) {
      const name = part.trim().toLowerCase();
      if (name.length > 0 && !out.includes(name)) out.push(name);
    }
  }
  if (shared && cc.privateFields !== undefined) for (const name of cc.privateFields) if (!out.includes(name)) out.push(name);
  if (cc.noCacheFields !== undefined) for (const name of cc.noCacheFields) if (!out.includes(name)) out.push(name);
  if (stripSetCookie && !out.includes('set-cookie')) out.push('set-cookie');
  return out;
}

/** Removes `fields` (lower-case names) from a response about to be stored; returns how many lines went. */
export function stripFields(resp: ResponseHeader, fields: readonly string[]): number {
  let removed = 0;
  for (let i = 0; i < fields.length; i++) removed += resp.headers.delete(fields[i]);
  return removed;
}
