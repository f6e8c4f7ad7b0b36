/**
 * RFC 9110 §5 field syntax: which bytes may form a field name (a token) and a field value. Shared by
 * the header map and the HTTP/1 and HTTP/2 codecs so that every layer agrees on what is valid.
 */

/** 1 where the byte is a `tchar` (RFC 9110 §5.6.2), else 0. */
export const TOKEN_CHARS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of "!#$%&'*+-.^_`|~") t[ch.charCodeAt(0)] = 1;
  return t;
})();

/**
 * 1 where the byte may appear in a field value (RFC 9110 §5.5): VCHAR, obs-text, SP and HTAB. CR, LF,
 * NUL and the other controls are never allowed.
 */
export const FIELD_VALUE_CHARS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0x20; c <= 0x7e; c++) t[c] = 1;
  for (let c = 0x80; c <= 0xff; c++) t[c] = 1;
  t[0x09] = 1;
  return t;
})();

/** Whether `s` is a non-empty token (a valid field name or method). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * Index of the first character that may not appear in a field value, or -1. Values are Latin-1
 * strings (one char per byte); a char above 0xFF cannot be sent and is invalid too.
 */
export function invalidFieldValueIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_CHARS[c] === 0) return i;
  }
  return -1;
}
