// RFC 9111 §4.4: a successful unsafe request invalidates what the cache holds for its target URI
// and for the same-origin URIs in the response's Location and Content-Location.
import type { RequestHeader, ResponseHeader } from '@sluice/core';

// RFC 9110 §9.2.1: the methods defined as safe. Any other method, including unknown ones, is unsafe
// for invalidation (RFC 9111 §4.4: "including methods whose safety is unknown").
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Whether this exchange invalidates stored responses: an unsafe method answered with a non-error status (2xx or 3xx). */
export function invalidatesCache(method: string, status: number): boolean {
  return !SAFE_METHODS.has(method) && status >= 200 && status < 400;
}

/**
 * The URIs to invalidate after `resp` answered the unsafe `req` (RFC 9111 §4.4), as
 * authority + path + query like `primaryFromRequest`: the target URI, and Location /
 * Content-Location when they resolve to the same authority (other origins must not be
 * invalidated: that would let one origin purge another's entries). Empty when nothing is invalidated.
 * @param defaultAuthority used when the request names no host.
 */
export function invalidationTargets(req: RequestHeader, resp: ResponseHeader, defaultAuthority = ''): string[] {
  if (!invalidatesCache(req.method, resp.status)) return [];
  let base: URL;
  try {
    const authority = req.headers.get('host') ?? defaultAuthority;
    base = req.uri.includes('://') ? new URL(req.uri) : new URL(req.uri, `http://${authority}`);
  } catch {
    return [];
  }
  const targets = [base.host.toLowerCase() + base.pathname + base.search];
  for (const name of ['location', 'content-location']) {
    const value = resp.headers.get(name);
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value.trim(), base);
    } catch {
      continue;
    }
    if (url.host.toLowerCase() !== base.host.toLowerCase() || url.protocol !== base.protocol) continue;
    const target = url.host.toLowerCase() + url.pathname + url.search;
    if (!targets.includes(target)) targets.push(target);
  }
  return targets;
}
