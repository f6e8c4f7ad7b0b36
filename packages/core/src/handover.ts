import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import type { ListenerHandle } from './listener-handle.js';
import type { Logger } from './logger.js';

/**
 * Zero-downtime upgrade, the Node way. Pingora passes listening sockets over `upgrade_sock` with
 * SCM_RIGHTS; Node has no public API for that, but its IPC channel passes server handles to a child
 * process. So, like nginx's binary upgrade, the running server spawns its successor (new code and
 * configuration from disk, flag `-u`) with an IPC channel; the successor validates its configuration,
 * asks for each listener by key, listens on the same sockets, and says it is ready; only then does the
 * old server stop accepting and drain. Until `ready`, nothing changes for clients: if the successor
 * fails, the old server keeps serving and logs why.
 */

/** Messages on the handover channel. */
type HandoverMessage =
  | { sluice: 'listener?'; key: string }
  | { sluice: 'listener'; key: string; missing?: boolean }
  | { sluice: 'ready' };

function isHandoverMessage(m: unknown): m is HandoverMessage {
  return typeof m === 'object' && m !== null && typeof (m as { sluice?: unknown }).sluice === 'string';
}

/** Set in a successor's environment by {@link spawnSuccessor}. */
export const SUCCESSOR_ENV = 'SLUICE_SUCCESSOR';

/**
 * Whether this process was spawned as a successor; read once and removed from the environment, so
 * the program's own child processes never take themselves for one.
 */
export function takeSuccessorRole(): boolean {
  const successor = process.env[SUCCESSOR_ENV] === '1' && typeof process.send === 'function';
  delete process.env[SUCCESSOR_ENV];
  return successor;
}

/** Where a starting service looks for a listener to inherit, by endpoint key (`proxy: tcp 127.0.0.1:80`). */
export interface ListenerSource {
  /** The listener under `key`; each key is handed out once (undefined after that). */
  take(key: string): Promise<ListenerHandle | undefined>;
}

/** The successor's side: listeners come from the parent over the IPC channel. */
export class ParentListeners implements ListenerSource {
  private readonly waiting = new Map<string, (handle: ListenerHandle | undefined) => void>();
  /**
   * Keys already asked for: one socket must not serve two endpoints. It matters for the fallback to
   * a predecessor's label-only keys, which two services on the same address would both ask for.
   */
  private readonly asked = new Set<string>();

  constructor() {
    process.on('message', (m: unknown, handle: unknown) => {
      if (!isHandoverMessage(m) || m.sluice !== 'listener') return;
      const resolve = this.waiting.get(m.key);
      this.waiting.delete(m.key);
      resolve?.(m.missing ? undefined : (handle as ListenerHandle));
    });
  }

  /** Whether this process was started as a successor with a channel to its parent. */
  static available(): boolean {
    return typeof process.send === 'function';
  }

  take(key: string): Promise<ListenerHandle | undefined> {
    if (this.asked.has(key)) return Promise.resolve(undefined);
    this.asked.add(key);
    return new Promise((resolve) => {
      this.waiting.set(key, resolve);
      process.send!({ sluice: 'listener?', key } satisfies HandoverMessage);
    });
  }

  /** Tells the parent every service is up; it then drains and exits. */
  ready(): void {
    process.send?.({ sluice: 'ready' } satisfies HandoverMessage);
  }
}

/** Spawns this program again (same flags) with an IPC channel that serves listener requests. */
export function spawnWithListeners(listeners: ReadonlyMap<string, ListenerHandle>, options: { env?: NodeJS.ProcessEnv; outputFile?: string; detached?: boolean }): ChildProcess {
  const args = process.argv.slice(1);
  const out = options.outputFile ? openSync(options.outputFile, 'a') : undefined;
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...process.execArgv, ...args], {
      stdio: out === undefined ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', out, out, 'ipc'],
      detached: options.detached ?? false,
      env: options.env ?? process.env,
    });
  } finally {
    if (out !== undefined) closeSync(out);
  }
  child.on('message', (m: unknown) => {
    if (!isHandoverMessage(m) || m.sluice !== 'listener?' || !child.connected) return;
    const handle = listeners.get(m.key);
    if (handle) child.send({ sluice: 'listener', key: m.key } satisfies HandoverMessage, handle as Parameters<ChildProcess['send']>[1]);
    else child.send({ sluice: 'listener', key: m.key, missing: true } satisfies HandoverMessage);
  });
  return child;
}

/** Whether `m` is the child's "all my services are up". */
export function isReadyMessage(m: unknown): boolean {
  return isHandoverMessage(m) && m.sluice === 'ready';
}

/** Options for {@link spawnSuccessor}. */
export interface SuccessorOptions {
  /** The listeners to hand over, by key. */
  listeners: ReadonlyMap<string, ListenerHandle>;
  /** Where the successor's output goes when there is no terminal (daemon): the error log. */
  outputFile?: string;
  detached: boolean;
  /** How long the successor may take to become ready (default 30 s). */
  timeoutMs?: number;
  log: Logger;
}

/**
 * Spawns this program again with `-u` and hands it the listeners it asks for. Resolves true once the
 * successor is serving (the caller then drains), false if it failed (the caller keeps serving).
 */
export function spawnSuccessor(options: SuccessorOptions): Promise<boolean> {
  // Same program, same flags (a daemon's successor sees SLUICE_DAEMONIZED and does not fork again).
  // The successor learns its role from the environment, not from `-u` on its command line, so a
  // program that parses its own flags (or passes none to Server) is upgraded all the same.
  const child = spawnWithListeners(options.listeners, { env: { ...process.env, [SUCCESSOR_ENV]: '1' }, outputFile: options.outputFile, detached: options.detached });
  const { log } = options;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean, why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) log.info(`upgrade: successor ${child.pid} is serving; draining this process`);
      else log.error(`upgrade failed: ${why}; this server keeps serving`);
      if (child.connected) child.disconnect();
      child.unref();
      resolve(ok);
    };
    const timer = setTimeout(() => {
      finish(false, `successor ${child.pid} not ready within ${options.timeoutMs ?? 30_000} ms`);
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.on('message', (m: unknown) => {
      if (isReadyMessage(m)) finish(true, '');
    });
    child.on('error', (e) => finish(false, `could not start the successor (${e.message})`));
    child.on('exit', (code, signal) => finish(false, `successor exited with ${code ?? signal} before it was ready`));
  });
}
