import { SluiceError } from './error.js';
import { invalidFieldValueIndex, isToken } from './field.js';

/**
 * An ordered multimap of HTTP fields that keeps each name as it was received (so a transparent
 * proxy re-sends `X-Custom-ID` as it came, RFC 9110 §5.1 makes names case-insensitive, not
 * case-meaningless), finds names case-insensitively, and holds repeated fields in order.
 *
 * Storage is three parallel arrays rather than an object per field: codecs append dozens of fields per
 * message, and arrays of strings cost nothing but the strings.
 */
export class HeaderMap implements Iterable<[name: string, value: string]> {
  private readonly names: string[] = [];
  private readonly keys: string[] = [];
  private readonly values: string[] = [];

  /** Number of fields, counting repeats. */
  get size(): number {
    return this.names.length;
  }

  /**
   * Adds a field after the existing ones, keeping any with the same name.
   * @throws SluiceError `InvalidHTTPHeader` (`ERR_INVALID_HEADER_NAME` / `ERR_INVALID_HEADER_VALUE`)
   */
  append(name: string, value: string): this {
    assertValidField(name, value);
    return this.appendUnchecked(name, value);
  }

  /**
   * Adds a field a codec has already validated byte by byte; skips the second check on hot paths.
   * `key`, the lowercased name, saves a `toLowerCase` when the codec knows it (an interned common
   * name, or a name it saw had no uppercase byte).
   */
  appendUnchecked(name: string, value: string, key: string = name.toLowerCase()): this {
    this.names.push(name);
    this.keys.push(key);
    this.values.push(value);
    return this;
  }

  /**
   * Replaces every field named `name` with one field; it takes the place of the first one it
   * replaces, or goes last.
   */
  set(name: string, value: string): this {
    assertValidField(name, value);
    const key = name.toLowerCase();
    const at = this.keys.indexOf(key);
    if (at === -1) return this.appendUnchecked(name, value);
    this.names[at] = name;
    this.values[at] = value;
    this.removeFrom(key, at + 1);
    return this;
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const at = this.keys.indexOf(name.toLowerCase());
    return at === -1 ? undefined : this.values[at];
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] === key) out.push(this.values[i]);
    return out;
  }

  /** Whether a field named `name` is present. */
  has(name: string): boolean {
    return this.keys.indexOf(name.toLowerCase()) !== -1;
  }

  /** Removes every field named `name`; returns how many were removed. */
  delete(name: string): number {
    return this.removeFrom(name.toLowerCase(), 0);
  }

  /**
   * Removes every field whose lowercased name is in `keys`, in one pass (deleting names one by one
   * scans the map once each); returns how many were removed.
   */
  deleteKeys(keys: ReadonlySet<string>): number {
    let write = 0;
    for (let read = 0; read < this.keys.length; read++) {
      if (keys.has(this.keys[read])) continue;
      if (write !== read) {
        this.names[write] = this.names[read];
        this.keys[write] = this.keys[read];
        this.values[write] = this.values[read];
      }
      write++;
    }
    const removed = this.keys.length - write;
    if (removed > 0) this.names.length = this.keys.length = this.values.length = write;
    return removed;
  }

  /** The name (as received) of the field at `index`. */
  nameAt(index: number): string {
    return this.names[index];
  }

  /** The lowercased name of the field at `index`. */
  keyAt(index: number): string {
    return this.keys[index];
  }

  /** The value of the field at `index`. */
  valueAt(index: number): string {
    return this.values[index];
  }

  /** Removes every field. */
  clear(): void {
    this.names.length = 0;
    this.keys.length = 0;
    this.values.length = 0;
  }

  /** A copy that shares nothing mutable with this map. */
  clone(): HeaderMap {
    const copy = new HeaderMap();
    copy.names.push(...this.names);
    copy.keys.push(...this.keys);
    copy.values.push(...this.values);
    return copy;
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.values[i]];
  }

  /** The fields as `[name, value]` pairs, names as received. */
  entries(): Array<[string, string]> {
    return [...this];
  }

  /** The fields as a plain object with lowercased names; repeated fields become arrays. */
  toObject(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = Object.create(null);
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      const prev = out[k];
      if (prev === undefined) out[k] = this.values[i];
      else if (Array.isArray(prev)) prev.push(this.values[i]);
      else out[k] = [prev, this.values[i]];
    }
    return out;
  }

  private removeFrom(key: string, start: number): number {
    let write = start;
    for (let read = start; read < this.keys.length; read++) {
      if (this.keys[read] === key) continue;
      this.names[write] = this.names[read];
      this.keys[write] = this.keys[read];
      this.values[write] = this.values[read];
      write++;
    }
    const removed = this.keys.length - write;
    this.names.length = this.keys.length = this.values.length = write;
    return removed;
  }
}

/** Throws a typed `InvalidHTTPHeader` error unless `name` is a token and `value` a valid field value. */
export function assertValidField(name: string, value: string): void {
  if (!isToken(name)) {
    throw new SluiceError('InvalidHTTPHeader', {
      code: 'ERR_INVALID_HEADER_NAME',
      context: `field name ${JSON.stringify(name)} is not a token (RFC 9110 §5.1)`,
    });
  }
  const bad = invalidFieldValueIndex(value);
  if (bad !== -1) {
    throw new SluiceError('InvalidHTTPHeader', {
      code: 'ERR_INVALID_HEADER_VALUE',
      context: `value of ${name} has byte 0x${value.charCodeAt(bad).toString(16).padStart(2, '0')} at index ${bad} (RFC 9110 §5.5)`,
    });
  }
}
