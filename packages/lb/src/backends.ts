import { Backend } from './backend.js';
import type { ServiceDiscovery } from './discovery.js';
import { LbError } from './errors.js';
import { Health, type HealthCheck } from './health.js';

/** Options of {@link Backends}. */
export interface BackendsOptions {
  healthCheck?: HealthCheck;
  /** Called with what went wrong in a background step (an `onHealthChange` that threw). Default: `process.emitWarning`. */
  onError?: (error: unknown) => void;
}

/** Reports an error nobody awaits; never silent. */
export function defaultOnError(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), 'SluiceLoadBalancerWarning');
}

/**
 * The current backend set and the health of each (pingora's `Backends`): fed by a
 * {@link ServiceDiscovery}, checked by an optional {@link HealthCheck}. Backends start healthy and
 * enabled; a backend that leaves and comes back starts afresh.
 */
export class Backends {
  readonly discovery: ServiceDiscovery;
  healthCheck: HealthCheck | undefined;
  readonly #onError: (error: unknown) => void;
  #items: readonly Backend[] = [];
  // By identity for the hot path (the selection holds these very objects), by id for everyone else.
  #byObject = new Map<Backend, Health>();
  #byId = new Map<string, Health>();

  constructor(discovery: ServiceDiscovery, options: BackendsOptions = {}) {
    this.discovery = discovery;
    this.healthCheck = options.healthCheck;
    this.#onError = options.onError ?? defaultOnError;
  }

  /** The current set, sorted by address then weight. */
  get items(): readonly Backend[] {
    return this.#items;
  }

  /**
   * Asks the discovery for the set and applies it. Returns whether the set changed; `onChange` gets
   * the new set (before this resolves) only then.
   * @throws whatever the discovery throws; `ERR_LB_INVALID_DISCOVERY` when it returns no array of Backends.
   */
  async update(onChange?: (backends: readonly Backend[]) => void): Promise<boolean> {
    const found = await this.discovery.discover();
    return this.apply(found, onChange);
  }

  /** Applies a discovered set now; see {@link Backends.update}. */
  apply(found: readonly Backend[], onChange?: (backends: readonly Backend[]) => void): boolean {
    if (!Array.isArray(found)) throw new LbError('ConfigError', 'ERR_LB_INVALID_DISCOVERY', `discover() must return an array of Backend, got ${typeof found}`);
    const unique = new Map<string, Backend>();
    for (let i = 0; i < found.length; i++) {
      const b: unknown = found[i];
      if (!(b instanceof Backend)) throw new LbError('ConfigError', 'ERR_LB_INVALID_DISCOVERY', `discover() returned a non-Backend at index ${i}`);
      if (!unique.has(b.id)) unique.set(b.id, b);
    }
    const next = [...unique.values()].sort(Backend.compare);
    const current = this.#items;
    if (next.length === current.length && next.every((b, i) => b.id === current[i].id)) return false;
    const byObject = new Map<Backend, Health>();
    const byId = new Map<string, Health>();
    for (const b of next) {
      const h = this.#byId.get(b.id) ?? new Health();
      byObject.set(b, h);
      byId.set(b.id, h);
    }
    this.#items = next;
    this.#byObject = byObject;
    this.#byId = byId;
    onChange?.(next);
    return true;
  }

  #health(backend: Backend): Health | undefined {
    return this.#byObject.get(backend) ?? this.#byId.get(backend.id);
  }

  /** The health record of a backend of the set (by object or equal id), or `undefined`. */
  health(backend: Backend | string): Health | undefined {
    return typeof backend === 'string' ? this.#byId.get(backend) : this.#health(backend);
  }

  /**
   * Whether traffic may go to `backend`: healthy and enabled. A backend not in the set is ready only
   * when there is no health check (as in pingora).
   */
  ready(backend: Backend): boolean {
    const h = this.#byObject.get(backend) ?? this.#byId.get(backend.id);
    return h === undefined ? this.healthCheck === undefined : h.healthy && h.enabled;
  }

  /**
   * Turns traffic to a backend off or on by hand, to drain it before maintenance; health checks go on
   * meanwhile. `backend` is a Backend, an id (`addr#weight`) or an address (every backend with that
   * address). Returns false when nothing in the set matched. The switch lasts while the backend stays
   * in the set.
   */
  setEnabled(backend: Backend | string, enabled: boolean): boolean {
    const h = this.health(backend);
    if (h !== undefined) {
      h.enabled = enabled;
      return true;
    }
    if (typeof backend !== 'string') return false;
    let found = false;
    for (const b of this.#items) {
      if (b.addr !== backend) continue;
      (this.#byObject.get(b) as Health).enabled = enabled;
      found = true;
    }
    return found;
  }

  /**
   * Checks every backend once, all at once when `parallel`, else one after another, and applies the
   * results to their health. Does nothing without a health check.
   */
  async runHealthCheck(parallel = false): Promise<void> {
    const check = this.healthCheck;
    if (check === undefined) return;
    const items = this.#items;
    if (parallel) await Promise.all(items.map((b) => this.#checkOne(check, b)));
    else for (const b of items) await this.#checkOne(check, b);
  }

  async #checkOne(check: HealthCheck, backend: Backend): Promise<void> {
    let healthy = true;
    let error: unknown;
    try {
      await check.check(backend);
    } catch (e) {
      healthy = false;
      error = e;
    }
    // The set may have changed while the check ran; a backend that left keeps no record.
    const h = this.#byId.get(backend.id);
    if (h === undefined) return;
    h.lastError = error;
    if (!h.observe(healthy, healthy ? check.consecutiveSuccess : check.consecutiveFailure)) return;
    try {
      await check.onHealthChange?.(backend, healthy);
    } catch (e) {
      this.#onError(e);
    }
  }
}
