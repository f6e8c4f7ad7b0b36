import { setTimeout as sleep } from 'node:timers/promises';
import { BackgroundService, type BackgroundTask } from '@sluice/core';
import { Backend } from './backend.js';
import { Backends, defaultOnError } from './backends.js';
import { Static, type ServiceDiscovery } from './discovery.js';
import { checkInteger } from './errors.js';
import type { HealthCheck } from './health.js';
import type { BackendSelection, SelectionBuilder, SelectionKey, SelectionOptions } from './selection.js';

/** Default bound on the candidates one `select()` looks at. */
export const DEFAULT_MAX_ITERATIONS = 256;

/** Options of {@link LoadBalancer}. */
export interface LoadBalancerOptions<S extends BackendSelection> {
  /** The algorithm: `RoundRobin`, `Random`, `FnvHash`, `Consistent`, or your own builder. */
  selection: SelectionBuilder<S>;
  /** Where the backends come from. */
  discovery: ServiceDiscovery;
  /** How to check them; without one every backend counts as healthy. */
  healthCheck?: HealthCheck;
  /** How often the background service runs health checks. Default 1000 ms when there is a health check. */
  healthCheckFrequencyMs?: number;
  /** How often the background service asks the discovery again. Default: once, at start. */
  updateFrequencyMs?: number;
  /** Check all backends at once rather than one by one. Default false. */
  parallelHealthCheck?: boolean;
  /** Limits for building the selection. */
  selectionOptions?: SelectionOptions;
  /** Told about failed discoveries and throwing callbacks while running. Default: `process.emitWarning`. */
  onError?: (error: unknown) => void;
}

/**
 * Picks a backend per request (pingora's `LoadBalancer`): a selection algorithm over the backends a
 * discovery finds, skipping those a health check found unhealthy or that were disabled by hand. It is
 * a core {@link BackgroundTask}: run it with `lb.asService(name)` (or `new BackgroundService(name, lb)`)
 * to rediscover every `updateFrequencyMs` and health-check every `healthCheckFrequencyMs`.
 */
export class LoadBalancer<S extends BackendSelection> implements BackgroundTask {
  readonly backends: Backends;
  readonly healthCheckFrequencyMs: number | undefined;
  readonly updateFrequencyMs: number | undefined;
  readonly parallelHealthCheck: boolean;
  readonly #builder: SelectionBuilder<S>;
  readonly #selectionOptions: SelectionOptions | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #rebuild = (backends: readonly Backend[]): void => {
    this.#selection = this.#builder.build(backends, this.#selectionOptions);
  };
  #selection: S;
  #running = false;

  /** @throws LbError `ERR_LB_INVALID_OPTION` for a frequency that is not a positive integer. */
  constructor(options: LoadBalancerOptions<S>) {
    checkInteger(options.healthCheckFrequencyMs, 'healthCheckFrequencyMs', 1);
    checkInteger(options.updateFrequencyMs, 'updateFrequencyMs', 1);
    this.#onError = options.onError ?? defaultOnError;
    this.backends = new Backends(options.discovery, { healthCheck: options.healthCheck, onError: this.#onError });
    this.healthCheckFrequencyMs = options.healthCheckFrequencyMs ?? (options.healthCheck ? 1000 : undefined);
    this.updateFrequencyMs = options.updateFrequencyMs;
    this.parallelHealthCheck = options.parallelHealthCheck ?? false;
    this.#builder = options.selection;
    this.#selectionOptions = options.selectionOptions;
    this.#selection = options.selection.build([], options.selectionOptions);
  }

  /**
   * A load balancer over fixed addresses (pingora's `try_from_iter`), ready to select at once.
   * @throws LbError `ERR_LB_INVALID_ADDRESS` for a bad address.
   */
  static fromAddresses<S extends BackendSelection>(selection: SelectionBuilder<S>, addrs: Iterable<string>, options: Omit<LoadBalancerOptions<S>, 'selection' | 'discovery'> = {}): LoadBalancer<S> {
    const discovery = new Static(Array.from(addrs, (a) => new Backend(a)));
    const lb = new LoadBalancer({ ...options, selection, discovery });
    lb.backends.apply(discovery.discover(), lb.#rebuild);
    return lb;
  }

  /** The selection built from the current set; replaced only when the set changes. */
  get selection(): S {
    return this.#selection;
  }

  /** Asks the discovery once and rebuilds the selection if the set changed. Resolves to whether it did. */
  update(): Promise<boolean> {
    return this.backends.update(this.#rebuild);
  }

  /** Checks every backend once (in parallel when `parallelHealthCheck`). */
  runHealthCheck(): Promise<void> {
    return this.backends.runHealthCheck(this.parallelHealthCheck);
  }

  /**
   * The first ready (healthy and enabled) backend among the first `maxIterations` candidates the
   * selection offers for `key`, or `undefined`.
   */
  select(key: SelectionKey, maxIterations = DEFAULT_MAX_ITERATIONS): Backend | undefined {
    const backends = this.backends;
    const it = this.#selection.iter(key);
    for (let i = 0; i < maxIterations; i++) {
      const b = it.next();
      if (b === undefined || backends.ready(b)) return b;
    }
    return undefined;
  }

  /**
   * Like {@link LoadBalancer.select}, but `accept(backend, ready)` decides: to skip backends already
   * tried for this request, say, or to take an unhealthy one when nothing else is left.
   */
  selectWith(key: SelectionKey, maxIterations: number, accept: (backend: Backend, ready: boolean) => boolean): Backend | undefined {
    const backends = this.backends;
    const it = this.#selection.iter(key);
    for (let i = 0; i < maxIterations; i++) {
      const b = it.next();
      if (b === undefined || accept(b, backends.ready(b))) return b;
    }
    return undefined;
  }

  /**
   * The background loop: discovery now and every `updateFrequencyMs`, health checks every
   * `healthCheckFrequencyMs`; `ready()` once the first discovery succeeded and the first health check
   * round is done. A failed discovery keeps the previous set and is retried at the next update (or
   * after 1000 ms while nothing was ever discovered).
   */
  async start(shutdown: AbortSignal, ready: () => void = () => {}): Promise<void> {
    if (this.#running) throw new Error('this LoadBalancer is already running');
    this.#running = true;
    let discovered = false;
    let isReady = false;
    let nextUpdate = 0;
    let nextCheck = 0;
    try {
      while (!shutdown.aborted) {
        if (performance.now() >= nextUpdate) {
          try {
            await this.update();
            discovered = true;
          } catch (e) {
            this.#onError(e);
          }
          const every = this.updateFrequencyMs ?? (discovered ? undefined : 1000);
          nextUpdate = every === undefined ? Infinity : performance.now() + every;
        }
        if (shutdown.aborted) break;
        if (discovered && this.healthCheckFrequencyMs !== undefined && performance.now() >= nextCheck) {
          await this.runHealthCheck();
          nextCheck = performance.now() + this.healthCheckFrequencyMs;
        }
        if (discovered && !isReady) {
          isReady = true;
          ready();
        }
        const wait = Math.min(nextUpdate, this.healthCheckFrequencyMs === undefined ? Infinity : nextCheck) - performance.now();
        try {
          if (wait === Infinity) await new Promise((resolve) => shutdown.addEventListener('abort', resolve, { once: true }));
          else if (wait > 0) await sleep(wait, undefined, { signal: shutdown });
        } catch {
          // aborted: the loop condition ends it
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** This load balancer as a core service, for `server.addService()` and `dependsOn()`. */
  asService(name: string): BackgroundService<this> {
    return new BackgroundService(name, this);
  }
}
