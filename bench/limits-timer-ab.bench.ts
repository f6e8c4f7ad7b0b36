// TEMPORARY A/B of @sluice/limits' fast timer: the slab with numeric handles (A) against the linked
// list of FastTimer objects it replaces (B, bench/lib/linked-timer.ts) and Node's setTimeout, in one
// process. Interleaved rounds (the order rotates each round); per round, tinybench's p50 ops/s and the
// process CPU time per arm + cancel (process.cpuUsage over 3M more, after it). Medians over the rounds.
// Run: cd bench && node --expose-gc --import tsx limits-timer-ab.bench.ts [rounds]
import { Bench } from 'tinybench';
import { clearFastTimeout, setFastTimeout } from '@sluice/limits';
import { linkedTimerManager } from './lib/linked-timer.js';
import { median } from './lib/proc.js';

const BATCH = 1000;
const DELAYS = [100, 1000, 5000, 30_000];
const ROUNDS = Number(process.argv[2] ?? 9);
const CPU_BATCHES = 3000;
const noop = (): void => undefined;
// Node keeps one timer list per duration and creates or drops it when its first timer comes or its
// last one goes (3x the cost). A server has timers of its usual durations pending all the time, so
// the peer is measured that way: one unref'd interval of each delay keeps its list alive.
for (const ms of DELAYS) setInterval(noop, ms).unref();

const tasks: Record<string, () => void> = {
  slab() {
    for (let i = 0; i < BATCH; i++) clearFastTimeout(setFastTimeout(noop, DELAYS[i & 3]));
  },
  linked() {
    for (let i = 0; i < BATCH; i++) linkedTimerManager.clearTimeout(linkedTimerManager.setTimeout(noop, DELAYS[i & 3]));
  },
  node() {
    for (let i = 0; i < BATCH; i++) clearTimeout(setTimeout(noop, DELAYS[i & 3]));
  },
};
const names = Object.keys(tasks);
const opsPerSecond: Record<string, number[]> = { slab: [], linked: [], node: [] };
const cpuNsPerOp: Record<string, number[]> = { slab: [], linked: [], node: [] };

for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, k) => names[(k + round) % names.length]);
  for (const name of order) {
    const bench = new Bench({ time: 400, warmup: true });
    bench.add(name, tasks[name]);
    await bench.run();
    // Then, warm, the CPU time of a fixed number of batches: immune to time spent preempted.
    const cpuBefore = process.cpuUsage();
    for (let k = 0; k < CPU_BATCHES; k++) tasks[name]();
    const cpu = process.cpuUsage(cpuBefore);
    const result = bench.tasks[0].result;
    if (!result || !('throughput' in result)) throw new Error(`${name}: ${result?.state}`);
    opsPerSecond[name].push(result.throughput.p50 * BATCH);
    cpuNsPerOp[name].push(((cpu.user + cpu.system) * 1000) / (CPU_BATCHES * BATCH));
  }
}

const spread = (values: number[]) => `${((Math.max(...values) / Math.min(...values) - 1) * 100).toFixed(0)} %`;
console.table(
  names.map((name) => ({
    implementation: name,
    'ops/s p50 (median of rounds)': Math.round(median(opsPerSecond[name])),
    'max/min over rounds': spread(opsPerSecond[name]),
    'CPU ns per arm+cancel (median)': median(cpuNsPerOp[name]).toFixed(1),
  })),
);
const ratios = (a: string, b: string) => opsPerSecond[a].map((v, k) => v / opsPerSecond[b][k]);
const cpuRatios = (a: string, b: string) => cpuNsPerOp[b].map((v, k) => v / cpuNsPerOp[a][k]);
console.table([
  { comparison: 'slab / node', 'throughput ratio (median)': median(ratios('slab', 'node')).toFixed(2) + 'x', 'CPU ratio (median)': median(cpuRatios('slab', 'node')).toFixed(2) + 'x', rounds: ratios('slab', 'node').map((r) => r.toFixed(2)).join(' ') },
  { comparison: 'linked / node', 'throughput ratio (median)': median(ratios('linked', 'node')).toFixed(2) + 'x', 'CPU ratio (median)': median(cpuRatios('linked', 'node')).toFixed(2) + 'x', rounds: ratios('linked', 'node').map((r) => r.toFixed(2)).join(' ') },
  { comparison: 'slab / linked', 'throughput ratio (median)': median(ratios('slab', 'linked')).toFixed(2) + 'x', 'CPU ratio (median)': median(cpuRatios('slab', 'linked')).toFixed(2) + 'x', rounds: ratios('slab', 'linked').map((r) => r.toFixed(2)).join(' ') },
]);
