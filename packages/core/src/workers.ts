import type { ChildProcess } from 'node:child_process';
import { relayGather } from './gather.js';
import { isReadyMessage, spawnWithListeners } from './handover.js';
import type { ListenerHandle } from './listener-handle.js';
import type { Logger } from './logger.js';

/** Set in a worker's environment: its number, from 1. */
export const WORKER_ENV = 'SLUICE_WORKER';

/** Whether this process is a worker of a supervisor (`threads` > 1). */
export function isWorkerProcess(): boolean {
  return process.env[WORKER_ENV] !== undefined && typeof process.send === 'function';
}

/** Options for {@link WorkerSupervisor}. */
export interface WorkerSupervisorOptions {
  count: number;
  listeners: ReadonlyMap<string, ListenerHandle>;
  log: Logger;
  /** Where workers write (a daemon's error log); otherwise they share this process's output. */
  outputFile?: string;
  /** Wait before replacing a crashed worker, doubled per crash in a row up to 5 s (default 100 ms). */
  restartDelayMs?: number;
}

/**
 * Runs `threads` worker processes (pingora's `threads`, one process per core in Node) that all accept
 * on the sockets this process binds: each worker is this program again, which takes the listeners
 * over IPC and runs every service. A worker that dies is replaced; signals fan out.
 */
export class WorkerSupervisor {
  private readonly workers = new Map<number, ChildProcess>();
  private readonly ready = new Set<number>();
  private stopping = false;
  private crashesInARow = 0;
  private allReady: (() => void) | undefined;
  private readonly options: WorkerSupervisorOptions;

  constructor(options: WorkerSupervisorOptions) {
    this.options = options;
  }

  /** Process ids of the running workers. */
  get pids(): number[] {
    return [...this.workers.values()].map((w) => w.pid ?? 0);
  }

  /** Starts every worker; resolves when all of them serve. */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve) => (this.allReady = resolve));
    for (let id = 1; id <= this.options.count; id++) this.spawn(id);
    return ready;
  }

  /** From now on, a worker that exits is not replaced. */
  stopReplacing(): void {
    this.stopping = true;
  }

  /** Sends `signal` to every worker and resolves when all have exited (SIGKILL after `killAfterMs`). */
  async stop(signal: 'SIGTERM' | 'SIGINT', killAfterMs: number): Promise<void> {
    this.stopping = true;
    const exits = [...this.workers.values()].map((w) => (w.exitCode !== null || w.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => w.once('exit', () => r()))));
    for (const w of this.workers.values()) w.kill(signal);
    const timer = setTimeout(() => {
      for (const w of this.workers.values()) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    }, killAfterMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }

  private spawn(id: number): void {
    const { log } = this.options;
    const worker = spawnWithListeners(this.options.listeners, {
      env: { ...process.env, [WORKER_ENV]: String(id) },
      outputFile: this.options.outputFile,
    });
    this.workers.set(id, worker);
    worker.on('message', (m: unknown) => {
      if (relayGather(worker, m, () => [...this.workers.values()])) return;
      if (!isReadyMessage(m)) return;
      this.crashesInARow = 0;
      this.ready.add(id);
      if (this.ready.size === this.options.count) this.allReady?.();
    });
    worker.on('exit', (code, signal) => {
      if (this.workers.get(id) === worker) this.workers.delete(id);
      if (this.stopping) return;
      this.crashesInARow++;
      const delay = Math.min(5000, (this.options.restartDelayMs ?? 100) * 2 ** (this.crashesInARow - 1));
      log.error(`worker ${id} (pid ${worker.pid}) exited with ${code ?? signal}; replacing it in ${delay} ms`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(id);
      }, delay).unref();
    });
  }
}
