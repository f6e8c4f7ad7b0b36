import type { ChildProcess } from 'node:child_process';
import { SluiceError } from './error.js';

/**
 * Gathering a value from every worker (metrics, mostly): each process registers a handler for a
 * topic with {@link onGather}; {@link gatherFromWorkers} returns every worker's answer. With one
 * process it is that process's own answer; with `threads` > 1 a worker's request goes to the
 * supervisor, which asks each worker over its IPC channel. Answers travel as JSON.
 */

type Handler = () => unknown;

type GatherMessage =
  | { sluice: 'gather'; topic: string; id: number; timeoutMs?: number }
  | { sluice: 'gathered'; id: number; results: unknown[] }
  | { sluice: 'collect'; topic: string; id: number }
  | { sluice: 'collected'; id: number; ok: boolean; result?: unknown };

function isGatherMessage(m: unknown): m is GatherMessage {
  const s = (m as { sluice?: unknown } | null)?.sluice;
  return s === 'gather' || s === 'gathered' || s === 'collect' || s === 'collected';
}

const handlers = new Map<string, Handler>();
const waiting = new Map<number, (results: unknown[]) => void>();
let nextId = 1;
let listening = false;

/** Answers gather requests for `topic` in this process; returns a function that unregisters it. */
export function onGather(topic: string, handler: () => unknown | Promise<unknown>): () => void {
  handlers.set(topic, handler);
  return () => {
    if (handlers.get(topic) === handler) handlers.delete(topic);
  };
}

async function answer(topic: string): Promise<{ ok: boolean; result?: unknown }> {
  const handler = handlers.get(topic);
  if (!handler) return { ok: false };
  try {
    return { ok: true, result: await handler() };
  } catch {
    return { ok: false };
  }
}

/** Whether this process has a supervisor to ask (it is a worker). */
function supervised(): boolean {
  return listening && typeof process.send === 'function' && process.connected;
}

/** Longest gather wait: Node's longest timer, less the second a worker waits beyond it for the relay. */
const MAX_GATHER_TIMEOUT_MS = 2 ** 31 - 1 - 1000;

/**
 * Every worker's answer for `topic` (workers without a handler, or whose handler failed or took
 * longer than `timeoutMs`, are left out). In a single process: this process's answer.
 * @throws SluiceError `ERR_GATHER_INVALID_TIMEOUT` (rejects) when `timeoutMs` is not 0 to about 24 days.
 */
export async function gatherFromWorkers(topic: string, timeoutMs = 5000): Promise<unknown[]> {
  if (!(timeoutMs >= 0 && timeoutMs <= MAX_GATHER_TIMEOUT_MS)) {
    // Node runs a timer of NaN, Infinity or more than 2^31 - 1 ms after 1 ms: such a bound would end the wait at once.
    throw new SluiceError('ConfigError', { code: 'ERR_GATHER_INVALID_TIMEOUT', context: `gather timeoutMs must be a number of milliseconds from 0 to ${MAX_GATHER_TIMEOUT_MS}, got ${timeoutMs}` });
  }
  if (!supervised()) {
    const a = await answer(topic);
    return a.ok ? [a.result] : [];
  }
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      resolve([]);
    }, timeoutMs + 1000);
    timer.unref();
    waiting.set(id, (results) => {
      clearTimeout(timer);
      resolve(results);
    });
    process.send!({ sluice: 'gather', topic, id, timeoutMs } satisfies GatherMessage);
  });
}

/** In a worker: answers the supervisor's collect requests and receives gathered results. */
export function serveGatherInWorker(): void {
  if (listening || typeof process.send !== 'function') return;
  listening = true;
  process.on('message', (m: unknown) => {
    if (!isGatherMessage(m)) return;
    if (m.sluice === 'gathered') waiting.get(m.id)?.(m.results);
    if (m.sluice === 'gathered') waiting.delete(m.id);
    if (m.sluice === 'collect') {
      void answer(m.topic).then((a) => {
        if (process.connected) process.send!({ sluice: 'collected', id: m.id, ...a } satisfies GatherMessage);
      });
    }
  });
}

/**
 * In a supervisor: relays a worker's gather request to every worker in `workers()` and sends the
 * answers back to the one who asked, after the asker's `timeoutMs` at the latest (`defaultTimeoutMs`
 * when the request names none). Returns whether `message` was a gather request.
 */
export function relayGather(from: ChildProcess, message: unknown, workers: () => ChildProcess[], defaultTimeoutMs = 5000): boolean {
  if (!isGatherMessage(message) || message.sluice !== 'gather') return false;
  const asked = message.timeoutMs;
  const timeoutMs = typeof asked === 'number' && asked >= 0 && asked <= MAX_GATHER_TIMEOUT_MS ? asked : defaultTimeoutMs;
  const targets = workers().filter((w) => w.connected);
  const results: unknown[] = [];
  let pending = targets.length;
  const collectId = nextId++;
  const finish = () => {
    clearTimeout(timer);
    for (const w of targets) w.off('message', onCollected);
    if (from.connected) from.send({ sluice: 'gathered', id: message.id, results } satisfies GatherMessage);
  };
  const onCollected = (m: unknown) => {
    if (!isGatherMessage(m) || m.sluice !== 'collected' || m.id !== collectId) return;
    if (m.ok) results.push(m.result);
    if (--pending === 0) finish();
  };
  const timer = setTimeout(finish, timeoutMs);
  timer.unref();
  for (const w of targets) {
    w.on('message', onCollected);
    w.send({ sluice: 'collect', topic: message.topic, id: collectId } satisfies GatherMessage);
  }
  if (targets.length === 0) finish();
  return true;
}
