// Cache directives addressed to this cache in particular: Surrogate-Control (W3C Edge Architecture
// 1.0, for reverse proxies, with `directive;device-token` targeting) and, when enabled, RFC 9213
// fields such as CDN-Cache-Control. When such a field is present and has directives for us, it
// replaces Cache-Control and Expires for this cache (RFC 9213 §2.2); clients still get Cache-Control.
import type { ResponseHeader } from '@sluice/core';
import { parseCacheControl, type CacheControl } from './cache-control.js';

/** Which targeted fields this cache obeys. */
export interface TargetedOptions {
  /**
   * Lower-case names of targeted fields, in order of precedence; the first present with directives
   * for this cache wins. Default ['surrogate-control'] (a reverse proxy is a surrogate); add
   * 'cdn-cache-control' to act as a CDN (RFC 9213); [] to obey Cache-Control only.
   */
  targetedFields?: readonly string[];
  /**
   * This cache's device token: Surrogate-Control directives suffixed `;token` apply only when it
   * matches (case-insensitively); unsuffixed ones apply to every surrogate. Default 'sluice'.
   */
  deviceToken?: string;
}

const DEFAULT_TARGETED: readonly string[] = ['surrogate-control'];

/** The Surrogate-Capability request field value announcing this surrogate upstream (Edge Architecture §3). */
export function surrogateCapability(deviceToken = 'sluice'): string {
  return `${deviceToken}="Surrogate/1.0"`;
}

/**
 * The Cache-Control this cache obeys for `resp`: the first targeted field with directives for us
 * (marked `targeted: true`, so Expires is ignored), else the response's Cache-Control.
 */
export function responseCacheControl(resp: ResponseHeader, options: TargetedOptions = {}): CacheControl {
  const fields = options.targetedFields ?? DEFAULT_TARGETED;
  for (let i = 0; i < fields.length; i++) {
    const lines = resp.headers.getAll(fields[i]);
    if (lines.length === 0) continue;
    const ours = directivesFor(lines, (options.deviceToken ?? 'sluice').toLowerCase());
    if (ours.length === 0) continue;
    const cc = parseCacheControl(ours);
    cc.targeted = true;
    return cc;
  }
  return parseCacheControl(resp.headers.getAll('cache-control'));
}

// Keeps the list members without a target and those targeted at `token` (suffix removed).
function directivesFor(lines: readonly string[], token: string): string[] {
  const out: string[] = [];
  for (const line of lines) {
    for (const member of splitMembers(line)) {
      const semicolon = member.lastIndexOf(';');
      if (semicolon === -1 || member.indexOf('"', semicolon) !== -1) {
        if (member.trim().length > 0) out.push(member);
        continue;
      }
      if (member.slice(semicolon + 1).trim().toLowerCase() === token) out.push(member.slice(0, semicolon));
    }
  }
  return out;
}

// Splits a list at commas outside quoted strings.
function splitMembers(line: string): string[] {
  const members: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c && quoted) i++;
    else if (c === 0x22) quoted = !quoted;
    else if (c === 0x2c && !quoted) {
      members.push(line.slice(start, i));
      start = i + 1;
    }
  }
  members.push(line.slice(start));
  return members;
}
