import type { HeaderMap } from '@sluice/core';
import { serializeFields } from './serializer.js';

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
