// RFC 7541 §5.2 and Appendix B: the static Huffman code of HPACK string literals.
//
// The code is canonical: sorted by (length, symbol), each code is the previous one plus one,
// shifted left when the length grows. So the 257 lengths below are the whole table; codes are
// derived at module load and the test suite checks them against the RFC's examples.
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30, // EOS (256)
];

const EOS = 256;

/** Bit length of each octet's code. */
export const HUFFMAN_LENGTHS = new Uint8Array(256);
/** The code of each octet, right-aligned (at most 30 bits, so it fits an unsigned 32-bit word). */
export const HUFFMAN_CODES = new Uint32Array(257);

{
  const symbols = Array.from({ length: 257 }, (_, i) => i).sort(
    (a, b) => CODE_LENGTHS[a] - CODE_LENGTHS[b] || a - b,
  );
  let code = 0;
  let length = CODE_LENGTHS[symbols[0]];
  for (const symbol of symbols) {
    code = (code << (CODE_LENGTHS[symbol] - length)) >>> 0;
    length = CODE_LENGTHS[symbol];
    HUFFMAN_CODES[symbol] = code;
    code++;
  }
  HUFFMAN_LENGTHS.set(CODE_LENGTHS.slice(0, 256));
}

// ---- decoding: a 4-bit state machine -------------------------------------------------------
//
// The states are the 256 internal nodes of the code tree (257 leaves). For every state and every
// nibble, DECODE_TABLE holds where four more bits lead: the next state, the octet completed on the
// way (at most one, since the shortest code has 5 bits) and whether EOS was reached, which is an
// error inside a string (RFC 7541 §5.2). ACCEPTING marks the states a string may end in: the root,
// or a path of at most 7 one-bits, i.e. padding made of the high bits of EOS.
const EMITS = 0x100;
const FAILS = 0x200;
const DECODE_TABLE = new Uint32Array(256 * 16);
const ACCEPTING = new Uint8Array(256);

{
  // Build the tree: children[node * 2 + bit], a value >= 0 is an internal node, -1 - symbol a leaf.
  const children = new Int32Array(256 * 2).fill(0x7fffffff);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = HUFFMAN_CODES[symbol];
    const length = CODE_LENGTHS[symbol];
    let node = 0;
    for (let i = length - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        children[slot] = -1 - symbol;
      } else {
        if (children[slot] === 0x7fffffff) {
          const child = nodes++;
          children[slot] = child;
          depth[child] = depth[node] + 1;
          allOnes[child] = allOnes[node] & bit;
        }
        node = children[slot];
      }
    }
  }
  for (let state = 0; state < 256; state++) {
    ACCEPTING[state] = state === 0 || (allOnes[state] === 1 && depth[state] <= 7) ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const next = children[node * 2 + ((nibble >>> i) & 1)];
        if (next >= 0) {
          node = next;
        } else if (-1 - next === EOS) {
          entry |= FAILS;
          break;
        } else {
          entry |= EMITS | ((-1 - next) << 16);
          node = 0;
        }
      }
      DECODE_TABLE[state * 16 + nibble] = entry | node;
    }
  }
}

/**
 * The exact number of octets `value` takes Huffman-coded, or -1 when it holds a char above 255,
 * which is not an octet.
 */
export function huffmanEncodedLength(value: string): number {
  let bits = 0;
  for (let i = 0; i < value.length; i++) {
    const char = value.charCodeAt(i);
    if (char > 0xff) return -1;
    bits += HUFFMAN_LENGTHS[char];
  }
  return (bits + 7) >>> 3;
}

/**
 * Huffman-codes `value` into `target` at `offset`, padding the last octet with the high bits of
 * EOS; returns the offset after the last octet written, or -1 when `value` holds a char above
 * 255. `target` needs room for `huffmanEncodedLength(value)` octets (at most 4 per char).
 */
export function huffmanEncode(value: string, target: Uint8Array, offset: number): number {
  let pending = 0; // pending bits, right-aligned
  let count = 0; // how many, always < 8 between symbols
  let at = offset;
  for (let i = 0; i < value.length; i++) {
    const symbol = value.charCodeAt(i);
    if (symbol > 0xff) return -1;
    let length = HUFFMAN_LENGTHS[symbol];
    let code = HUFFMAN_CODES[symbol];
    if (length > 24) {
      // Keep pending + length within 31 bits: push the high part first.
      const high = length - 8;
      pending = (pending << high) | (code >>> 8);
      count += high;
      while (count >= 8) {
        count -= 8;
        target[at++] = pending >>> count;
      }
      pending &= (1 << count) - 1;
      code &= 0xff;
      length = 8;
    }
    pending = (pending << length) | code;
    count += length;
    while (count >= 8) {
      count -= 8;
      target[at++] = pending >>> count;
    }
    pending &= (1 << count) - 1;
  }
  if (count > 0) target[at++] = (pending << (8 - count)) | (0xff >>> count);
  return at;
}

/**
 * Decodes the Huffman string in `source[start, end)` into `target` from offset 0, which must hold
 * `maxHuffmanDecodedLength(end - start)` octets. Returns the decoded length, or -1 when the input
 * contains EOS, or ends in padding longer than 7 bits or not made of one-bits (RFC 7541 §5.2).
 */
export function huffmanDecode(source: Uint8Array, start: number, end: number, target: Uint8Array): number {
  let state = 0;
  let at = 0;
  for (let i = start; i < end; i++) {
    const octet = source[i];
    let entry = DECODE_TABLE[(state << 4) | (octet >>> 4)];
    if ((entry & (EMITS | FAILS)) !== 0) {
      if ((entry & FAILS) !== 0) return -1;
      target[at++] = entry >>> 16;
    }
    entry = DECODE_TABLE[((entry & 0xff) << 4) | (octet & 0x0f)];
    if ((entry & (EMITS | FAILS)) !== 0) {
      if ((entry & FAILS) !== 0) return -1;
      target[at++] = entry >>> 16;
    }
    state = entry & 0xff;
  }
  return ACCEPTING[state] === 1 ? at : -1;
}

/** Upper bound of the decoded length of `encodedLength` Huffman octets (shortest code: 5 bits). */
export function maxHuffmanDecodedLength(encodedLength: number): number {
  return Math.floor((encodedLength * 8) / 5);
}
