// RFC 7541 §3 and §6: decoding header blocks.
import { ErrorCode, Http2Error } from '../error.js';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { huffmanDecode, maxHuffmanDecodedLength } from './huffman.js';
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './static-table.js';

/** Options of {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * The dynamic table size we allow the peer's encoder: our SETTINGS_HEADER_TABLE_SIZE.
   * Default 4096 (RFC 9113 §6.5.2).
   */
  maxTableSize?: number;
  /**
   * Largest decoded header list, counting each field as name + value + 32 octets (RFC 9113
   * §6.5.2); a block beyond it fails with COMPRESSION_ERROR before the field is stored.
   * Default 65536.
   */
  maxHeaderListSize?: number;
}

const INTEGER_LIMIT = 0x7fffffff;

/**
 * An HPACK decoder: one per connection direction, fed every header block in order.
 *
 * Fields come out as a flat array `[name, value, name, value, …]` of latin1 strings (one char per
 * octet, so any octet round-trips): no object per field, names from the tables are shared
 * strings, and the session can validate and copy them straight into its header map.
 */
export class HpackDecoder {
  private readonly table: DynamicTable;
  private maxTableSize: number;
  private readonly maxHeaderListSize: number;
  /** Set when SETTINGS lowered the limit below the table's capacity: the next block must resize. */
  private resizeRequired = false;
  private scratch: Buffer = Buffer.allocUnsafe(256);
  private pos = 0;

  constructor(options: HpackDecoderOptions = {}) {
    this.maxTableSize = checkSize(options.maxTableSize ?? 4096, 'maxTableSize');
    this.maxHeaderListSize = checkSize(options.maxHeaderListSize ?? 65536, 'maxHeaderListSize');
    this.table = new DynamicTable(this.maxTableSize);
  }

  /** Octets in the dynamic table now. */
  get tableSize(): number {
    return this.table.size;
  }

  /** The dynamic table's current maximum, as last set by the peer's size update. */
  get tableCapacity(): number {
    return this.table.capacity;
  }

  /** Number of entries in the dynamic table. */
  get tableLength(): number {
    return this.table.length;
  }

  /**
   * Applies a new SETTINGS_HEADER_TABLE_SIZE once the peer has acknowledged it. When it is below
   * the table's current capacity, the next block must start with a size update (RFC 7541 §4.2).
   */
  setMaxTableSize(size: number): void {
    this.maxTableSize = checkSize(size, 'maxTableSize');
    if (size < this.table.capacity) this.resizeRequired = true;
  }

  /**
   * Decodes one complete header block (HEADERS plus its CONTINUATIONs), appending its fields to
   * `headers` as name, value pairs and returning it. When `neverIndexed` is given, the position in
   * `headers` of each field sent as never-indexed (RFC 7541 §6.2.3) is appended to it, so a proxy
   * can re-encode those the same way.
   * @throws Http2Error with COMPRESSION_ERROR on any malformed or oversized input; the connection
   *   must then end, as the table is out of step with the peer's.
   */
  decode(block: Uint8Array, headers: string[] = [], neverIndexed?: number[]): string[] {
    const end = block.length;
    const table = this.table;
    let listSize = 0;
    let fieldsStarted = false;
    this.pos = 0;
    while (this.pos < end) {
      const first = block[this.pos];
      let name: string;
      let value: string;
      if (first >= 0x80) {
        // §6.1 indexed field
        const index = this.integer(block, end, 7);
        if (index <= STATIC_TABLE_LENGTH) {
          if (index === 0) throw compressionError('ERR_HPACK_INVALID_INDEX', 'index 0', this.pos);
          name = STATIC_NAMES[index - 1];
          value = STATIC_VALUES[index - 1];
        } else {
          const dynamic = index - STATIC_TABLE_LENGTH;
          if (dynamic > table.length) throw this.badIndex(index);
          name = table.name(dynamic);
          value = table.value(dynamic);
        }
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize > this.maxHeaderListSize) throw this.tooLarge(listSize);
      } else if (first >= 0x20 && first < 0x40) {
        // §6.3 dynamic table size update, only before the first field (§4.2)
        if (fieldsStarted) {
          throw compressionError('ERR_HPACK_LATE_SIZE_UPDATE', 'table size update after a field', this.pos);
        }
        const size = this.integer(block, end, 5);
        if (size > this.maxTableSize) {
          throw compressionError(
            'ERR_HPACK_TABLE_SIZE_EXCEEDED',
            `table size update to ${size} above the limit ${this.maxTableSize}`,
            this.pos,
          );
        }
        table.resize(size);
        this.resizeRequired = false;
        continue;
      } else {
        // §6.2 literal field: with incremental indexing (01), never indexed (0001) or without (0000)
        const indexing = first >= 0x40;
        const prefix = indexing ? 6 : 4;
        const nameIndex = this.integer(block, end, prefix);
        if (nameIndex === 0) {
          name = this.string(block, end, this.maxHeaderListSize - listSize - ENTRY_OVERHEAD);
        } else if (nameIndex <= STATIC_TABLE_LENGTH) {
          name = STATIC_NAMES[nameIndex - 1];
        } else {
          const dynamic = nameIndex - STATIC_TABLE_LENGTH;
          if (dynamic > table.length) throw this.badIndex(nameIndex);
          name = table.name(dynamic);
        }
        value = this.string(block, end, this.maxHeaderListSize - listSize - ENTRY_OVERHEAD - name.length);
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize > this.maxHeaderListSize) throw this.tooLarge(listSize);
        if (indexing) table.add(name, value);
        else if (first >= 0x10 && neverIndexed !== undefined) neverIndexed.push(headers.length);
      }
      if (!fieldsStarted) {
        fieldsStarted = true;
        if (this.resizeRequired) {
          throw compressionError(
            'ERR_HPACK_SIZE_UPDATE_MISSING',
            `block must start with a table size update to at most ${this.maxTableSize}`,
            0,
          );
        }
      }
      headers.push(name, value);
    }
    if (this.resizeRequired) {
      throw compressionError(
        'ERR_HPACK_SIZE_UPDATE_MISSING',
        `block must start with a table size update to at most ${this.maxTableSize}`,
        0,
      );
    }
    return headers;
  }

  /** RFC 7541 §5.1: an integer with an N-bit prefix starting at this.pos. */
  private integer(block: Uint8Array, end: number, prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let value = block[this.pos++] & max;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= end) throw compressionError('ERR_HPACK_TRUNCATED', 'integer runs past the block end', end);
      const octet = block[this.pos++];
      value += (octet & 0x7f) * 2 ** shift;
      if (value > INTEGER_LIMIT) {
        throw compressionError('ERR_HPACK_INTEGER_OVERFLOW', `integer above ${INTEGER_LIMIT}`, this.pos - 1);
      }
      if (octet < 0x80) return value;
      shift += 7;
      // Zero continuation octets keep the value small: bound the encoding's length too.
      if (shift > 28) {
        throw compressionError('ERR_HPACK_INTEGER_OVERFLOW', 'integer encoding longer than 5 octets', this.pos);
      }
    }
  }

  /** RFC 7541 §5.2: a string literal at this.pos, refused when longer than `budget` octets. */
  private string(block: Uint8Array, end: number, budget: number): string {
    if (this.pos >= end) throw compressionError('ERR_HPACK_TRUNCATED', 'string literal missing at the block end', end);
    const huffman = block[this.pos] >= 0x80;
    const length = this.integer(block, end, 7);
    const start = this.pos;
    if (length > end - start) {
      throw compressionError('ERR_HPACK_TRUNCATED', `string of ${length} octets runs past the block end`, start);
    }
    this.pos = start + length;
    if (!huffman) {
      if (length > budget) throw this.tooLarge(this.maxHeaderListSize - budget + length);
      return latin1(block, start, start + length);
    }
    // Decoded, Huffman strings grow by at most 8/5; refuse before decoding when even the
    // smallest outcome (30-bit codes) would not fit.
    if (Math.floor((length * 8) / 30) > budget) throw this.tooLarge(this.maxHeaderListSize - budget + length);
    const bound = maxHuffmanDecodedLength(length);
    if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafe(Math.max(bound, this.scratch.length * 2));
    const decoded = huffmanDecode(block, start, start + length, this.scratch);
    if (decoded < 0) throw compressionError('ERR_HPACK_INVALID_HUFFMAN', 'invalid Huffman code or padding', start);
    if (decoded > budget) throw this.tooLarge(this.maxHeaderListSize - budget + decoded);
    return (this.scratch as unknown as Latin1Slicer).latin1Slice(0, decoded);
  }

  private badIndex(index: number): Http2Error {
    return compressionError(
      'ERR_HPACK_INVALID_INDEX',
      `index ${index} beyond the tables (${STATIC_TABLE_LENGTH} static + ${this.table.length} dynamic)`,
      this.pos,
    );
  }

  private tooLarge(size: number): Http2Error {
    return compressionError(
      'ERR_HPACK_HEADER_LIST_TOO_LARGE',
      `header list of at least ${size} octets exceeds maxHeaderListSize ${this.maxHeaderListSize}`,
      this.pos,
    );
  }
}

/** Node's latin1 decoder behind `buffer.toString('latin1')`, minus the argument handling. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

function latin1(block: Uint8Array, start: number, end: number): string {
  const buffer = block instanceof Buffer ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  return (buffer as unknown as Latin1Slicer).latin1Slice(start, end);
}

function compressionError(code: string, what: string, offset: number): Http2Error {
  return new Http2Error(code, ErrorCode.COMPRESSION_ERROR, `HPACK: ${what} (at block offset ${offset})`);
}

function checkSize(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Http2Error('ERR_HPACK_INVALID_OPTION', ErrorCode.INTERNAL_ERROR, `${option} must be an integer in 0..2^32-1, got ${value}`);
  }
  return value;
}
