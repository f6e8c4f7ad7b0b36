// 32-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/): offset basis 2166136261, prime 16777619.
// Strings are hashed as their UTF-8 bytes without building a Buffer.

const OFFSET_BASIS = 0x811c9dc5;

function step(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193);
}

/** FNV-1a (32-bit) of a string's UTF-8 bytes or of raw bytes; unsigned. */
export function fnv1a32(key: string | Uint8Array): number {
  let h = OFFSET_BASIS;
  if (typeof key !== 'string') {
    for (let i = 0; i < key.length; i++) h = step(h, key[i]);
    return h >>> 0;
  }
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c < 0x80) {
      h = step(h, c);
      continue;
    }
    if (c < 0x800) {
      h = step(step(h, 0xc0 | (c >> 6)), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < key.length) {
      const low = key.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
        h = step(step(step(step(h, 0xf0 | (c >> 18)), 0x80 | ((c >> 12) & 0x3f)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
        continue;
      }
    }
    // A lone surrogate encodes as U+FFFD, as Buffer.from(string) does.
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    h = step(step(step(h, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
  }
  return h >>> 0;
}
