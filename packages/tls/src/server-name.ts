import { isIP } from 'node:net';
import { TlsConfigError } from './errors.js';

/**
 * Server names as SNI and certificates use them: lower case, without a trailing dot. Wildcards follow
 * RFC 6125 §6.4.3 as browsers apply it: `*` only as the whole left-most label, matching exactly one
 * label, and at least two labels after it (`*.com` is refused).
 */
export function normalizeServerName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * Checks a name a certificate is registered for: `example.com`, `*.example.com`.
 * @returns the normalized name.
 * @throws TlsConfigError `ERR_TLS_INVALID_SERVER_NAME` for an empty name, a bad label or a wildcard
 *   anywhere but as the whole first label of three or more.
 */
export function checkServerNamePattern(pattern: string): string {
  const name = normalizeServerName(pattern);
  const labels = name.split('.');
  const wildcard = labels[0] === '*';
  const bad = name.length === 0 || name.length > 253 || (wildcard && labels.length < 3) || labels.some((l, i) => !(i === 0 && wildcard) && !LABEL.test(l));
  if (bad || isIP(name) !== 0) throw new TlsConfigError('ERR_TLS_INVALID_SERVER_NAME', `server name ${JSON.stringify(pattern)} is not a DNS name or a *.name.tld wildcard`);
  return name;
}

/**
 * Maps server names to values: exact names first, then `*.parent` wildcards (one label), else none.
 * Lookups are two Map reads.
 */
export class ServerNameMap<V> {
  private readonly exact = new Map<string, V>();
  // Keyed by the parent domain: `*.example.com` is stored under `example.com`.
  private readonly wildcard = new Map<string, V>();

  get size(): number {
    return this.exact.size + this.wildcard.size;
  }

  /**
   * Adds `pattern` → `value`.
   * @throws TlsConfigError `ERR_TLS_INVALID_SERVER_NAME`, or `ERR_TLS_DUPLICATE_SERVER_NAME` when the
   *   name is already taken.
   */
  set(pattern: string, value: V): void {
    const name = checkServerNamePattern(pattern);
    const [map, key] = name.startsWith('*.') ? [this.wildcard, name.slice(2)] : [this.exact, name];
    if (map.has(key)) throw new TlsConfigError('ERR_TLS_DUPLICATE_SERVER_NAME', `server name ${JSON.stringify(pattern)} already has a certificate`);
    map.set(key, value);
  }

  /** The value for a server name as a client sent it (any case, maybe a trailing dot). */
  get(serverName: string): V | undefined {
    const name = normalizeServerName(serverName);
    const hit = this.exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.');
    // One label only: `a.b.example.com` does not match `*.example.com`; an empty first label never matches.
    return dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined;
  }

  clear(): void {
    this.exact.clear();
    this.wildcard.clear();
  }
}
