// CRC-32 as nginx computes it (ngx_crc32.h): the IEEE 802.3 / zlib polynomial, reflected (0xEDB88320),
// initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. Table-driven, four bytes at a time ("slicing-by-4");
// strings are hashed as their UTF-8 bytes without allocating an encoded copy. Long inputs go to zlib's native crc32 where
// Node has it (20.15+), which wins from about 100-150 bytes on; below that the call costs more than the loop.
import * as zlib from 'node:zlib';
import { KetamaError } from './errors.js';

type NativeCrc32 = (data: string | Uint8Array, value?: number) => number;
const nativeCrc32: NativeCrc32 | undefined = (zlib as { crc32?: NativeCrc32 }).crc32;
// Lengths from which the native CRC-32 is faster than the loops below (measured on Node 20.20, x86-64).
const NATIVE_FROM_CHARS = 112;
const NATIVE_FROM_BYTES = 160;

// TABLE[n] is the CRC step of byte n; TABLE[256 * k + n] the same byte followed by k zero bytes,
// which lets one step consume four bytes.
const TABLE = new Int32Array(1024);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 768; n++) TABLE[n + 256] = (TABLE[n] >>> 8) ^ TABLE[TABLE[n] & 0xff];

/** Feeds the 4 bytes of `word` (little-endian: low byte first) into register `c`. */
function step4(c: number, word: number): number {
  c ^= word;
  return TABLE[768 + (c & 0xff)] ^ TABLE[512 + ((c >>> 8) & 0xff)] ^ TABLE[256 + ((c >>> 16) & 0xff)] ^ TABLE[c >>> 24];
}

/** A CRC-32 register before the final XOR; start from {@link CRC32_INITIAL}. */
export type Crc32State = number;

/** The register value every CRC-32 starts from (ngx_crc32_init). */
export const CRC32_INITIAL: Crc32State = -1;

/** Feeds bytes into a running CRC-32 register (ngx_crc32_update). */
export function crc32UpdateBytes(state: Crc32State, bytes: Uint8Array): Crc32State {
  let c = state;
  const n = bytes.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) c = step4(c, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  for (; i < n; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c;
}

/** Feeds one byte into a running CRC-32 register. */
export function crc32UpdateByte(state: Crc32State, byte: number): Crc32State {
  return TABLE[(state ^ byte) & 0xff] ^ (state >>> 8);
}

/** Feeds a 32-bit value as its 4 little-endian bytes (nginx's previous-point hash on x86). */
export function crc32UpdateUint32LE(state: Crc32State, value: number): Crc32State {
  return step4(state, value);
}

/**
 * Feeds a string's UTF-8 encoding into a running CRC-32 register, encoding on the fly.
 * A lone surrogate counts as U+FFFD, as `Buffer.from(string)` encodes it.
 */
export function crc32UpdateString(state: Crc32State, text: string): Crc32State {
  let c = state;
  for (let i = 0, n = text.length; i < n; i++) {
    let code = text.charCodeAt(i);
    if (i + 4 <= n) {
      const b1 = text.charCodeAt(i + 1);
      const b2 = text.charCodeAt(i + 2);
      const b3 = text.charCodeAt(i + 3);
      if ((code | b1 | b2 | b3) < 0x80) {
        c = step4(c, code | (b1 << 8) | (b2 << 16) | (b3 << 24));
        i += 3;
        continue;
      }
    }
    if (code < 0x80) {
      c = TABLE[(c ^ code) & 0xff] ^ (c >>> 8);
      continue;
    }
    if (code < 0x800) {
      c = TABLE[(c ^ (0xc0 | (code >>> 6))) & 0xff] ^ (c >>> 8);
      c = TABLE[(c ^ (0x80 | (code & 0x3f))) & 0xff] ^ (c >>> 8);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
        c = TABLE[(c ^ (0xf0 | (code >>> 18))) & 0xff] ^ (c >>> 8);
        c = TABLE[(c ^ (0x80 | ((code >>> 12) & 0x3f))) & 0xff] ^ (c >>> 8);
        c = TABLE[(c ^ (0x80 | ((code >>> 6) & 0x3f))) & 0xff] ^ (c >>> 8);
        c = TABLE[(c ^ (0x80 | (code & 0x3f))) & 0xff] ^ (c >>> 8);
        continue;
      }
      code = 0xfffd;
    }
    c = TABLE[(c ^ (0xe0 | (code >>> 12))) & 0xff] ^ (c >>> 8);
    c = TABLE[(c ^ (0x80 | ((code >>> 6) & 0x3f))) & 0xff] ^ (c >>> 8);
    c = TABLE[(c ^ (0x80 | (code & 0x3f))) & 0xff] ^ (c >>> 8);
  }
  return c;
}

/** Ends a running CRC-32 (ngx_crc32_final): the final XOR, as an unsigned 32-bit number. */
export function crc32Final(state: Crc32State): number {
  return ~state >>> 0;
}

/**
 * The CRC-32 (IEEE, as zlib and nginx's `ngx_crc32_long`) of a string's UTF-8 bytes or of bytes.
 * Returns an unsigned 32-bit integer; throws `ERR_KETAMA_INVALID_KEY` for any other type.
 */
export function crc32(data: string | Uint8Array): number {
  if (typeof data === 'string') {
    if (data.length >= NATIVE_FROM_CHARS && nativeCrc32 !== undefined) return nativeCrc32(data);
    return ~crc32UpdateString(-1, data) >>> 0;
  }
  if (!(data instanceof Uint8Array)) {
    const kind = data === null ? 'null' : typeof data;
    throw new KetamaError('ERR_KETAMA_INVALID_KEY', `a hash key must be a string or a Uint8Array, got ${kind}`);
  }
  if (data.length >= NATIVE_FROM_BYTES && nativeCrc32 !== undefined) return nativeCrc32(data);
  return ~crc32UpdateBytes(-1, data) >>> 0;
}
