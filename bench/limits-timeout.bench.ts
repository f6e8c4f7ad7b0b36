// @sluice/limits fast timeouts against Node's own timers, in the same process run:
//  1. setFastTimeout + clearFastTimeout vs setTimeout + clearTimeout (a timer armed and cancelled,
//     as around every read that completes in time), delays mixed over 100 ms .. 30 s;
//  2. timeout(ms, promise) vs the usual setTimeout-based wrapper and vs AbortSignal.timeout, each
//     awaited in turn on a promise that settles first;
//  3. heap bytes per pending timer with 1M timers pending.
// Medians (p50) of tinybench samples; rme is tinybench's relative margin of error. Other work shares
// this machine's 2 cores, so absolute numbers are noisy; the ratios of one run are what to read.
// Run: cd bench && node --expose-gc --import tsx limits-timeout.bench.ts
import { Bench, type Task } from 'tinybench';
import { clearFastTimeout, setFastTimeout, timeout, type FastTimer } from '@sluice/limits';

const BATCH = 1000;
const DELAYS = [100, 1000, 5000, 30_000];
const noop = (): void => undefined;
// Node keeps one timer list per duration and creates or drops it when its first timer comes or its
// last one goes (3x the cost). A server has timers of its usual durations pending all the time, so
// the peer is measured that way: one unref'd interval of each delay keeps its list alive.
for (const ms of DELAYS) setInterval(noop, ms).unref();
let sink = 0;

function timeoutWithSetTimeout<T>(ms: number, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout of ${ms} ms elapsed`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function timeoutWithAbortSignal<T>(ms: number, promise: Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

const bench = new Bench({ name: 'limits-timeout', time: 2000, warmup: true });
bench
  .add('ours: setFastTimeout+clearFastTimeout', () => {
    for (let i = 0; i < BATCH; i++) clearFastTimeout(setFastTimeout(noop, DELAYS[i & 3]));
  })
  .add('node: setTimeout+clearTimeout', () => {
    for (let i = 0; i < BATCH; i++) clearTimeout(setTimeout(noop, DELAYS[i & 3]));
  })
  .add('ours: timeout(ms, promise)', async () => {
    for (let i = 0; i < BATCH; i++) sink ^= await timeout(DELAYS[i & 3], Promise.resolve(i));
  })
  .add('setTimeout wrapper', async () => {
    for (let i = 0; i < BATCH; i++) sink ^= await timeoutWithSetTimeout(DELAYS[i & 3], Promise.resolve(i));
  })
  .add('AbortSignal.timeout', async () => {
    for (let i = 0; i < BATCH; i++) sink ^= await timeoutWithAbortSignal(DELAYS[i & 3], Promise.resolve(i));
  });

await bench.run();

const stats = (name: string) => {
  const r = (bench.getTask(name) as Task | undefined)?.result;
  if (!r || !('throughput' in r)) throw new Error(`${name}: ${r?.state}`);
  return r;
};
const row = (operation: string, ours: string, peer: string, peerName: string) => {
  const a = stats(ours);
  const b = stats(peer);
  return {
    operation,
    peer: peerName,
    'ours ops/s (p50)': Math.round(a.throughput.p50 * BATCH),
    'ours rme %': a.throughput.rme.toFixed(1),
    'peer ops/s (p50)': Math.round(b.throughput.p50 * BATCH),
    'peer rme %': b.throughput.rme.toFixed(1),
    'ratio (ours / peer)': (a.throughput.p50 / b.throughput.p50).toFixed(2) + 'x',
  };
};
console.table([
  row('arm + cancel a timer', 'ours: setFastTimeout+clearFastTimeout', 'node: setTimeout+clearTimeout', 'setTimeout+clearTimeout'),
  row('await timeout(ms, settled promise)', 'ours: timeout(ms, promise)', 'setTimeout wrapper', 'setTimeout wrapper'),
  row('await timeout(ms, settled promise)', 'ours: timeout(ms, promise)', 'AbortSignal.timeout', 'AbortSignal.timeout'),
]);

// Memory: 1M pending timers, delays spread over 60..61 s (100 buckets of ours, 1000 duration lists
// of Node's). The handles are held in an array in both cases; its 8 MB is subtracted (ours are
// numbers: small integers in fresh slots, unboxed). Memory is the JS heap plus ArrayBuffers, where
// our slab's typed arrays live.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.log('memory: run with --expose-gc to measure');
} else {
  const COUNT = 1_000_000;
  const used = () => {
    const memory = process.memoryUsage();
    return memory.heapUsed + memory.arrayBuffers;
  };
  const heapOf = (arm: (i: number) => unknown, disarm: (handle: unknown) => void) => {
    const handles = new Array<unknown>(COUNT).fill(undefined);
    gc();
    const before = used();
    for (let i = 0; i < COUNT; i++) handles[i] = arm(i);
    gc();
    const bytes = used() - before;
    for (const handle of handles) disarm(handle);
    return bytes;
  };
  const ours = heapOf((i) => setFastTimeout(noop, 60_000 + (i % 1000)), (h) => clearFastTimeout(h as FastTimer));
  const node = heapOf((i) => setTimeout(noop, 60_000 + (i % 1000)), (h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  console.table([
    {
      'pending timers': COUNT,
      'ours heap MB': (ours / 2 ** 20).toFixed(1),
      'ours bytes/timer': Math.round(ours / COUNT),
      'node heap MB': (node / 2 ** 20).toFixed(1),
      'node bytes/timer': Math.round(node / COUNT),
      'ratio (node / ours)': (node / ours).toFixed(2) + 'x',
    },
  ]);
}
console.log(`sink ${sink & 1}`);
