// Memory per entry of @sluice/cache's TinyUfo against lru-cache, lru.min, mnemonist's LRUCache and
// a bare Map, at 1e4, 1e5 and 1e6 entries. Each cache is filled to capacity with integer keys
// (small integers: no key allocation) and one shared value, as Pingora's bench_memory stores
// zero-sized values, so the figure is the cache's own bookkeeping. Measured as the growth of V8
// heap + ArrayBuffer memory after a full GC. Run: node --expose-gc --import tsx cache-memory.bench.ts
import { TinyUfo } from '@sluice/cache';
import { LRUCache } from 'lru-cache';
import { createLRU } from 'lru.min';
import { LRUCache as MnemonistLru } from 'mnemonist';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const value = {};

function used(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const builders: Record<string, (n: number) => unknown> = {
  'TinyUfo (ours)': (n) => {
    const c = new TinyUfo<number, object>(n, n);
    for (let i = 0; i < n; i++) c.put(i, value, 1);
    if (c.size !== n) throw new Error(`TinyUfo holds ${c.size}`);
    return c;
  },
  'lru-cache': (n) => {
    const c = new LRUCache<number, object>({ max: n });
    for (let i = 0; i < n; i++) c.set(i, value);
    return c;
  },
  'lru.min': (n) => {
    const c = createLRU<number, object>({ max: n });
    for (let i = 0; i < n; i++) c.set(i, value);
    return c;
  },
  'mnemonist LRUCache': (n) => {
    const c = new MnemonistLru<number, object>(n);
    for (let i = 0; i < n; i++) c.set(i, value);
    return c;
  },
  'Map (no eviction)': (n) => {
    const c = new Map<number, object>();
    for (let i = 0; i < n; i++) c.set(i, value);
    return c;
  },
};

const rows: Record<string, string>[] = [];
let keep: unknown;
for (const n of [10_000, 100_000, 1_000_000]) {
  const perEntry: Record<string, number> = {};
  for (const [name, build] of Object.entries(builders)) {
    const before = used();
    keep = build(n);
    perEntry[name] = (used() - before) / n;
    keep = undefined;
  }
  const ours = perEntry['TinyUfo (ours)'];
  for (const [name, bytes] of Object.entries(perEntry)) {
    rows.push({ entries: n.toLocaleString('en'), cache: name, 'bytes/entry': bytes.toFixed(1), 'ratio ours/this': (ours / bytes).toFixed(2) });
  }
}
console.log(`memory per entry (V8 heap + ArrayBuffers after GC), Node ${process.version}${keep === undefined ? '' : ''}`);
console.table(rows);
