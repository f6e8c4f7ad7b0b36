// RFC 7541 §6 and §7: encoding header blocks.
import { ErrorCode, Http2Error } from '../error.js';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { STATIC_NAME_INDEX, STATIC_TABLE_LENGTH, Sensitivity } from './static-table.js';

/**
 * How `set-cookie` fields are sent: `never-indexed` (default; cookies are secrets and no proxy may
 * index them after us, RFC 7541 §7.1.3), `without-indexing` (not stored, but re-encodable), or
 * `indexed` (stored in the dynamic table like any other field).
 */
export type SetCookiePolicy = 'never-indexed' | 'without-indexing' | 'indexed';

/** Options of {@link HpackEncoder}. */
export interface HpackEncoderOptions {
  /**
   * Upper bound of our dynamic table whatever the peer allows; the table uses the smaller of this
   * and the peer's SETTINGS_HEADER_TABLE_SIZE. Default 4096.
   */
  maxTableSize?: number;
  /** Policy for `set-cookie`; default `never-indexed`. */
  setCookie?: SetCookiePolicy;
  /** Huffman-code strings unless that makes them longer (`auto`, default), or never (`never`). */
  huffman?: 'auto' | 'never';
}

/**
 * Per name: the newest entry id with that name, and its distinct values with their newest ids.
 * Parallel arrays while a name has few values (a short scan beats hashing into a Map per name);
 * a Map once it has many, such as cookies or paths that differ in their last octets.
 */
interface NameEntries {
  latest: number;
  values: string[];
  ids: number[];
  byValue: Map<string, number> | null;
}

const SCAN_LIMIT = 8;

/** The encoder's dynamic table, with an index from fields to entry ids for lookups. */
class IndexedTable extends DynamicTable {
  readonly byName = new Map<string, NameEntries>();

  /** The newest id of the entry `name: value`, or -1. */
  find(entries: NameEntries, value: string): number {
    if (entries.byValue !== null) return entries.byValue.get(value) ?? -1;
    const values = entries.values;
    for (let i = 0; i < values.length; i++) if (values[i] === value) return entries.ids[i];
    return -1;
  }

  /** Inserts `name: value`; `entries` is what `byName` held for the name before, if anything. */
  insert(name: string, value: string, entries: NameEntries | undefined): void {
    this.add(name, value);
    if (name.length + value.length + ENTRY_OVERHEAD > this.capacity) return;
    const id = this.inserted;
    // Evictions by add() may have emptied and dropped the record.
    if (entries === undefined || this.byName.get(name) !== entries) {
      this.byName.set(name, { latest: id, values: [value], ids: [id], byValue: null });
      return;
    }
    entries.latest = id;
    if (entries.byValue !== null) {
      entries.byValue.set(value, id);
      return;
    }
    const values = entries.values;
    for (let i = 0; i < values.length; i++) {
      if (values[i] === value) {
        entries.ids[i] = id;
        return;
      }
    }
    if (values.length < SCAN_LIMIT) {
      values.push(value);
      entries.ids.push(id);
      return;
    }
    const byValue = new Map<string, number>();
    for (let i = 0; i < values.length; i++) byValue.set(values[i], entries.ids[i]);
    byValue.set(value, id);
    entries.byValue = byValue;
    entries.values = [];
    entries.ids = [];
  }

  protected override evicted(name: string, value: string, id: number): void {
    const entries = this.byName.get(name);
    if (entries === undefined) return;
    if (entries.byValue !== null) {
      if (entries.byValue.get(value) === id) {
        entries.byValue.delete(value);
        if (entries.byValue.size === 0) this.byName.delete(name);
      }
      return;
    }
    const ids = entries.ids;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== id) continue;
      // Order does not matter: move the last pair into the hole.
      const last = ids.length - 1;
      ids[i] = ids[last];
      entries.values[i] = entries.values[last];
      ids.pop();
      entries.values.pop();
      if (last === 0) this.byName.delete(name);
      return;
    }
  }
}

/**
 * An HPACK encoder: one per connection direction; blocks must reach the peer in the order they
 * were encoded.
 *
 * Takes the same flat `[name, value, …]` arrays the decoder produces. Names must already be
 * lowercase (RFC 9113 §8.2.1); strings are sent one octet per char (latin1). `authorization`,
 * `proxy-authorization`, cookies shorter than 20 octets and (by default) `set-cookie` are sent as
 * never-indexed literals (RFC 7541 §7.1.3).
 */
export class HpackEncoder {
  private readonly table: IndexedTable;
  private readonly limit: number;
  private readonly setCookie: SetCookiePolicy;
  private readonly huffman: boolean;
  /** Size updates owed at the start of the next block (RFC 7541 §4.2), -1 when none. */
  private pendingSmallest = -1;
  private pendingFinal = -1;
  private out: Buffer = Buffer.allocUnsafe(1024);
  private pos = 0;
  /** Set when a block failed after changing the table: the peer's copy can no longer match. */
  private failure: Http2Error | null = null;

  constructor(options: HpackEncoderOptions = {}) {
    const limit = options.maxTableSize ?? 4096;
    if (!Number.isInteger(limit) || limit < 0 || limit > 0xffffffff) {
      throw invalid(`maxTableSize must be an integer in 0..2^32-1, got ${limit}`, 'ERR_HPACK_INVALID_OPTION');
    }
    const setCookie = options.setCookie ?? 'never-indexed';
    if (setCookie !== 'never-indexed' && setCookie !== 'without-indexing' && setCookie !== 'indexed') {
      throw invalid(`setCookie must be never-indexed, without-indexing or indexed, got ${String(setCookie)}`, 'ERR_HPACK_INVALID_OPTION');
    }
    this.limit = limit;
    this.setCookie = setCookie;
    this.huffman = options.huffman !== 'never';
    // The peer's decoder starts at 4096 (RFC 9113 §6.5.2); start below it only by saying so.
    this.table = new IndexedTable(Math.min(limit, 4096));
    if (limit < 4096) this.pendingSmallest = this.pendingFinal = limit;
  }

  /** Octets in the dynamic table now. */
  get tableSize(): number {
    return this.table.size;
  }

  /** The dynamic table's current maximum (after pending updates are sent). */
  get tableCapacity(): number {
    return this.pendingFinal >= 0 ? this.pendingFinal : this.table.capacity;
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table becomes min(size, maxTableSize) and
   * the next block starts with the size update(s) that tell the peer.
   */
  setMaxTableSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) {
      throw invalid(`table size must be an integer in 0..2^32-1, got ${size}`, 'ERR_HPACK_INVALID_OPTION');
    }
    const capacity = Math.min(size, this.limit);
    if (capacity === this.tableCapacity && this.pendingFinal < 0) return;
    this.pendingSmallest = this.pendingSmallest < 0 ? capacity : Math.min(this.pendingSmallest, capacity);
    this.pendingFinal = capacity;
  }

  /**
   * Encodes one header block from a flat `[name, value, …]` list and returns it in a new Buffer.
   * `neverIndexed` lists, in ascending order, positions in `headers` of names whose fields must be
   * sent never-indexed (as returned by {@link HpackDecoder.decode}).
   *
   * Validate fields first (the session must anyway, RFC 9113 §8.2.1): a field the encoder refuses
   * after earlier fields of the same block changed the dynamic table leaves the encoder out of
   * step with the peer, and every later call then throws `ERR_HPACK_ENCODER_FAILED`.
   * @throws Http2Error `ERR_HPACK_INVALID_FIELD` for an odd-length list or a char above 255.
   */
  encode(headers: readonly string[], neverIndexed?: readonly number[]): Buffer {
    if (this.failure !== null) throw this.failure;
    if ((headers.length & 1) !== 0) throw invalid(`header list must hold name, value pairs; got ${headers.length} items`);
    const insertedBefore = this.table.inserted;
    const resizing = this.pendingFinal >= 0;
    try {
      return this.block(headers, neverIndexed);
    } catch (error) {
      if (resizing || this.table.inserted !== insertedBefore) {
        this.failure = new Http2Error(
          'ERR_HPACK_ENCODER_FAILED',
          ErrorCode.INTERNAL_ERROR,
          `HPACK encoder: a block failed after changing the dynamic table (${(error as Error).message}); end the connection`,
        );
      }
      throw error;
    }
  }

  private block(headers: readonly string[], neverIndexed: readonly number[] | undefined): Buffer {
    this.pos = 0;
    this.reserve(12);
    if (this.pendingFinal >= 0) {
      // RFC 7541 §4.2: the smallest size first when the limit went down and up again.
      if (this.pendingSmallest < this.pendingFinal) {
        this.integer(this.pendingSmallest, 5, 0x20);
        this.table.resize(this.pendingSmallest);
      }
      this.integer(this.pendingFinal, 5, 0x20);
      this.table.resize(this.pendingFinal);
      this.pendingSmallest = this.pendingFinal = -1;
    }
    let nextSensitive = neverIndexed !== undefined && neverIndexed.length > 0 ? neverIndexed[0] : -1;
    let sensitiveAt = 0;
    for (let i = 0; i < headers.length; i += 2) {
      let sensitive = false;
      if (i === nextSensitive) {
        sensitive = true;
        sensitiveAt++;
        nextSensitive = sensitiveAt < neverIndexed!.length ? neverIndexed![sensitiveAt] : -1;
      }
      this.field(headers[i], headers[i + 1], sensitive);
    }
    const length = this.pos;
    const block = Buffer.allocUnsafe(length);
    // Most blocks are a few dozen octets: a loop beats the native copy's call overhead.
    if (length <= 64) for (let i = 0; i < length; i++) block[i] = this.out[i];
    else this.out.copy(block, 0, 0, length);
    return block;
  }

  private field(name: string, value: string, forceNeverIndexed: boolean): void {
    // Huffman codes of rare octets run up to 30 bits: room for 4 octets per char.
    this.reserve(4 * (name.length + value.length) + 16);
    const table = this.table;
    const known = STATIC_NAME_INDEX.get(name);
    let mode = 0x40; // literal with incremental indexing, 6-bit name index
    if (forceNeverIndexed) {
      mode = 0x10;
    } else if (known !== undefined) {
      const sensitivity = known.sensitivity;
      if (sensitivity !== Sensitivity.None && this.isSensitive(sensitivity, value)) {
        mode = 0x10;
      } else {
        const staticIndex = known.values.get(value);
        if (staticIndex !== undefined) {
          this.integer(staticIndex, 7, 0x80);
          return;
        }
      }
    }
    const entries = table.byName.get(name);
    if (mode !== 0x10) {
      if (entries !== undefined) {
        const id = table.find(entries, value);
        if (id > 0) {
          this.integer(STATIC_TABLE_LENGTH + table.indexOfId(id), 7, 0x80);
          return;
        }
      }
      // Entries that would flush most of the table are sent without indexing.
      if ((name.length + value.length + ENTRY_OVERHEAD) * 4 > table.capacity * 3) mode = 0x00;
      else if (known !== undefined && known.sensitivity === Sensitivity.SetCookie && this.setCookie === 'without-indexing') mode = 0x00;
    }
    let nameIndex = 0;
    if (known !== undefined) nameIndex = known.index;
    else if (entries !== undefined) nameIndex = STATIC_TABLE_LENGTH + table.indexOfId(entries.latest);
    if (nameIndex > 0) {
      this.integer(nameIndex, mode === 0x40 ? 6 : 4, mode);
    } else {
      this.out[this.pos++] = mode;
      this.string(name);
    }
    this.string(value);
    if (mode === 0x40) table.insert(name, value, entries);
  }

  /** RFC 7541 §7.1.3: fields a dictionary attack could guess are never indexed. */
  private isSensitive(sensitivity: Sensitivity, value: string): boolean {
    if (sensitivity === Sensitivity.Always) return true;
    if (sensitivity === Sensitivity.ShortValues) return value.length < 20;
    return this.setCookie === 'never-indexed';
  }

  /** RFC 7541 §5.1: `value` with an N-bit prefix, the first octet's high bits set to `flags`. */
  private integer(value: number, prefixBits: number, flags: number): void {
    const out = this.out;
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      out[this.pos++] = flags | value;
      return;
    }
    out[this.pos++] = flags | max;
    value -= max;
    while (value >= 0x80) {
      out[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    out[this.pos++] = value;
  }

  /** RFC 7541 §5.2: a string literal, Huffman-coded unless that is longer (as RFC 7541 C.6 does). */
  private string(value: string): void {
    const out = this.out;
    const start = this.pos;
    if (this.huffman && value.length < 0x7f) {
      // One pass: Huffman-code after a one-octet length, keep it unless raw is shorter.
      const end = huffmanEncode(value, out, start + 1);
      if (end < 0) throw nonOctet(value);
      const length = end - start - 1;
      if (length <= value.length) {
        out[start] = 0x80 | length;
        this.pos = end;
        return;
      }
    } else if (this.huffman) {
      const length = huffmanEncodedLength(value);
      if (length < 0) throw nonOctet(value);
      if (length <= value.length) {
        this.integer(length, 7, 0x80);
        this.pos = huffmanEncode(value, out, this.pos);
        return;
      }
    }
    // With Huffman on, the checks above already refused chars above 255.
    if (!this.huffman && huffmanEncodedLength(value) < 0) throw nonOctet(value);
    this.integer(value.length, 7, 0x00);
    this.pos += (out as unknown as Latin1Writer).latin1Write(value, this.pos);
  }

  private reserve(octets: number): void {
    if (this.pos + octets <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.pos + octets));
    this.out.copy(grown, 0, 0, this.pos);
    this.out = grown;
  }
}

/** Node's latin1 encoder behind `buffer.write(s, o, 'latin1')`, minus the argument handling. */
interface Latin1Writer {
  latin1Write(value: string, offset: number): number;
}


function nonOctet(value: string): Http2Error {
  return invalid(`field ${JSON.stringify(value.slice(0, 40))} holds a char above 255; fields are octets`);
}

function invalid(message: string, code = 'ERR_HPACK_INVALID_FIELD'): Http2Error {
  return new Http2Error(code, ErrorCode.INTERNAL_ERROR, `HPACK encoder: ${message}`);
}
