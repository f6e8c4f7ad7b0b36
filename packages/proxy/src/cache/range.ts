// RFC 9110 §14: byte Range requests served from a complete stored body: parsing, 206 single and
// multipart/byteranges bodies (views of the stored Buffer, never copies), 416 when unsatisfiable.

/** An inclusive byte range, as in Content-Range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The outcome of reading a Range field against a body of known length. */
export type RangeRequest =
  /** Serve the whole body with 200: no Range, another unit, bad syntax or too many ranges (§14.2 allows ignoring). */
  | { kind: 'ignore' }
  /** 416 with `Content-Range: bytes *\/length`. */
  | { kind: 'unsatisfiable' }
  /** 206 with these ranges (one: a plain 206; several: multipart/byteranges). */
  | { kind: 'satisfiable'; ranges: ByteRange[] };

/** Limits of Range handling. */
export interface RangeOptions {
  /**
   * The most ranges honoured in one request; more and the field is ignored (200 with the whole
   * body), as §14.2 allows against abuse. Default 100.
   */
  maxRanges?: number;
}

const IGNORE: RangeRequest = Object.freeze({ kind: 'ignore' });
const UNSATISFIABLE: RangeRequest = Object.freeze({ kind: 'unsatisfiable' });
const DIGITS = /^\d+$/;

/**
 * Reads a Range field (RFC 9110 §14.2) for a body of `length` bytes: `bytes=` then int-ranges
 * (`a-b`, `a-`) and suffix-ranges (`-n`). Ranges past the end are clipped, unsatisfiable members
 * dropped (416 when none is left); overlapping or adjacent ranges are coalesced (§14.6), else the
 * client's order is kept. An empty body ignores Range (a 416 or an empty 206 helps nobody).
 */
export function parseRange(value: string | undefined, length: number, options: RangeOptions = {}): RangeRequest {
  if (value === undefined || length <= 0) return IGNORE;
  const text = value.trim();
  const eq = text.indexOf('=');
  if (eq === -1 || text.slice(0, eq).trim().toLowerCase() !== 'bytes') return IGNORE;
  const maxRanges = options.maxRanges ?? 100;
  const ranges: ByteRange[] = [];
  let members = 0;
  for (const raw of text.slice(eq + 1).split(',')) {
    const spec = raw.trim();
    if (spec.length === 0) continue;
    if (++members > maxRanges) return IGNORE;
    const dash = spec.indexOf('-');
    if (dash === -1) return IGNORE;
    const first = spec.slice(0, dash).trim();
    const last = spec.slice(dash + 1).trim();
    if (first.length === 0) {
      // suffix-range: the last n bytes; satisfiable when n > 0 (§14.1.3).
      if (!DIGITS.test(last)) return IGNORE;
      const n = Number(last);
      if (n > 0) ranges.push({ start: Math.max(0, length - n), end: length - 1 });
      continue;
    }
    if (!DIGITS.test(first) || (last.length > 0 && !DIGITS.test(last))) return IGNORE;
    const start = Number(first);
    if (last.length === 0) {
      if (start < length) ranges.push({ start, end: length - 1 });
      continue;
    }
    const end = Number(last);
    // §14.1.1: last-pos < first-pos makes the whole specifier invalid.
    if (end < start) return IGNORE;
    if (start >= length) continue;
    ranges.push({ start, end: Math.min(end, length - 1) });
  }
  if (members === 0) return IGNORE;
  if (ranges.length === 0) return UNSATISFIABLE;
  return { kind: 'satisfiable', ranges: ranges.length > 1 ? coalesce(ranges) : ranges };
}

// Merges overlapping and adjacent ranges (sorted) when there are any; otherwise keeps the order.
function coalesce(ranges: ByteRange[]): ByteRange[] {
  const sorted = ranges.slice().sort((a, b) => a.start - b.start);
  let touching = false;
  for (let i = 1; i < sorted.length; i++) if (sorted[i].start <= sorted[i - 1].end + 1) { touching = true; break; }
  if (!touching) return ranges;
  const out: ByteRange[] = [{ start: sorted[0].start, end: sorted[0].end }];
  for (let i = 1; i < sorted.length; i++) {
    const top = out[out.length - 1];
    if (sorted[i].start <= top.end + 1) top.end = Math.max(top.end, sorted[i].end);
    else out.push({ start: sorted[i].start, end: sorted[i].end });
  }
  return out;
}

/** The Content-Range of a 206 part (§14.4): `bytes start-end/length`. */
export function contentRange(range: ByteRange, length: number): string {
  return `bytes ${range.start}-${range.end}/${length}`;
}

/** The Content-Range of a 416 (§15.5.17): `bytes *\/length`. */
export function unsatisfiedContentRange(length: number): string {
  return `bytes */${length}`;
}

/** A view of `body` covering `range` (shares memory with `body`). */
export function rangeView(body: Buffer, range: ByteRange): Buffer {
  return body.subarray(range.start, range.end + 1);
}

/** A multipart/byteranges body ready to write: its pieces in order and their total length. */
export interface MultipartByteranges {
  /** The Content-Type of the 206: `multipart/byteranges; boundary=…`. */
  contentType: string;
  /** Part headers, views of the stored body and the closing delimiter, in order. */
  pieces: Buffer[];
  /** The sum of the pieces' lengths, for Content-Length. */
  length: number;
}

/**
 * Builds a multipart/byteranges body (RFC 9110 §14.6) over `body`: each part has Content-Type (when
 * the stored response had one) and Content-Range, and its bytes are a view of `body`, not a copy.
 * @param boundary 1-70 characters from RFC 2046's bchars, not ending in space; pick one that cannot
 *   appear in the body (a random one: `randomBytes(12).toString('hex')`).
 * @throws RangeError when the boundary is not valid.
 */
export function multipartByteranges(body: Buffer, ranges: readonly ByteRange[], contentType: string | undefined, boundary: string): MultipartByteranges {
  if (!/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary)) {
    throw new RangeError(`multipartByteranges: invalid boundary ${JSON.stringify(boundary)} (1-70 RFC 2046 bchars, not ending in space)`);
  }
  const pieces: Buffer[] = [];
  let total = 0;
  const typeLine = contentType === undefined ? '' : `Content-Type: ${contentType}\r\n`;
  for (let i = 0; i < ranges.length; i++) {
    const head = Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\n${typeLine}Content-Range: ${contentRange(ranges[i], body.length)}\r\n\r\n`, 'latin1');
    const view = rangeView(body, ranges[i]);
    pieces.push(head, view);
    total += head.length + view.length;
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  pieces.push(tail);
  total += tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, pieces, length: total };
}
