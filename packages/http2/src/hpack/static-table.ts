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
 * For the encoder: name → the first static index with that name, and name → (value → index) for
 * the entries that carry a value. Built once at module load.
 */
export const STATIC_NAME_INDEX = new Map<string, number>();
export const STATIC_FIELD_INDEX = new Map<string, Map<string, number>>();

for (let i = 0; i < entries.length; i++) {
  const [name, value] = entries[i];
  (STATIC_NAMES as string[]).push(name);
  (STATIC_VALUES as string[]).push(value);
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
  let values = STATIC_FIELD_INDEX.get(name);
  if (values === undefined) STATIC_FIELD_INDEX.set(name, (values = new Map()));
  if (!values.has(value)) values.set(value, i + 1);
}
