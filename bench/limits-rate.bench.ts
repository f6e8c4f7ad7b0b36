// @sluice/limits Estimator.incr and Rate.observe against an exact Map<string, number> counter, for
// string keys (client addresses), in the same process run:
//  - hot: 1000 distinct keys, cycled (a busy service's regular clients);
//  - 1M distinct keys, each seen once per pass (a scan or a flood of new clients);
//  - memory held after counting 1M distinct keys once, keys built on the fly as a server would.
// Medians (p50) of tinybench samples; rme is tinybench's relative margin of error. Other work shares
// this machine's 2 cores, so absolute numbers are noisy; the ratios of one run are what to read.
// Run: cd bench && node --expose-gc --import tsx limits-rate.bench.ts
import { Bench, type Task } from 'tinybench';
import { Estimator, Rate } from '@sluice/limits';

const BATCH = 1000;
const DISTINCT = 1_000_000;
const address = (i: number): string => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
const hotKeys = Array.from({ length: BATCH }, (_, i) => address(i * 7919));
const allKeys = Array.from({ length: DISTINCT }, (_, i) => address(i));

let sink = 0;

// Memory held after counting 1M distinct keys once. Keys are built per event, as from requests, so
// the Map's figure includes the key strings it keeps alive; the sketches keep none.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.log('memory: run with --expose-gc to measure');
} else {
  const held = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const measure = (make: () => (key: string) => void): [number, unknown] => {
    gc();
    gc();
    const before = held();
    const count = make();
    for (let i = 0; i < DISTINCT; i++) count(address(i));
    gc();
    gc();
    return [held() - before, count];
  };
  const estimator = measure(() => {
    const e = new Estimator(4, 1024);
    return (key) => void e.incr(key, 1);
  });
  const rate = measure(() => {
    const r = new Rate(60_000);
    return (key) => void r.observe(key, 1);
  });
  const map = measure(() => {
    const m = new Map<string, number>();
    return (key) => void m.set(key, (m.get(key) ?? 0) + 1);
  });
  // What the fixed memory costs: how far a key seen once is overcounted after 1M distinct keys.
  const probe = new Estimator(4, 1024);
  for (let i = 0; i < DISTINCT; i++) probe.incr(allKeys[i], 1);
  let over = 0;
  for (let i = 0; i < 10_000; i++) over += probe.get(allKeys[i * 97]) - 1;
  const kib = (bytes: number) => (bytes / 1024).toFixed(0);
  // The sketches' counters are fixed-size typed arrays; the heap figure around them is noise of a few
  // hundred KiB either way, so their exact size is printed beside it.
  console.table([
    { counter: 'Estimator(4, 1024)', 'KiB held (measured)': kib(estimator[0]), 'KiB of counters': kib(4 * 1024 * 8), 'bytes/key': (estimator[0] / DISTINCT).toFixed(2) },
    { counter: 'Rate (2 x 4 x 1024)', 'KiB held (measured)': kib(rate[0]), 'KiB of counters': kib(2 * 4 * 1024 * 8), 'bytes/key': (rate[0] / DISTINCT).toFixed(2) },
    { counter: 'Map<string, number>', 'KiB held (measured)': kib(map[0]), 'KiB of counters': '-', 'bytes/key': (map[0] / DISTINCT).toFixed(2) },
  ]);
  console.log(
    `Estimator(4, 1024) after 1M distinct keys seen once: mean overcount ${(over / 10_000).toFixed(0)} ` +
      `(bound e/w * N = ${((Math.E / 1024) * DISTINCT).toFixed(0)}); size slots to the keys you must tell apart`,
  );
  sink ^= estimator[1] && rate[1] && map[1] ? 1 : 0;
}

const estimatorHot = new Estimator(4, 1024);
const rateHot = new Rate(1000);
const mapHot = new Map<string, number>();
const estimatorWide = new Estimator(4, 1024);
const rateWide = new Rate(1000);
const mapWide = new Map<string, number>();
let cursorEstimator = 0;
let cursorRate = 0;
let cursorMap = 0;

const bench = new Bench({ name: 'limits-rate', time: 1500, warmup: true });
bench
  .add('hot: Estimator.incr', () => {
    for (let i = 0; i < BATCH; i++) sink ^= estimatorHot.incr(hotKeys[i], 1);
  })
  .add('hot: Rate.observe', () => {
    for (let i = 0; i < BATCH; i++) sink ^= rateHot.observe(hotKeys[i], 1);
  })
  .add('hot: Map counter', () => {
    for (let i = 0; i < BATCH; i++) {
      const key = hotKeys[i];
      const count = (mapHot.get(key) ?? 0) + 1;
      mapHot.set(key, count);
      sink ^= count;
    }
  })
  .add('1M keys: Estimator.incr', () => {
    for (let i = 0; i < BATCH; i++) sink ^= estimatorWide.incr(allKeys[cursorEstimator++ % DISTINCT], 1);
  })
  .add('1M keys: Rate.observe', () => {
    for (let i = 0; i < BATCH; i++) sink ^= rateWide.observe(allKeys[cursorRate++ % DISTINCT], 1);
  })
  .add('1M keys: Map counter', () => {
    for (let i = 0; i < BATCH; i++) {
      const key = allKeys[cursorMap++ % DISTINCT];
      const count = (mapWide.get(key) ?? 0) + 1;
      mapWide.set(key, count);
      sink ^= count;
    }
  });

await bench.run();

const stats = (name: string) => {
  const r = (bench.getTask(name) as Task | undefined)?.result;
  if (!r || !('throughput' in r)) throw new Error(`${name}: ${r?.state}`);
  return r;
};
const rows = [];
for (const workload of ['hot', '1M keys'] as const) {
  const map = stats(`${workload}: Map counter`);
  for (const ours of ['Estimator.incr', 'Rate.observe'] as const) {
    const r = stats(`${workload}: ${ours}`);
    rows.push({
      workload: workload === 'hot' ? '1000 hot keys' : '1M distinct keys',
      ours,
      'ours ops/s (p50)': Math.round(r.throughput.p50 * BATCH),
      'ours rme %': r.throughput.rme.toFixed(1),
      'Map ops/s (p50)': Math.round(map.throughput.p50 * BATCH),
      'Map rme %': map.throughput.rme.toFixed(1),
      'ratio (ours / Map)': (r.throughput.p50 / map.throughput.p50).toFixed(2) + 'x',
    });
  }
}
console.table(rows);

console.log(`sink ${sink & 1}`);
