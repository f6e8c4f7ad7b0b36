import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { ParentListeners, spawnSuccessor, takeSuccessorRole } from './handover.js';
import { closeHandle, type ListenerHandle } from './listener-handle.js';
import { WorkerSupervisor, isWorkerProcess } from './workers.js';
import { serveGatherInWorker } from './gather.js';
import { ListeningService } from './listening-service.js';
import { SluiceError } from './error.js';
import { defaultLogger, type Logger } from './logger.js';
import { reportError, type ErrorReporter } from './error-reporter.js';
import {
  DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS,
  DEFAULT_GRACE_PERIOD_SECONDS,
  type ServerConf,
  loadServerConf,
  validateServerConf,
} from './server-conf.js';
import type { Service } from './service.js';

/** Command-line options (pingora's `Opt`). */
export interface ServerArgs {
  /** `-c/--conf`: path of the YAML configuration. */
  conf?: string;
  /** `-t/--test`: validate the configuration and exit. */
  test: boolean;
  /** `-d/--daemon`: run in the background. */
  daemon: boolean;
  /**
   * `-u/--upgrade`: started by a running server as its successor, take over its listeners through
   * the IPC channel; run by hand, ask the server whose pid is in `pid_file` to upgrade (SIGQUIT).
   */
  upgrade: boolean;
}

/** How to shut down: finish open work first, or stop now. */
export type ShutdownKind = 'graceful' | 'fast';

/** Options for {@link Server}. */
export interface ServerOptions {
  /** A configuration (validated and completed with defaults) or nothing for all defaults. */
  conf?: Partial<ServerConf> | Record<string, unknown>;
  /** Path of a YAML configuration; takes precedence over `conf`. */
  confPath?: string;
  args?: Partial<ServerArgs>;
  log?: Logger;
  /**
   * Called for unexpected errors: a service that failed, and (handed to every service that takes it,
   * such as listening services and the proxy) caught connection-handler crashes (Pingora's Sentry hook).
   */
  errorReporter?: ErrorReporter;
  /** Install SIGTERM/SIGINT/SIGQUIT handlers in {@link Server.run} (default true). */
  handleSignals?: boolean;
}

/** Parses pingora's command-line flags. @throws SluiceError `ConfigError` for unknown flags. */
export function parseServerArgs(argv: readonly string[]): ServerArgs {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        conf: { type: 'string', short: 'c' },
        test: { type: 'boolean', short: 't', default: false },
        daemon: { type: 'boolean', short: 'd', default: false },
        upgrade: { type: 'boolean', short: 'u', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    return { conf: values.conf, test: values.test ?? false, daemon: values.daemon ?? false, upgrade: values.upgrade ?? false };
  } catch (e) {
    throw SluiceError.because('ConfigError', 'command line (flags: -c/--conf FILE, -t/--test, -d/--daemon, -u/--upgrade)', e);
  }
}

/**
 * Runs services and shuts them down on signals (pingora's `Server`): SIGTERM shuts down gracefully
 * (stop accepting, let open connections finish within `grace_period_seconds`, then close), SIGINT
 * shuts down fast, SIGQUIT upgrades (hands every listener to a successor running the code and
 * configuration now on disk, then drains like SIGTERM) and SIGHUP reloads the configuration the same
 * way. Every service sees one shutdown `AbortSignal`.
 */
export class Server {
  readonly configuration: ServerConf;
  readonly args: ServerArgs;
  readonly log: Logger;
  /** Where unexpected errors go (see {@link ServerOptions.errorReporter}). */
  readonly errorReporter: ErrorReporter | undefined;
  private readonly services: Service[] = [];
  private readonly shutdownController = new AbortController();
  private readonly handleSignals: boolean;
  private kind: ShutdownKind | undefined;
  private forceNow: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private upgrading: Promise<boolean> | undefined;
  private handedOver = false;
  private pidFile: string | undefined;
  /** With `threads` > 1: the sockets this supervisor binds and its workers accept on. */
  private supervisedHandles: Map<string, ListenerHandle> | undefined;

  /** @throws SluiceError `ConfigError` / `FileReadError` for a bad configuration. */
  constructor(options: ServerOptions = {}) {
    this.args = { test: false, daemon: false, upgrade: false, ...options.args };
    if (takeSuccessorRole()) this.args.upgrade = true;
    const path = options.confPath ?? this.args.conf;
    this.configuration = path ? loadServerConf(path) : validateServerConf(options.conf ?? {});
    if (this.args.daemon) this.configuration.daemon = true;
    this.log = options.log ?? defaultLogger(this.configuration.error_log ?? undefined);
    this.handleSignals = options.handleSignals ?? true;
    this.errorReporter = options.errorReporter;
  }

  /**
   * A server from command-line flags, as a main program wants it: `-t` validates the configuration,
   * prints the verdict and exits 0 or 1; any other configuration error is printed and exits 1.
   */
  static fromArgs(argv: readonly string[] = process.argv.slice(2), options: Omit<ServerOptions, 'args' | 'confPath'> = {}): Server {
    let server: Server;
    try {
      const args = parseServerArgs(argv);
      server = new Server({ ...options, args });
    } catch (e) {
      writeSync(2, `sluice: configuration error: ${(e as Error).message}\n`);
      process.exit(1);
    }
    if (server.args.test) {
      writeSync(1, `sluice: configuration ${server.args.conf ?? '(defaults)'} is valid\n`);
      process.exit(0);
    }
    return server;
  }

  /** The shutdown signal every service receives. */
  get shutdownSignal(): AbortSignal {
    return this.shutdownController.signal;
  }

  addService(service: Service): this {
    this.services.push(service);
    return this;
  }

  addServices(...services: Service[]): this {
    for (const s of services) this.addService(s);
    return this;
  }

  /**
   * Daemonizes when configured (`daemon: true` or `-d`): the process re-runs itself detached, with
   * output to `error_log`, writes `pid_file`, and this process exits. Call before {@link Server.run}.
   */
  bootstrap(): void {
    if (!this.configuration.daemon || isWorkerProcess()) return;
    // `-u` by hand only asks the running daemon to upgrade; it must not become one.
    if (this.args.upgrade && !ParentListeners.available()) return;
    if (process.env.SLUICE_DAEMONIZED === '1') {
      this.pidFile = this.configuration.pid_file;
      writeFileSync(this.pidFile, `${process.pid}\n`);
      // Removes the pid file this process owns at exit (after an upgrade, the renamed `.old` one).
      process.once('exit', () => this.pidFile && rmSync(this.pidFile, { force: true }));
      return;
    }
    const out = this.configuration.error_log ? openSync(this.configuration.error_log, 'a') : 'ignore';
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, SLUICE_DAEMONIZED: '1' },
    });
    child.unref();
    process.exit(0);
  }

  /**
   * Starts every service (each after the services it depends on are ready) and resolves once the
   * server has shut down. A service that fails to start shuts the server down and rejects.
   */
  run(): Promise<void> {
    this.running ??= this.configuration.threads > 1 && !isWorkerProcess() ? this.supervise() : this.runServices();
    return this.running;
  }

  /**
   * `threads` > 1: bind every listener (or take them over from a predecessor), run that many worker
   * processes on them, replace any that dies, and pass signals on: SIGTERM/SIGINT stop the workers
   * the same way, SIGQUIT/SIGHUP hand the sockets to a successor supervisor first.
   */
  private async supervise(): Promise<void> {
    const parent = this.args.upgrade && ParentListeners.available() ? new ParentListeners() : undefined;
    const handles = new Map<string, ListenerHandle>();
    for (const s of this.services) if (s instanceof ListeningService) for (const [k, v] of await s.bindHandles(parent)) handles.set(k, v);
    this.supervisedHandles = handles;
    const workers = new WorkerSupervisor({
      count: this.configuration.threads,
      listeners: handles,
      log: this.log,
      outputFile: this.pidFile ? (this.configuration.error_log ?? undefined) : undefined,
    });
    const onTerm = () => this.shutdown('graceful');
    const onInt = () => this.shutdown('fast');
    const onQuit = () => void this.upgrade();
    if (this.handleSignals) {
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      process.on('SIGQUIT', onQuit);
      process.on('SIGHUP', onQuit);
    }
    try {
      // From the first moment of a shutdown, a worker that exits is not replaced.
      this.shutdownController.signal.addEventListener('abort', () => workers.stopReplacing(), { once: true });
      await workers.start();
      this.log.info(`supervising ${this.configuration.threads} workers: ${workers.pids.join(', ')}`);
      for (const s of this.services) s.readiness.markReady();
      parent?.ready();
      const signal = this.shutdownController.signal;
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      const conf = this.configuration;
      const boundMs = 1000 * ((conf.grace_period_seconds ?? DEFAULT_GRACE_PERIOD_SECONDS) + (conf.graceful_shutdown_timeout_seconds ?? DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS));
      await workers.stop(this.kind === 'fast' ? 'SIGINT' : 'SIGTERM', this.kind === 'fast' ? 1000 * (conf.graceful_shutdown_timeout_seconds ?? DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS) : boundMs);
    } finally {
      if (this.handleSignals) {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        process.off('SIGQUIT', onQuit);
        process.off('SIGHUP', onQuit);
      }
    }
    // Unix sockets handed to a successor keep their path (see ListeningService.closeListener); a
    // supervisor that is simply stopping closes them, which removes the socket files.
    if (!this.handedOver) for (const h of handles.values()) closeHandle(h);
  }

  /**
   * Hands every listener to a successor process and, once it serves, drains this one (SIGQUIT;
   * SIGHUP does the same to reload the configuration). Resolves false, and keeps serving, when the
   * successor fails: a bad new configuration, a crash, or no readiness in 30 s.
   */
  upgrade(): Promise<boolean> {
    this.upgrading ??= this.handOver().finally(() => (this.upgrading = undefined));
    return this.upgrading;
  }

  private async handOver(): Promise<boolean> {
    if (this.shutdownController.signal.aborted) return false;
    const listeners = this.supervisedHandles ?? new Map<string, ListenerHandle>();
    if (!this.supervisedHandles) for (const s of this.services) if (s instanceof ListeningService) for (const [k, v] of s.listeners()) listeners.set(k, v);
    // Pingora keeps the old pid file as `<pid_file>.old` while the old process drains.
    const oldPidFile = this.pidFile ? `${this.pidFile}.old` : undefined;
    if (this.pidFile && oldPidFile && existsSync(this.pidFile)) renameSync(this.pidFile, oldPidFile);
    this.log.info(`upgrade: starting a successor to take over ${listeners.size} listener(s)`);
    const ok = await spawnSuccessor({
      listeners,
      outputFile: this.pidFile ? (this.configuration.error_log ?? undefined) : undefined,
      detached: this.pidFile !== undefined,
      log: this.log,
    });
    if (!ok) {
      if (this.pidFile && oldPidFile && existsSync(oldPidFile) && !existsSync(this.pidFile)) renameSync(oldPidFile, this.pidFile);
      return false;
    }
    if (oldPidFile) this.pidFile = oldPidFile;
    this.handedOver = true;
    for (const s of this.services) if (s instanceof ListeningService) s.markHandedOver();
    this.shutdown('graceful');
    return true;
  }

  /**
   * `-u` run by hand: signals the server whose pid is in `pid_file` to upgrade and waits until a new
   * pid is written there. Resolves to the new pid.
   * @throws SluiceError `InternalError` when no server runs or the upgrade does not complete.
   */
  async requestUpgrade(timeoutMs = 30_000): Promise<number> {
    const file = this.configuration.pid_file;
    const readPid = () => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN);
    const old = readPid();
    if (!Number.isInteger(old) || old <= 0) throw new SluiceError('InternalError', { context: `no running server: pid file ${file} is missing or empty` });
    try {
      process.kill(old, 'SIGQUIT');
    } catch (e) {
      throw SluiceError.because('InternalError', `signalling server ${old} from ${file}`, e);
    }
    const end = Date.now() + timeoutMs;
    for (;;) {
      const pid = readPid();
      if (Number.isInteger(pid) && pid > 0 && pid !== old) return pid;
      if (Date.now() > end) throw new SluiceError('InternalError', { context: `server ${old} did not hand over within ${timeoutMs} ms (see its error log)` });
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs, then exits the process with 0 (pingora's `run_forever`). */
  async runForever(): Promise<never> {
    if (this.args.upgrade && !ParentListeners.available()) {
      // `-u` by hand: the running server spawns the successor; this process only asks for it.
      try {
        const pid = await this.requestUpgrade();
        writeSync(1, `sluice: upgraded; server ${pid} now serves\n`);
        process.exit(0);
      } catch (e) {
        writeSync(2, `sluice: upgrade failed: ${(e as Error).message}\n`);
        process.exit(1);
      }
    }
    try {
      await this.run();
    } catch (e) {
      this.log.error('server failed', e);
      process.exit(1);
    }
    process.exit(0);
  }

  /** Starts shutting down. A fast shutdown after a graceful one cuts the grace period short. */
  shutdown(kind: ShutdownKind = 'graceful'): void {
    if (this.kind === 'fast' || (this.kind === 'graceful' && kind === 'graceful')) return;
    this.kind = kind;
    if (kind === 'fast') this.forceNow?.();
    this.log.info(`${kind} shutdown started`);
    if (!this.shutdownController.signal.aborted) this.shutdownController.abort(kind);
  }

  private async runServices(): Promise<void> {
    const onTerm = () => this.shutdown('graceful');
    const onInt = () => this.shutdown('fast');
    // A worker leaves upgrades to its supervisor, and drains if the supervisor goes away.
    const worker = isWorkerProcess();
    const onQuit = worker ? () => {} : () => void this.upgrade();
    if (worker) {
      process.once('disconnect', onTerm);
      serveGatherInWorker();
    }
    if (this.handleSignals) {
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      process.on('SIGQUIT', onQuit);
      process.on('SIGHUP', onQuit);
    }
    const signal = this.shutdownController.signal;
    const parent = (this.args.upgrade || worker) && ParentListeners.available() ? new ParentListeners() : undefined;
    let startFailure: unknown;
    const reporter = this.errorReporter;
    const runs = this.services.map(async (service) => {
      try {
        await Promise.all(service.dependencies.map((d) => d.readiness.ready));
        if (reporter !== undefined) service.inheritErrorReporter?.(reporter);
        if (!signal.aborted) await service.start(signal, this.log, parent);
      } catch (e) {
        startFailure ??= e;
        this.log.error(`service ${service.name} failed`, e);
        reportError(reporter, e, { where: 'service', service: service.name }, this.log);
        this.shutdown('fast');
      }
    });
    const all = Promise.all(runs);
    if (parent) {
      Promise.all(this.services.map((s) => s.readiness.ready)).then(
        () => parent.ready(),
        () => {},
      );
    }
    try {
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      const conf = this.configuration;
      const graceMs = this.kind === 'fast' ? 0 : 1000 * (conf.grace_period_seconds ?? DEFAULT_GRACE_PERIOD_SECONDS);
      const finalMs = 1000 * (conf.graceful_shutdown_timeout_seconds ?? DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS);
      // Phase 1: open work finishes by itself, until the grace period ends (or a fast shutdown).
      const graceOver = await settleWithin(all, graceMs, (force) => (this.forceNow = force));
      if (graceOver) {
        // Phase 2: close what is left, and give services a bounded time to wind down.
        for (const s of this.services) s.stopNow();
        const stuck = await settleWithin(all, finalMs, () => {});
        if (stuck) this.log.warn(`services still stopping after ${finalMs} ms; giving up on them`);
      }
    } finally {
      this.forceNow = undefined;
      if (this.handleSignals) {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        process.off('SIGQUIT', onQuit);
        process.off('SIGHUP', onQuit);
      }
    }
    if (startFailure !== undefined) throw startFailure;
  }
}

/**
 * Waits for `work` up to `ms`; resolves false if it settled in time, true if the time ran out (or
 * `force` was called to end the wait early).
 */
function settleWithin(work: Promise<unknown>, ms: number, exposeForce: (force: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    exposeForce(() => {
      clearTimeout(timer);
      resolve(true);
    });
    work.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
