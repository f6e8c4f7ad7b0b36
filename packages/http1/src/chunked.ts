import type { HeaderMap } from '@sluice/core';
import { CR, HEX, HTAB, LF, MAX_SAFE, QDTEXT, SP, TOKEN, VALUE_CHARS, overflowOffset } from './chars.js';
import { H1ParseError, H1_ERRORS } from './error.js';
import type { H1ErrorKind } from './error.js';
import { serializeFields } from './serializer.js';

// RFC 9112 §7.1, the chunked transfer coding: decoding a chunk-size line, encoding chunks.

const CRLF = Buffer.from('\r\n', 'latin1');

/** The chunk-size line for a chunk of `size` bytes (RFC 9112 §7.1): hex digits and CRLF. */
export function chunkSizeLine(size: number): Buffer {
  return Buffer.from(size.toString(16) + '\r\n', 'latin1');
}

/** The CRLF that ends chunk-data. */
export const CHUNK_END: Buffer = CRLF;

/**
 * The last chunk, the trailer section and the final CRLF (RFC 9112 §7.1, §7.1.2). Trailer fields must
 * not include framing fields; callers pass what the application gave.
 */
export function lastChunk(trailers?: HeaderMap | null): Buffer {
  return Buffer.from('0\r\n' + (trailers && trailers.size > 0 ? serializeFields(trailers) : '') + '\r\n', 'latin1');
}

/**
 * Encodes a body as chunks: each `encode(data)` gives the pieces to write (size line, the data itself
 * uncopied, CRLF); `finish(trailers)` gives the last chunk. Empty data yields nothing, since an empty
 * chunk would end the body.
 */
export class ChunkedEncoder {
  /** Bytes of chunk-data encoded so far. */
  bytes = 0;

  encode(data: Buffer): [Buffer, Buffer, Buffer] | null {
    if (data.length === 0) return null;
    this.bytes += data.length;
    return [chunkSizeLine(data.length), data, CRLF];
  }

  finish(trailers?: HeaderMap | null): Buffer {
    return lastChunk(trailers);
  }
}

/**
 * Parses a chunk-size line, `chunk-size [ chunk-ext ] CRLF` (RFC 9112 §7.1), at `data[start, end)`,
 * leaving the size in `out.size`. Returns the position after the line, or -1 when the line has not
 * ended yet (the bytes so far are valid). Extensions are checked and skipped. `base` is the stream
 * offset of `data[0]`, for error offsets.
 * @throws H1ParseError `ERR_H1_INVALID_CHUNK_SIZE`, `ERR_H1_INVALID_CHUNK_EXTENSION`,
 *   `ERR_H1_CR_EXPECTED`, `ERR_H1_LF_EXPECTED`, `ERR_H1_CHUNK_LINE_TOO_LONG` (longer than `maxLineBytes`).
 */
export function parseChunkSizeLine(data: Buffer, start: number, end: number, base: number, maxLineBytes: number, out: { size: number }): number {
  // llhttp admits no whitespace in the line (RFC 9112's BWS), and neither do we.
  const limit = start + maxLineBytes;
  let i = start;
  let size = 0;
  while (i < end) {
    const h = HEX[data[i]];
    if (h < 0) break;
    size = size * 16 + h;
    if (size > MAX_SAFE) {
      const at = overflowOffset(data, start, end, 16);
      if (at === end) return partial(end, limit, base); // where it overflows 64 bits is not known yet
      fail(H1_ERRORS.INVALID_CHUNK_SIZE, 'chunk size overflow', base + at);
    }
    i++;
  }
  if (i === end) return partial(end, limit, base);
  if (i === start) fail(H1_ERRORS.INVALID_CHUNK_SIZE, 'invalid character in chunk size', base + i);
  while (data[i] === 0x3b) {
    i++;
    const nameStart = i;
    while (i < end && TOKEN[data[i]] === 1) i++;
    if (i === end) return partial(end, limit, base);
    // llhttp admits empty names (";=v", ";;") and empty values (";n="); we follow it.
    if (i === nameStart && data[i] !== 0x3d && data[i] !== 0x3b) failInExtension(data, 'invalid character in chunk extension name', base, i);
    if (data[i] === 0x3d) {
      i++;
      if (i === end) return partial(end, limit, base);
      if (data[i] === 0x22) {
        i++;
        for (;;) {
          if (i === end) return partial(end, limit, base);
          const q = data[i];
          if (q === 0x22) break;
          if (q === 0x5c) {
            if (++i === end) return partial(end, limit, base);
            if (VALUE_CHARS[data[i]] === 0) fail(H1_ERRORS.INVALID_CHUNK_EXTENSION, 'invalid quoted-pair in chunk extension', base + i + 1);
          } else if (QDTEXT[q] === 0) fail(H1_ERRORS.INVALID_CHUNK_EXTENSION, 'invalid character in chunk extension quoted value', base + i + 1);
          i++;
        }
        i++;
        if (i === end) return partial(end, limit, base);
        // After a closing quote llhttp reports a stray byte where it is.
        if (data[i] !== 0x3b && data[i] !== CR && data[i] !== LF) fail(H1_ERRORS.INVALID_CHUNK_EXTENSION, 'invalid character after chunk extension quoted value', base + i);
      } else {
        const valueStart = i;
        while (i < end && TOKEN[data[i]] === 1) i++;
        if (i === end) return partial(end, limit, base);
        if (i === valueStart && data[i] !== CR && data[i] !== 0x3b) failInExtension(data, 'invalid character in chunk extension value', base, i);
      }
    }
    if (data[i] !== 0x3b && data[i] !== CR) failInExtension(data, 'invalid character in chunk extensions', base, i);
  }
  if (data[i] === LF) fail(H1_ERRORS.CR_EXPECTED, 'expected CR before LF after chunk size', base + i + 1);
  // llhttp reports whitespace after the size one byte on, other bytes where they are.
  if (data[i] !== CR) fail(H1_ERRORS.INVALID_CHUNK_SIZE, 'invalid character in chunk size', base + i + (data[i] === SP || data[i] === HTAB ? 1 : 0));
  if (i + 1 === end) return partial(end, limit, base);
  if (data[i + 1] !== LF) fail(H1_ERRORS.LF_EXPECTED, 'expected LF after chunk size', base + i + 1);
  if (i + 2 > limit) fail(H1_ERRORS.CHUNK_LINE_TOO_LONG, 'chunk-size line too long', base + limit);
  out.size = size;
  return i + 2;
}

function fail(kind: H1ErrorKind, reason: string, offset: number): never {
  throw new H1ParseError(kind, reason, offset);
}

/** A bad byte in chunk extensions: a bare LF is where llhttp expected CR; others it reports one on. */
function failInExtension(data: Buffer, reason: string, base: number, i: number): never {
  if (data[i] === LF) fail(H1_ERRORS.CR_EXPECTED, 'expected CR before LF in chunk extensions', base + i);
  return fail(H1_ERRORS.INVALID_CHUNK_EXTENSION, reason, base + i + 1);
}

/** A line that has not ended: fails if it is already too long, else asks for more bytes. */
function partial(end: number, limit: number, base: number): number {
  if (end > limit) fail(H1_ERRORS.CHUNK_LINE_TOO_LONG, 'chunk-size line too long', base + limit);
  return -1;
}
