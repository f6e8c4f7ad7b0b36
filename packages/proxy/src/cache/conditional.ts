// RFC 9110 §13: conditional requests evaluated against a stored response, and RFC 9111 §4.3: the
// revalidation request a cache sends and how a 304 updates what it stored.
import type { RequestHeader, ResponseHeader } from '@sluice/core';
import { parseHttpDate } from './http-date.js';

/** An entity tag (RFC 9110 §8.8.3). */
export interface EntityTag {
  weak: boolean;
  /** The opaque-tag with its quotes. */
  opaque: string;
}

/** Parses one entity-tag (`"x"` or `W/"x"`); undefined when malformed. */
export function parseEntityTag(value: string | undefined): EntityTag | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const weak = text.startsWith('W/');
  const opaque = weak ? text.slice(2) : text;
  if (opaque.length < 2 || opaque.charCodeAt(0) !== 0x22 || opaque.charCodeAt(opaque.length - 1) !== 0x22) return undefined;
  if (opaque.indexOf('"', 1) !== opaque.length - 1) return undefined;
  return { weak, opaque };
}

/**
 * Parses an If-Match / If-None-Match value: '*' or a list of entity tags. Malformed members are
 * skipped; commas inside an opaque tag are kept (etagc allows them).
 */
export function parseEntityTagList(lines: readonly string[]): '*' | EntityTag[] {
  const tags: EntityTag[] = [];
  for (const line of lines) {
    let i = 0;
    const n = line.length;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x2c) { i++; continue; }
      if (c === 0x2a) return '*';
      const weak = line.startsWith('W/', i);
      const start = weak ? i + 2 : i;
      if (line.charCodeAt(start) !== 0x22) {
        while (i < n && line.charCodeAt(i) !== 0x2c) i++;
        continue;
      }
      const end = line.indexOf('"', start + 1);
      if (end === -1) break;
      tags.push({ weak, opaque: line.slice(start, end + 1) });
      i = end + 1;
    }
  }
  return tags;
}

/** Strong comparison (RFC 9110 §8.8.3.2): both strong and identical. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** Weak comparison: identical opaque tags, whatever their weakness. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/** The outcome of evaluating a request's preconditions against a stored response. */
export type ConditionalOutcome =
  /** No precondition failed: answer normally (honouring Range when `rangeApplies`). */
  | 'proceed'
  /** If-None-Match / If-Modified-Since say the client's copy is current: 304. */
  | 'not-modified'
  /** If-Match / If-Unmodified-Since failed: 412. */
  | 'precondition-failed';

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the order of
 * RFC 9110 §13.2.2 against a stored response. Preconditions only apply when the stored response is
 * 2xx (§13.2.1). If-Modified-Since uses the stored Last-Modified, else its Date, else
 * `storedAtMs` (RFC 9111 §4.3.2).
 */
export function evaluatePreconditions(req: RequestHeader, stored: ResponseHeader, storedAtMs: number): ConditionalOutcome {
  if (stored.status < 200 || stored.status > 299) return 'proceed';
  const getOrHead = req.method === 'GET' || req.method === 'HEAD';
  const etag = parseEntityTag(stored.headers.get('etag'));
  const ifMatch = req.headers.getAll('if-match');
  if (ifMatch.length > 0) {
    // §13.1.1: strong comparison; '*' is true as a current representation exists.
    const list = parseEntityTagList(ifMatch);
    if (list !== '*' && (etag === undefined || !list.some((t) => strongMatch(t, etag)))) return 'precondition-failed';
  } else {
    // §13.1.4: ignored when invalid, and when the stored response has no Last-Modified to compare.
    const since = parseHttpDate(req.headers.get('if-unmodified-since'));
    const lastModified = parseHttpDate(stored.headers.get('last-modified'));
    if (!Number.isNaN(since) && !Number.isNaN(lastModified) && lastModified > since) return 'precondition-failed';
  }
  const ifNoneMatch = req.headers.getAll('if-none-match');
  if (ifNoneMatch.length > 0) {
    // §13.1.2: weak comparison; false ("matched") means 304 for GET/HEAD, 412 otherwise.
    const list = parseEntityTagList(ifNoneMatch);
    const matched = list === '*' || (etag !== undefined && list.some((t) => weakMatch(t, etag)));
    if (matched) return getOrHead ? 'not-modified' : 'precondition-failed';
    return 'proceed';
  }
  if (getOrHead) {
    const since = parseHttpDate(req.headers.get('if-modified-since'));
    if (!Number.isNaN(since)) {
      let modified = parseHttpDate(stored.headers.get('last-modified'));
      if (Number.isNaN(modified)) modified = parseHttpDate(stored.headers.get('date'));
      if (Number.isNaN(modified)) modified = storedAtMs;
      if (modified <= since) return 'not-modified';
    }
  }
  return 'proceed';
}

/**
 * Whether a Range request should be honoured given its If-Range (RFC 9110 §13.1.5): true without
 * If-Range; with an entity-tag, a strong match with the stored ETag; with a date, an exact match
 * with a strong Last-Modified (one at least a second before the response's Date, §8.8.2.2).
 */
export function ifRangeAllows(req: RequestHeader, stored: ResponseHeader): boolean {
  const value = req.headers.get('if-range');
  if (value === undefined) return true;
  const text = value.trim();
  if (text.startsWith('"') || text.startsWith('W/')) {
    const tag = parseEntityTag(text);
    const etag = parseEntityTag(stored.headers.get('etag'));
    return tag !== undefined && etag !== undefined && strongMatch(tag, etag);
  }
  const date = parseHttpDate(text);
  const lastModified = parseHttpDate(stored.headers.get('last-modified'));
  if (Number.isNaN(date) || Number.isNaN(lastModified) || date !== lastModified) return false;
  const responseDate = parseHttpDate(stored.headers.get('date'));
  return !Number.isNaN(responseDate) && responseDate - lastModified >= 1000;
}

/**
 * Adds the validators of a stored response to a request going upstream to revalidate it (RFC 9111
 * §4.3.1): If-None-Match with its ETag and If-Modified-Since with its Last-Modified. Existing
 * conditionals from the client are replaced: the cache asks about its own copy.
 * @returns whether any validator was added (without one, revalidation is a plain refetch).
 */
export function addRevalidationHeaders(upstreamReq: RequestHeader, stored: ResponseHeader): boolean {
  upstreamReq.headers.delete('if-match');
  upstreamReq.headers.delete('if-unmodified-since');
  upstreamReq.headers.delete('if-range');
  upstreamReq.headers.delete('if-none-match');
  upstreamReq.headers.delete('if-modified-since');
  let added = false;
  const etag = stored.headers.get('etag');
  if (etag !== undefined && parseEntityTag(etag) !== undefined) {
    upstreamReq.headers.set('If-None-Match', etag.trim());
    added = true;
  }
  const lastModified = stored.headers.get('last-modified');
  if (lastModified !== undefined && !Number.isNaN(parseHttpDate(lastModified))) {
    upstreamReq.headers.set('If-Modified-Since', lastModified.trim());
    added = true;
  }
  return added;
}

/**
 * Whether a 304 applies to the stored response (RFC 9111 §4.3.4): a strong ETag in the 304 must
 * match strongly; else a Last-Modified must equal the stored one. A 304 without validators applies too: RFC 9111
 * §4.3.4 selects only a validator-less stored response then, but this cache revalidates exactly one
 * stored response with its own validators, so a bare 304 can only be about that one (origins often
 * omit ETag on 304). A mismatch means the stored response must not be updated.
 */
export function notModifiedMatches(stored: ResponseHeader, notModified: ResponseHeader): boolean {
  const newTag = parseEntityTag(notModified.headers.get('etag'));
  const storedTag = parseEntityTag(stored.headers.get('etag'));
  if (newTag !== undefined && !newTag.weak) return storedTag !== undefined && strongMatch(newTag, storedTag);
  if (newTag !== undefined) return storedTag !== undefined && weakMatch(newTag, storedTag);
  const newLm = notModified.headers.get('last-modified');
  if (newLm !== undefined) return stored.headers.get('last-modified') === newLm;
  return true;
}

// RFC 9111 §3.2: fields a 304 never replaces: those not stored (§3.1), Content-Length (the 304 has
// no body of its own), and the fields that describe the stored bytes themselves (Content-Encoding,
// Content-Range, digests), which §3.2 lets a cache keep "to assure integrity of the stored response".
const NOT_UPDATED: ReadonlySet<string> = new Set([
  'content-length', 'content-encoding', 'content-range', 'content-md5', 'content-digest', 'connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade',
  'proxy-authenticate', 'proxy-authentication-info', 'proxy-authorization',
]);

/**
 * Merges a 304's fields into the stored response (RFC 9111 §3.2, §4.3.4): each field present in the
 * 304 replaces all stored lines of that name, except Content-Length, the fields describing the
 * stored bytes (Content-Encoding, Content-Range, Content-MD5, Content-Digest), hop-by-hop fields and `skip`
 * (lower-case names, e.g. fields the cache strips). Returns the number of field names replaced.
 */
export function mergeNotModified(stored: ResponseHeader, notModified: ResponseHeader, skip: readonly string[] = []): number {
  const seen = new Set<string>();
  const connectionNamed = new Set<string>();
  for (const line of notModified.headers.getAll('connection')) for (const p of line.split(',')) connectionNamed.add(p.trim().toLowerCase());
  const headers = notModified.headers;
  for (let i = 0; i < headers.size; i++) {
    const key = headers.keyAt(i);
    if (seen.has(key) || NOT_UPDATED.has(key) || connectionNamed.has(key) || skip.includes(key)) continue;
    seen.add(key);
    const values = headers.getAll(key);
    stored.headers.set(headers.nameAt(i), values[0]);
    for (let v = 1; v < values.length; v++) stored.headers.append(headers.nameAt(i), values[v]);
  }
  return seen.size;
}
