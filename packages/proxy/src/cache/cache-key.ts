// Pingora's CacheKey: a primary key (namespace + what identifies the resource, chosen by the user's
// cacheKeyCallback) and an optional variance (the secondary key from Vary), each hashed to a stable
// 128-bit hex string that storage indexes by.
import { createHash } from 'node:crypto';
import type { RequestHeader } from '@sluice/core';

/** Thrown for a cache key that cannot identify anything. */
export class InvalidCacheKeyError extends Error {
  readonly code = 'ERR_CACHE_INVALID_KEY';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCacheKeyError';
  }
}

// Hashes length-prefix each part so that ("ab","c") and ("a","bc") never collide by concatenation.
function hashParts(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (let i = 0; i < parts.length; i++) {
    hash.update(String(parts[i].length));
    hash.update(':');
    hash.update(parts[i]);
  }
  // 128 bits, as Pingora's blake2b-128 keys: ample against accidental collisions.
  return hash.digest('hex').slice(0, 32);
}

/** The key a response is stored under. Immutable; hashes are computed once, on first use. */
export class CacheKey {
  /** Separates tenants or caches sharing one storage (e.g. per virtual host or per user group). */
  readonly namespace: string;
  /** What identifies the resource, typically host + path + query; the method is not part of it (HEAD reads GET entries). */
  readonly primary: string;
  /** The secondary key from Vary (`varianceKey`), or undefined when the response does not vary. */
  readonly variance: string | undefined;
  private primaryHashValue: string | undefined;
  private varianceHashValue: string | undefined;

  /**
   * @throws InvalidCacheKeyError when `primary` is empty.
   */
  constructor(namespace: string, primary: string, variance?: string) {
    if (primary.length === 0) throw new InvalidCacheKeyError('CacheKey: the primary key is empty; the cacheKeyCallback must name the resource');
    this.namespace = namespace;
    this.primary = primary;
    this.variance = variance;
  }

  /** A hex hash of namespace + primary: the same for every variant of a resource (purge uses it). */
  primaryHash(): string {
    return (this.primaryHashValue ??= hashParts([this.namespace, this.primary]));
  }

  /** A hex hash of the variance, or undefined without one. */
  varianceHash(): string | undefined {
    if (this.variance === undefined) return undefined;
    return (this.varianceHashValue ??= hashParts([this.variance]));
  }

  /** The hash that names this exact variant: the primary hash, plus the variance hash when there is one. */
  combinedHash(): string {
    const variance = this.varianceHash();
    return variance === undefined ? this.primaryHash() : this.primaryHash() + variance;
  }

  /** The same resource with another variance (after the response's Vary is known). */
  withVariance(variance: string | undefined): CacheKey {
    return new CacheKey(this.namespace, this.primary, variance);
  }
}

/**
 * A primary key from a request: the authority (Host, lower-cased, or the absolute-form target's)
 * and the path with query. A helper for `cacheKeyCallback`s, never applied silently.
 * @param defaultAuthority used when the request names no host (an HTTP/1.0 request without Host).
 */
export function primaryFromRequest(req: RequestHeader, defaultAuthority = ''): string {
  let uri = req.uri;
  let authority = req.headers.get('host') ?? req.headers.get(':authority');
  const scheme = uri.indexOf('://');
  if (scheme !== -1) {
    const pathStart = uri.indexOf('/', scheme + 3);
    authority = uri.slice(scheme + 3, pathStart === -1 ? uri.length : pathStart);
    uri = pathStart === -1 ? '/' : uri.slice(pathStart);
  }
  return (authority ?? defaultAuthority).toLowerCase() + uri;
}
