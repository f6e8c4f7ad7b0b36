import { TOKEN_CHARS } from '@sluice/core';

// Byte classes of HTTP/1.1 (RFC 9110 §5, RFC 9112), as tables indexed by byte, and the small helpers
// the parser and the chunked decoder share.

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/** Field-value bytes llhttp accepts in strict mode: HTAB, SP..~ and obs-text (RFC 9110 §5.5); not DEL. */
export const VALUE_CHARS = new Uint8Array(256);
/** Request-target bytes: visible ASCII (RFC 9112 §3.2 with RFC 3986); llhttp rejects obs-text too. */
export const URL_CHARS = new Uint8Array(256);
/** Reason-phrase bytes: RFC 9112 §4 says HTAB, SP, VCHAR, obs-text; llhttp takes any but CR and LF. */
export const REASON_CHARS = new Uint8Array(256);
/** quoted-string content of a chunk extension (RFC 9110 §5.6.4): qdtext. */
export const QDTEXT = new Uint8Array(256);
/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
export const SCHEME_CHARS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const l = c | 0x20;
  if ((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) SCHEME_CHARS[c] = 1;
}
/** Hex digit values, -1 for other bytes. */
export const HEX = new Int8Array(256).fill(-1);
for (let c = 0x20; c <= 0xff; c++) {
  VALUE_CHARS[c] = REASON_CHARS[c] = QDTEXT[c] = 1;
  if (c > 0x20 && c < 0x7f) URL_CHARS[c] = 1;
}
VALUE_CHARS[0x7f] = REASON_CHARS[0x7f] = QDTEXT[0x7f] = 0;
VALUE_CHARS[HTAB] = QDTEXT[HTAB] = 1;
for (let c = 0; c < 0x20; c++) if (c !== CR && c !== LF) REASON_CHARS[c] = 1;
REASON_CHARS[0x7f] = 1;
QDTEXT[0x22] = QDTEXT[0x5c] = 0;
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x41 + c] = HEX[0x61 + c] = 10 + c;

/** Lengths above this cannot be counted exactly in a JavaScript number. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Core's tchar table (RFC 9110 §5.6.2), held here so hot loops load it from a local. */
export const TOKEN: Uint8Array = TOKEN_CHARS;

/** Whether `data[at, at+lower.length)` equals the lowercase ASCII `lower`, ignoring case. */
export function equalsLower(data: Buffer, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((data[at + i] | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Where a number too big for exact arithmetic (> 2^53) is reported: one past the digit that overflows
 * 64 bits, as llhttp reports it, or the end of its digits when it fits 64 bits but not 53 (a deliberate
 * difference: JavaScript counts bytes in doubles; see README).
 */
export function overflowOffset(data: Buffer, from: number, to: number, radix: 10 | 16): number {
  let n = 0n;
  const r = BigInt(radix);
  let i = from;
  for (; i < to; i++) {
    const d = HEX[data[i]];
    if (d < 0 || d >= radix) break;
    n = n * r + BigInt(d);
    if (n > U64_MAX) return i + 1;
  }
  return i;
}
