import type { ListenerSource } from './handover.js';
import type { ErrorReporter } from './error-reporter.js';
import type { Logger } from './logger.js';

/**
 * Readiness of a service: one service can wait until another can do its job (a proxy until its load
 * balancer has done a first health check, say).
 */
export class Readiness {
  readonly ready: Promise<void>;
  private done = false;
  private resolveReady!: () => void;
  private rejectReady!: (e: unknown) => void;

  constructor() {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A service that fails before anyone waits must not be an unhandled rejection.
    this.ready.catch(() => {});
  }

  get isReady(): boolean {
    return this.done;
  }

  markReady(): void {
    this.done = true;
    this.resolveReady();
  }

  fail(e: unknown): void {
    this.rejectReady(e);
  }
}

/** Something the {@link Server} runs: listeners, background tasks. */
export interface Service {
  readonly name: string;
  readonly readiness: Readiness;
  /** Services whose readiness this one waits for before it starts. */
  readonly dependencies: readonly Service[];
  /**
   * Runs until `shutdown` aborts and the service's own work is finished (a listening service stops
   * accepting and waits for its open connections).
   */
  start(shutdown: AbortSignal, log: Logger, inherit?: ListenerSource): Promise<void>;
  /** Ends what is left at once: fast shutdown, or the end of the grace period. */
  stopNow(): void;
  /** Takes the server's error reporter, unless the service was given its own. */
  inheritErrorReporter?(reporter: ErrorReporter): void;
}

/** A task that runs beside the listeners (pingora's `BackgroundService`). */
export interface BackgroundTask {
  /** Runs until `shutdown` aborts; call `ready()` once the task can serve others. */
  start(shutdown: AbortSignal, ready: () => void): Promise<void> | void;
}

/** Runs a {@link BackgroundTask} as a {@link Service}. */
export class BackgroundService<T extends BackgroundTask = BackgroundTask> implements Service {
  readonly readiness = new Readiness();
  readonly dependencies: Service[] = [];
  private readonly stopper = new AbortController();

  constructor(
    readonly name: string,
    readonly task: T,
  ) {}

  /** Waits for `service` to be ready before starting. */
  dependsOn(service: Service): this {
    this.dependencies.push(service);
    return this;
  }

  async start(shutdown: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([shutdown, this.stopper.signal]);
    try {
      await this.task.start(signal, () => this.readiness.markReady());
    } catch (e) {
      this.readiness.fail(e);
      throw e;
    }
  }

  stopNow(): void {
    this.stopper.abort();
  }
}

/** Wraps a function as a background service. */
export function backgroundService(name: string, start: BackgroundTask['start']): BackgroundService {
  return new BackgroundService(name, { start });
}
