// RFC 9111 §5.2 Cache-Control, with RFC 5861's stale-while-revalidate / stale-if-error and
// RFC 8246's immutable. One parser serves requests and responses: each side reads the fields that
// its directives define.

/**
 * The directives of one message's Cache-Control fields. Durations are in seconds, as on the wire
 * (delta-seconds, RFC 9111 §1.2.2); `undefined` means absent.
 */
export interface CacheControl {
  /** max-age (both sides). An invalid or conflicting duplicate value is 0: RFC 9111 §4.2.1 says such a response is best treated as stale. */
  maxAge: number | undefined;
  /** s-maxage (response, shared caches only). Invalid or conflicting: 0. */
  sMaxAge: number | undefined;
  /** no-store (both sides). */
  noStore: boolean;
  /** no-cache (both sides); for a response, true also when qualified with field names. */
  noCache: boolean;
  /** The field names of a qualified response no-cache="a, b" (lower case); undefined when unqualified or absent. */
  noCacheFields: string[] | undefined;
  /** private (response). True also when qualified. */
  private: boolean;
  /** The field names of a qualified private="a, b" (lower case); undefined when unqualified or absent. */
  privateFields: string[] | undefined;
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  mustUnderstand: boolean;
  noTransform: boolean;
  /** RFC 8246: the body will not change while fresh; clients need not revalidate on reload. */
  immutable: boolean;
  /** RFC 5861 §3 (response). */
  staleWhileRevalidate: number | undefined;
  /** RFC 5861 §4 (both sides). */
  staleIfError: number | undefined;
  /** max-stale (request): seconds, or Infinity when given without a value (any staleness). */
  maxStale: number | undefined;
  /** min-fresh (request). Invalid: undefined (the directive is ignored). */
  minFresh: number | undefined;
  /** only-if-cached (request). */
  onlyIfCached: boolean;
  /** Directive names that had an invalid argument or a conflicting duplicate, for diagnostics. */
  invalid: string[];
  /** Directives this parser does not define, name → argument (or '' when none), for extensions. */
  extensions: Map<string, string> | undefined;
  /** True when these directives came from a targeted field (targeted-cache-control.ts): Expires is then ignored. */
  targeted: boolean;
}

// RFC 9111 §1.2.2: a delta-seconds too large to represent is sent as 2^31.
const DELTA_SECONDS_MAX = 2147483648;

/** A fresh, empty CacheControl (every directive absent). */
export function emptyCacheControl(): CacheControl {
  return {
    maxAge: undefined, sMaxAge: undefined, noStore: false, noCache: false, noCacheFields: undefined,
    private: false, privateFields: undefined, public: false, mustRevalidate: false, proxyRevalidate: false,
    mustUnderstand: false, noTransform: false, immutable: false, staleWhileRevalidate: undefined,
    staleIfError: undefined, maxStale: undefined, minFresh: undefined, onlyIfCached: false, invalid: [],
    extensions: undefined, targeted: false,
  };
}

/**
 * Parses the Cache-Control field lines of a message (pass every line: `headers.getAll('cache-control')`).
 * Directive names are case-insensitive; arguments may be tokens or quoted strings. Never throws:
 * malformed parts are skipped (a cache must keep working on bad input) and noted in `invalid`.
 */
export function parseCacheControl(lines: string | readonly string[] | undefined): CacheControl {
  const cc = emptyCacheControl();
  if (lines === undefined) return cc;
  if (typeof lines === 'string') parseLine(cc, lines);
  else for (let i = 0; i < lines.length; i++) parseLine(cc, lines[i]);
  return cc;
}

function parseLine(cc: CacheControl, line: string): void {
  const n = line.length;
  let i = 0;
  while (i < n) {
    // Skip OWS and empty list elements (RFC 9110 §5.6.1).
    let c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x2c) { i++; continue; }
    const nameStart = i;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 0x3d || c === 0x2c || c === 0x20 || c === 0x09) break;
      i++;
    }
    const name = line.slice(nameStart, i).toLowerCase();
    while (i < n && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
    let argument: string | undefined;
    if (i < n && line.charCodeAt(i) === 0x3d) {
      i++;
      while (i < n && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
      if (i < n && line.charCodeAt(i) === 0x22) {
        // quoted-string with quoted-pair (RFC 9110 §5.6.4); commas inside do not end the directive.
        i++;
        let value = '';
        let closed = false;
        while (i < n) {
          c = line.charCodeAt(i);
          if (c === 0x5c && i + 1 < n) { value += line[i + 1]; i += 2; continue; }
          if (c === 0x22) { closed = true; i++; break; }
          value += line[i++];
        }
        argument = closed ? value : undefined;
        if (!closed) cc.invalid.push(name);
      } else {
        const start = i;
        while (i < n && line.charCodeAt(i) !== 0x2c) i++;
        argument = line.slice(start, i).trim();
      }
    }
    // Anything else before the next comma makes this element malformed.
    while (i < n && line.charCodeAt(i) !== 0x2c) {
      c = line.charCodeAt(i++);
      if (c !== 0x20 && c !== 0x09) argument = undefined;
    }
    if (name.length > 0) apply(cc, name, argument);
  }
}

function apply(cc: CacheControl, name: string, argument: string | undefined): void {
  switch (name) {
    case 'max-age': cc.maxAge = durationDirective(cc, name, cc.maxAge, argument); return;
    case 's-maxage': cc.sMaxAge = durationDirective(cc, name, cc.sMaxAge, argument); return;
    case 'stale-while-revalidate':
      cc.staleWhileRevalidate = optionalDuration(cc, name, cc.staleWhileRevalidate, argument); return;
    case 'stale-if-error': cc.staleIfError = optionalDuration(cc, name, cc.staleIfError, argument); return;
    case 'min-fresh': cc.minFresh = optionalDuration(cc, name, cc.minFresh, argument); return;
    case 'max-stale':
      // RFC 9111 §5.2.1.2: without a value the client accepts a stale response of any age.
      if (argument === undefined) cc.maxStale = Infinity;
      else cc.maxStale = optionalDuration(cc, name, cc.maxStale, argument);
      return;
    case 'no-store': cc.noStore = true; return;
    case 'no-cache':
      // RFC 9111 §5.2.2.4: the unqualified form wins over any qualified one.
      if (argument === undefined || !cc.noCache) cc.noCacheFields = argument === undefined ? undefined : fieldList(argument);
      else if (cc.noCacheFields !== undefined) cc.noCacheFields.push(...fieldList(argument));
      cc.noCache = true;
      return;
    case 'private':
      if (argument === undefined || !cc.private) cc.privateFields = argument === undefined ? undefined : fieldList(argument);
      else if (cc.privateFields !== undefined) cc.privateFields.push(...fieldList(argument));
      cc.private = true;
      return;
    case 'public': cc.public = true; return;
    case 'must-revalidate': cc.mustRevalidate = true; return;
    case 'proxy-revalidate': cc.proxyRevalidate = true; return;
    case 'must-understand': cc.mustUnderstand = true; return;
    case 'no-transform': cc.noTransform = true; return;
    case 'immutable': cc.immutable = true; return;
    case 'only-if-cached': cc.onlyIfCached = true; return;
    default:
      // RFC 9111 §5.2.3: unknown directives are ignored, kept for extensions.
      (cc.extensions ??= new Map()).set(name, argument ?? '');
  }
}

// max-age and s-maxage: an invalid value or a duplicate that disagrees makes the response stale (0),
// the choice RFC 9111 §4.2.1 encourages.
function durationDirective(cc: CacheControl, name: string, previous: number | undefined, argument: string | undefined): number {
  const seconds = deltaSeconds(argument);
  if (Number.isNaN(seconds) || (previous !== undefined && previous !== seconds)) {
    cc.invalid.push(name);
    return 0;
  }
  return seconds;
}

// Directives that only extend what a cache may do: an invalid or conflicting value drops the
// permission (the most restrictive reading, RFC 9111 §4.2.1).
function optionalDuration(cc: CacheControl, name: string, previous: number | undefined, argument: string | undefined): number | undefined {
  const seconds = deltaSeconds(argument);
  if (Number.isNaN(seconds) || (previous !== undefined && previous !== seconds)) {
    cc.invalid.push(name);
    return undefined;
  }
  return seconds;
}

/** RFC 9111 §1.2.2 delta-seconds: 1*DIGIT, capped at 2^31; NaN when not all digits. */
export function deltaSeconds(text: string | undefined): number {
  if (text === undefined || text.length === 0) return NaN;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
  }
  if (text.length > 10) return DELTA_SECONDS_MAX;
  const value = Number(text);
  return value > DELTA_SECONDS_MAX ? DELTA_SECONDS_MAX : value;
}

function fieldList(argument: string): string[] {
  const out: string[] = [];
  for (const part of argument.split(',')) {
    const name = part.trim().toLowerCase();
    if (name.length > 0) out.push(name);
  }
  return out;
}
