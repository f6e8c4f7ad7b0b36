// Odd multipliers, one per row, so that one 32-bit key hash gives each row its own column.
const ROW_MULTIPLIERS = new Int32Array([0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f]);

/** Upper bound on sketch rows (Pingora: log2(n)); past 4 rows the hit ratio gains < 0.1pp (see README). */
export const MAX_SKETCH_DEPTH = 4;

/**
 * TinyLFU's frequency estimate: a count-min sketch of saturating 8-bit counters that is halved
 * ("aged") every `8 × estimatedSize` increments, so old popularity fades (Einziger et al., TinyLFU §3.3).
 * Like Pingora's tinyufo it has no doorkeeper and is fed only on admission, not on reads, so it mostly
 * sketches the less popular keys, where the admission decision matters.
 */
export class TinyLfu {
  readonly width: number;
  readonly depth: number;
  readonly windowLimit: number;
  private readonly counters: Uint8Array;
  private readonly words: Uint32Array;
  private window = 0;

  /**
   * Sizes the sketch as Pingora does: width e·n columns, log2(n) rows (capped at `MAX_SKETCH_DEPTH`),
   * where n is the expected number of entries.
   */
  constructor(estimatedSize: number) {
    const items = Math.max(1, estimatedSize);
    this.width = Math.max(16, Math.ceil(Math.E * items));
    this.depth = Math.min(MAX_SKETCH_DEPTH, Math.max(2, Math.ceil(Math.log2(items))));
    this.windowLimit = items * 8;
    const bytes = Math.ceil((this.width * this.depth) / 4) * 4;
    this.counters = new Uint8Array(bytes);
    this.words = new Uint32Array(this.counters.buffer);
  }

  /** Counts one more occurrence of `hash` and returns its new estimate (0-255). */
  incr(hash: number): number {
    if (++this.window > this.windowLimit) {
      this.window = 0;
      this.age();
    }
    const { counters, width } = this;
    let min = 255;
    for (let row = 0, base = 0; row < this.depth; row++, base += width) {
      const i = base + column(hash, row, width);
      let c = counters[i];
      if (c < 255) counters[i] = ++c;
      if (c < min) min = c;
    }
    return min;
  }

  /** The estimated number of occurrences of `hash` (0-255). */
  get(hash: number): number {
    const { counters, width } = this;
    let min = 255;
    for (let row = 0, base = 0; row < this.depth; row++, base += width) {
      const c = counters[base + column(hash, row, width)];
      if (c < min) min = c;
    }
    return min;
  }

  /** Halves every counter: four 8-bit counters per 32-bit word, the bit shifted in from a neighbour masked off. */
  age(): void {
    const words = this.words;
    for (let i = 0; i < words.length; i++) words[i] = (words[i] >>> 1) & 0x7f7f7f7f;
  }

  /** Bytes held by the counters. */
  get byteLength(): number {
    return this.counters.byteLength;
  }
}

// Row `row`'s column: multiply-shift hashing (Dietzfelbinger et al.), an odd multiplier per row
// over the already mixed key hash, then the top 32 bits scaled onto [0, width) without a division.
function column(hash: number, row: number, width: number): number {
  return (((Math.imul(hash, ROW_MULTIPLIERS[row]) >>> 0) * width) / 4294967296) | 0;
}
