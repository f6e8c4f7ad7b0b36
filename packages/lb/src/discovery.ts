import type { Backend } from './backend.js';

/**
 * Where backends come from (pingora's `ServiceDiscovery`). `discover()` returns the whole current
 * set each time it is called; the {@link Backends} it feeds work out what changed. Reject when the
 * set cannot be known (the previous set is then kept). Run `serviceDiscoveryCompliance` from
 * `@sluice/lb/compliance` against your implementation.
 */
export interface ServiceDiscovery {
  discover(): readonly Backend[] | Promise<readonly Backend[]>;
}

/** A fixed set of backends (pingora's `Static`), changeable by hand with {@link Static.set}. */
export class Static implements ServiceDiscovery {
  #backends: readonly Backend[];

  constructor(backends: Iterable<Backend>) {
    this.#backends = Array.from(backends);
  }

  /** Replaces the set; the next update of the load balancer picks it up. */
  set(backends: Iterable<Backend>): void {
    this.#backends = Array.from(backends);
  }

  discover(): readonly Backend[] {
    return this.#backends.slice();
  }
}
