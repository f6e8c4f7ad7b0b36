// RFC 7541 Appendix A: the static table, 1-based on the wire (index 1 is :authority).

/** Static table names; `STATIC_NAMES[i - 1]` is the name of wire index `i`. */
export const STATIC_NAMES: readonly string[] = [];
/** Static table values, parallel to {@link STATIC_NAMES}. */
export const STATIC_VALUES: readonly string[] = [];

const entries: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** Number of static entries (61); dynamic indices start right after. */
export const STATIC_TABLE_LENGTH = entries.length;

/**
 * How a name's fields are protected from indexing (RFC 7541 §7.1.3); every such name is in the
 * static table, so the encoder learns it from the same lookup.
 */
export const Sensitivity = {
  None: 0,
  /** authorization, proxy-authorization: always never-indexed. */
  Always: 1,
  /** cookie: never-indexed when shorter than 20 octets. */
  ShortValues: 2,
  /** set-cookie: by the encoder's policy. */
  SetCookie: 3,
} as const;
export type Sensitivity = (typeof Sensitivity)[keyof typeof Sensitivity];

/** For the encoder: a static name's first index, its values' indices, and its sensitivity. */
export interface StaticName {
  readonly index: number;
  readonly values: Map<string, number>;
  readonly sensitivity: Sensitivity;
}

const SENSITIVE: Record<string, Sensitivity> = {
  authorization: Sensitivity.Always,
  'proxy-authorization': Sensitivity.Always,
  cookie: Sensitivity.ShortValues,
  'set-cookie': Sensitivity.SetCookie,
};

/** Name → {@link StaticName}, built once at module load: one lookup per field. */
export const STATIC_NAME_INDEX = new Map<string, StaticName>();

for (let i = 0; i < entries.length; i++) {
  const [name, value] = entries[i];
  (STATIC_NAMES as string[]).push(name);
  (STATIC_VALUES as string[]).push(value);
  let known = STATIC_NAME_INDEX.get(name);
  if (known === undefined) {
    known = { index: i + 1, values: new Map(), sensitivity: SENSITIVE[name] ?? Sensitivity.None };
    STATIC_NAME_INDEX.set(name, known);
  }
  if (!known.values.has(value)) known.values.set(value, i + 1);
}
