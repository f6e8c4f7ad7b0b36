// Bodies for tests that pass large bodies through the proxy without copies: bytes that differ
// everywhere, so a piece shown twice, late or overwritten does not hash as sent.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** `size` pseudo-random bytes (xorshift32 from `seed`): the same for a seed on every run. */
export function bodyOf(seed: number, size: number): Buffer {
  const body = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    body[i] = x & 0xff;
  }
  return body;
}

/** SHA-256 of `bytes`, in hex. */
export const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Collects `readable`'s bytes; when `slow`, in fits and starts (a pause at first, then one after every
 * fourth piece), so whoever writes to it backs up and has writes taken in part.
 */
export function collect(readable: Readable, slow: boolean, pauses = { firstMs: 200, everyMs: 15 }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    let n = 0;
    if (slow) {
      readable.pause();
      setTimeout(() => readable.resume(), pauses.firstMs);
    }
    readable.on('data', (d: Buffer) => {
      pieces.push(d);
      if (slow && ++n % 4 === 0) {
        readable.pause();
        void sleep(pauses.everyMs).then(() => readable.resume());
      }
    });
    readable.on('end', () => resolve(Buffer.concat(pieces)));
    readable.on('error', reject);
  });
}
