// @sluice/ketama against the `hashring` package (ketama over MD5, with a 5000-entry LRU in front) on the
// same backends and keys: ring build time and lookups per second. Medians of tinybench samples; rme
// is tinybench's relative margin of error. Run: node --expose-gc --import tsx ketama.bench.ts
import { Bench, type Task } from 'tinybench';
import HashRing from 'hashring';
import { Continuum } from '@sluice/ketama';

const weights = [1, 2, 1, 3, 1, 2, 1, 1, 2, 1];
const backends = weights.map((weight, i) => ({ addr: `10.0.${i >> 4}.${(i % 16) + 1}:8080`, weight }));
const hashringServers: Record<string, { weight: number }> = {};
for (const b of backends) hashringServers[b.addr] = { weight: b.weight };

// URI-like keys. 100k distinct keys walked in order defeat hashring's LRU (as real traffic with many
// objects would); the 1k set fits in it, which is hashring's best case.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) >>> 0);
const makeKeys = (n: number) => Array.from({ length: n }, (_, i) => `/assets/${random().toString(36)}/${i}.jpg?v=${random() % 1000}`);
const manyKeys = makeKeys(100_000);
const hotKeys = makeKeys(1_000);
const manyKeyBytes = manyKeys.map((k) => Buffer.from(k));
// Real requests bring a new string object each time (the parser decodes it from the socket's bytes);
// V8 then has to hash it again for hashring's LRU lookup, and we read it for the CRC.
const hotKeyBytes = hotKeys.map((k) => Buffer.from(k, 'latin1'));

const ours = new Continuum(backends);
const theirs = new HashRing(hashringServers);

// The two rings disagree on placement by design (different hashes); check both answer with a backend.
for (const key of hotKeys) {
  if (!hashringServers[ours.node(key) as string] || !hashringServers[theirs.get(key)]) throw new Error(`no backend for ${key}`);
}

const BATCH = 1000;
let cursor = 0;
let sink = 0;
const batchOf = (keys: readonly unknown[]) => {
  const start = cursor;
  cursor = (cursor + BATCH) % keys.length;
  return start;
};

const bench = new Bench({ name: 'ketama', time: 1500, warmup: true });
bench
  .add('ours: lookup, 100k distinct string keys', () => {
    const start = batchOf(manyKeys);
    for (let i = 0; i < BATCH; i++) sink ^= (ours.node(manyKeys[start + i]) as string).length;
  })
  .add('hashring: lookup, 100k distinct string keys', () => {
    const start = batchOf(manyKeys);
    for (let i = 0; i < BATCH; i++) sink ^= theirs.get(manyKeys[start + i]).length;
  })
  .add('ours: lookup, 1k hot string keys', () => {
    const start = batchOf(hotKeys);
    for (let i = 0; i < BATCH; i++) sink ^= (ours.node(hotKeys[(start + i) % hotKeys.length]) as string).length;
  })
  .add('hashring: lookup, 1k hot string keys (LRU hits)', () => {
    const start = batchOf(hotKeys);
    for (let i = 0; i < BATCH; i++) sink ^= theirs.get(hotKeys[(start + i) % hotKeys.length]).length;
  })
  .add('ours: lookup, 1k hot keys, fresh strings', () => {
    const start = batchOf(hotKeyBytes);
    for (let i = 0; i < BATCH; i++) sink ^= (ours.node(hotKeyBytes[(start + i) % hotKeyBytes.length].toString("latin1")) as string).length;
  })
  .add('hashring: lookup, 1k hot keys, fresh strings', () => {
    const start = batchOf(hotKeyBytes);
    for (let i = 0; i < BATCH; i++) sink ^= theirs.get(hotKeyBytes[(start + i) % hotKeyBytes.length].toString("latin1")).length;
  })
  .add('ours: lookup, 100k distinct Buffer keys', () => {
    const start = batchOf(manyKeyBytes);
    for (let i = 0; i < BATCH; i++) sink ^= (ours.node(manyKeyBytes[start + i]) as string).length;
  })
  .add('ours: build ring (10 backends, weight 15)', () => {
    sink ^= new Continuum(backends).pointCount;
  })
  .add('hashring: build ring (10 backends, weight 15)', () => {
    sink ^= new HashRing(hashringServers).ring.length;
  });

await bench.run();

const p50 = (task: Task | undefined) => {
  const r = task?.result;
  if (!r || !('throughput' in r)) throw new Error(`${task?.name}: ${r?.state}`);
  return r;
};
const row = (label: string, oursName: string, peerName: string | undefined, perCall: number, unit: string) => {
  const a = p50(bench.getTask(oursName));
  const b = peerName ? p50(bench.getTask(peerName)) : undefined;
  const ourRate = a.throughput.p50 * perCall;
  const peerRate = b ? b.throughput.p50 * perCall : NaN;
  return {
    case: label,
    unit,
    ours: Math.round(ourRate).toLocaleString('en-US'),
    hashring: b ? Math.round(peerRate).toLocaleString('en-US') : '-',
    'ours/hashring': b ? (ourRate / peerRate).toFixed(2) + 'x' : '-',
    'rme ours / hashring': `±${a.throughput.rme.toFixed(1)}% / ${b ? '±' + b.throughput.rme.toFixed(1) + '%' : '-'}`,
  };
};

console.log(`Node ${process.version}; ${ours.pointCount} points (ours), ${(theirs as unknown as { ring: unknown[] }).ring.length} points (hashring); medians`);
console.table([
  row('lookup, 100k distinct keys', 'ours: lookup, 100k distinct string keys', 'hashring: lookup, 100k distinct string keys', BATCH, 'lookups/s'),
  row('lookup, 1k hot keys, same string objects', 'ours: lookup, 1k hot string keys', 'hashring: lookup, 1k hot string keys (LRU hits)', BATCH, 'lookups/s'),
  row('lookup, 1k hot keys, fresh strings', 'ours: lookup, 1k hot keys, fresh strings', 'hashring: lookup, 1k hot keys, fresh strings', BATCH, 'lookups/s'),
  row('lookup, 100k distinct Buffer keys', 'ours: lookup, 100k distinct Buffer keys', undefined, BATCH, 'lookups/s'),
  row('build ring (10 backends)', 'ours: build ring (10 backends, weight 15)', 'hashring: build ring (10 backends, weight 15)', 1, 'builds/s'),
]);
if (sink === 0.5) console.log(sink);
