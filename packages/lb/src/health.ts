import type { Backend } from './backend.js';

/**
 * A way to tell whether a backend can serve (pingora's `HealthCheck`). Implement `check`; the
 * {@link Backends} it is given to counts consecutive results against the thresholds, flips the
 * backend's health and calls `onHealthChange`. Run `healthCheckCompliance` from
 * `@sluice/lb/compliance` against your implementation.
 */
export interface HealthCheck {
  /** Resolves when `backend` is healthy; rejects (with the reason) when it is not. Must not hang: bound it with a timeout. */
  check(backend: Backend): Promise<void>;
  /** Consecutive successes that make an unhealthy backend healthy again (>= 1). */
  readonly consecutiveSuccess: number;
  /** Consecutive failures that make a healthy backend unhealthy (>= 1). */
  readonly consecutiveFailure: number;
  /** Called once each time a backend's health flips. A throw or rejection is reported, not fatal. */
  onHealthChange?(backend: Backend, healthy: boolean): void | Promise<void>;
}

/** What every built-in health check accepts. */
export interface HealthCheckOptions {
  /** Default 1. */
  consecutiveSuccess?: number;
  /** Default 1. */
  consecutiveFailure?: number;
  /** Called once each time a backend's health flips. */
  onHealthChange?: (backend: Backend, healthy: boolean) => void | Promise<void>;
}

/**
 * The health of one backend (pingora's `Health`): observed health, which starts healthy, and the
 * manual enable switch used to drain a backend. `ready` is both.
 */
export class Health {
  healthy = true;
  enabled = true;
  /** Consecutive observations disagreeing with `healthy`. */
  #counter = 0;
  /** Why the last check failed, or `undefined` after a success. */
  lastError: unknown = undefined;

  get ready(): boolean {
    return this.healthy && this.enabled;
  }

  /** Records one check result; flips once `threshold` results in a row disagree. Returns whether it flipped. */
  observe(healthy: boolean, threshold: number): boolean {
    if (healthy === this.healthy) {
      this.#counter = 0;
      return false;
    }
    if (++this.#counter < threshold) return false;
    this.healthy = healthy;
    this.#counter = 0;
    return true;
  }
}
