import { Continuum } from '@sluice/ketama';
import type { Backend } from './backend.js';
import type { BackendIter, BackendSelection, SelectionKey } from './selection.js';

/**
 * Consistent hashing on nginx's Ketama ring (via @sluice/ketama): the first choice for a key is the
 * backend `hash $key consistent` would pick; the fallbacks are the other backends in the order their
 * points follow on the ring, as nginx walks it when a peer is down. Removing a backend moves only
 * its own keys.
 */
export class Consistent implements BackendSelection {
  readonly backends: readonly Backend[];
  readonly ring: Continuum<string>;
  /** Ring address -> backend index (the first backend with that address). */
  readonly #indexOf = new Map<string, number>();

  private constructor(backends: readonly Backend[]) {
    this.backends = backends.slice();
    this.ring = new Continuum(this.backends.map((b) => ({ addr: b.addr, weight: b.weight })));
    for (let i = this.backends.length - 1; i >= 0; i--) this.#indexOf.set(this.backends[i].addr, i);
  }

  static build(backends: readonly Backend[]): Consistent {
    return new Consistent(backends);
  }

  iter(key: SelectionKey): ConsistentIterator {
    return new ConsistentIterator(this, this.ring.nodeIdx(key));
  }

  /** Index of the backend owning ring point `point`. */
  backendAt(point: number): number {
    return this.#indexOf.get(this.ring.getAddr(point) as string) as number;
  }
}

/** Walks the ring from a key's point for one lap, yielding each backend once. */
export class ConsistentIterator implements BackendIter {
  readonly #selection: Consistent;
  #point: number;
  #left: number;
  #yielded = 0;
  #first = -1;
  #seen: Uint8Array | null = null;

  constructor(selection: Consistent, start: number) {
    this.#selection = selection;
    this.#point = start;
    this.#left = start < 0 ? 0 : selection.ring.pointCount;
  }

  next(): Backend | undefined {
    const sel = this.#selection;
    const n = sel.backends.length;
    if (this.#first < 0) {
      if (this.#left === 0) return undefined;
      this.#first = sel.backendAt(this.#point);
      this.#yielded = 1;
      return sel.backends[this.#first];
    }
    let seen = this.#seen;
    if (seen === null) {
      seen = this.#seen = new Uint8Array(n);
      seen[this.#first] = 1;
    }
    const points = sel.ring.pointCount;
    while (this.#left > 1 && this.#yielded < n) {
      this.#left--;
      this.#point = this.#point + 1 === points ? 0 : this.#point + 1;
      const idx = sel.backendAt(this.#point);
      if (seen[idx] === 0) {
        seen[idx] = 1;
        this.#yielded++;
        return sel.backends[idx];
      }
    }
    return undefined;
  }
}
