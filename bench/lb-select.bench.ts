// @sluice/lb select() per algorithm, 10 weighted backends (total weight 15). Peers: for Consistent
// the `hashring` package (ketama over MD5 with an LRU; 100k distinct keys defeat the LRU); for
// RoundRobin, Random and FnvHash no npm load balancer exposes a comparable pick, so the "peer" is the
// bare weighted-array pick with no health state and no fallback: the ratio is what select() costs over
// that floor. "3 down" rows mark 3 of the 10 backends unhealthy so picks go through the fallback walk.
// Medians of tinybench samples; rme is tinybench's relative margin of error.
// Run: node --expose-gc --import tsx lb-select.bench.ts
import { Bench, type Task } from 'tinybench';
import HashRing from 'hashring';
import { Backend, Consistent, FnvHash, LoadBalancer, Random, RoundRobin, Static, fnv1a32, type BackendSelection, type SelectionBuilder } from '@sluice/lb';

const weights = [1, 2, 1, 3, 1, 2, 1, 1, 2, 1];
const backends = weights.map((w, i) => new Backend(`10.0.0.${i + 1}:8080`, w));
const weighted = backends.flatMap((b) => Array<Backend>(b.weight).fill(b));
const ringServers: Record<string, { weight: number }> = {};
for (const b of backends) ringServers[b.addr] = { weight: b.weight };
const ring = new HashRing(ringServers);

let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) >>> 0);
const keys = Array.from({ length: 100_000 }, (_, i) => `/objects/${random().toString(36)}/${i}`);

async function balancer<S extends BackendSelection>(selection: SelectionBuilder<S>, down: number): Promise<LoadBalancer<S>> {
  const lb = new LoadBalancer({ selection, discovery: new Static(backends) });
  await lb.update();
  for (let i = 0; i < down; i++) lb.backends.setEnabled(backends[i * 3], false);
  return lb;
}

const BATCH = 1000;
let cursor = 0;
let sink = 0;
const next = () => {
  const start = cursor;
  cursor = (cursor + BATCH) % keys.length;
  return start;
};

const bench = new Bench({ name: 'lb-select', time: 1200, warmup: true });
const algorithms = { RoundRobin, Random, FnvHash, Consistent } as const;
for (const [name, builder] of Object.entries(algorithms)) {
  for (const down of [0, 3]) {
    const lb = await balancer(builder as SelectionBuilder<BackendSelection>, down);
    bench.add(`${name}, ${down} down`, () => {
      const start = next();
      for (let i = 0; i < BATCH; i++) sink ^= (lb.select(keys[start + i]) as Backend).weight;
    });
  }
}
let rr = 0;
bench
  .add('floor: array round robin', () => {
    for (let i = 0; i < BATCH; i++) {
      sink ^= weighted[rr].weight;
      rr = rr + 1 === weighted.length ? 0 : rr + 1;
    }
  })
  .add('floor: array random', () => {
    for (let i = 0; i < BATCH; i++) sink ^= weighted[Math.floor(Math.random() * weighted.length)].weight;
  })
  .add('floor: array[fnv1a32(key) % n]', () => {
    const start = next();
    for (let i = 0; i < BATCH; i++) sink ^= weighted[fnv1a32(keys[start + i]) % weighted.length].weight;
  })
  .add('hashring.get', () => {
    const start = next();
    for (let i = 0; i < BATCH; i++) sink ^= ring.get(keys[start + i]).length;
  });

await bench.run();

const result = (name: string) => {
  const r = (bench.getTask(name) as Task | undefined)?.result;
  if (!r || !('throughput' in r)) throw new Error(`${name}: ${r?.state}`);
  return r;
};
const peers: Record<string, string> = {
  RoundRobin: 'floor: array round robin',
  Random: 'floor: array random',
  FnvHash: 'floor: array[fnv1a32(key) % n]',
  Consistent: 'hashring.get',
};
const rows = [];
for (const name of Object.keys(algorithms)) {
  for (const down of [0, 3]) {
    const ours = result(`${name}, ${down} down`);
    const peer = result(peers[name]);
    rows.push({
      'select()': `${name}, ${down} of 10 down`,
      'ours ops/s': Math.round(ours.throughput.p50 * BATCH).toLocaleString('en-US'),
      peer: peers[name],
      'peer ops/s': Math.round(peer.throughput.p50 * BATCH).toLocaleString('en-US'),
      'ours/peer': (ours.throughput.p50 / peer.throughput.p50).toFixed(2) + 'x',
      'rme ours / peer': `±${ours.throughput.rme.toFixed(1)}% / ±${peer.throughput.rme.toFixed(1)}%`,
    });
  }
}
console.log(`Node ${process.version}; 10 backends, total weight 15; medians of ${BATCH}-select batches`);
console.table(rows);
if (sink === 0.5) console.log(sink);
