// RFC 7541 §2.3.2 and §4: the dynamic table, a FIFO of fields bounded by octet size.
//
// A ring buffer of names and values: inserting and evicting move two indices, never the entries.
// Sizes count one octet per char (fields are octet strings held as latin1 JavaScript strings).

/** RFC 7541 §4.1: every entry costs its name and value lengths plus 32 octets of overhead. */
export const ENTRY_OVERHEAD = 32;

export class DynamicTable {
  /** Sum of the entries' sizes, always <= {@link capacity}. */
  size = 0;
  /** Number of entries. */
  length = 0;
  /** Current maximum size (the last size update, RFC 7541 §4.2). */
  capacity: number;
  /** Entries inserted since creation; entry ids count from 1, so the newest has id `inserted`. */
  inserted = 0;

  private names: string[];
  private values: string[];
  private mask: number;
  private oldest = 0; // ring position of the oldest entry

  constructor(capacity: number) {
    this.capacity = capacity;
    const slots = slotsFor(capacity);
    this.names = new Array<string>(slots).fill('');
    this.values = new Array<string>(slots).fill('');
    this.mask = slots - 1;
  }

  /** Name of the entry at dynamic index `index` (1 = newest); the caller checks the range. */
  name(index: number): string {
    return this.names[(this.oldest + this.length - index) & this.mask];
  }

  /** Value of the entry at dynamic index `index` (1 = newest); the caller checks the range. */
  value(index: number): string {
    return this.values[(this.oldest + this.length - index) & this.mask];
  }

  /** Dynamic index (1 = newest) of the entry with id `id`, or 0 when it was evicted. */
  indexOfId(id: number): number {
    const index = this.inserted - id + 1;
    return index >= 1 && index <= this.length ? index : 0;
  }

  /**
   * Inserts a field, first evicting the oldest entries until it fits; a field larger than the
   * whole capacity empties the table and is not inserted (RFC 7541 §4.4).
   */
  add(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.capacity) {
      while (this.length > 0) this.evictOldest();
      return;
    }
    while (this.size + entrySize > this.capacity) this.evictOldest();
    const at = (this.oldest + this.length) & this.mask;
    this.names[at] = name;
    this.values[at] = value;
    this.length++;
    this.size += entrySize;
    this.inserted++;
  }

  /** Applies a new maximum size, evicting as needed (RFC 7541 §4.3). */
  resize(capacity: number): void {
    this.capacity = capacity;
    while (this.size > capacity) this.evictOldest();
    const slots = slotsFor(capacity);
    if (slots > this.names.length) {
      // Grow the ring, unrolling it so the oldest entry lands at position 0.
      const names = new Array<string>(slots).fill('');
      const values = new Array<string>(slots).fill('');
      for (let i = 0; i < this.length; i++) {
        names[i] = this.names[(this.oldest + i) & this.mask];
        values[i] = this.values[(this.oldest + i) & this.mask];
      }
      this.names = names;
      this.values = values;
      this.mask = slots - 1;
      this.oldest = 0;
    }
  }

  /** Called with each entry as it leaves the table; the encoder overrides it to drop its index. */
  protected evicted(_name: string, _value: string, _id: number): void {}

  private evictOldest(): void {
    const at = this.oldest;
    const id = this.inserted - this.length + 1;
    const name = this.names[at];
    const value = this.values[at];
    this.names[at] = '';
    this.values[at] = '';
    this.oldest = (at + 1) & this.mask;
    this.length--;
    this.size -= name.length + value.length + ENTRY_OVERHEAD;
    this.evicted(name, value, id);
  }
}

/** Ring slots for a capacity: at most capacity / 32 entries fit, rounded up to a power of two. */
function slotsFor(capacity: number): number {
  const entries = Math.max(1, Math.floor(capacity / ENTRY_OVERHEAD));
  let slots = 1;
  while (slots < entries) slots *= 2;
  return slots;
}
