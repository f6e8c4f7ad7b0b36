// Counts and self sizes by constructor in a V8 heap snapshot, or per connection between two:
//   node heap-snapshot-summary.mjs a.heapsnapshot                 (largest first)
//   node heap-snapshot-summary.mjs a.heapsnapshot b.heapsnapshot N (what b has more than a, per N)
// Strings count as one group; closures are grouped by function name.
import { readFileSync } from 'node:fs';

function summarize(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt, width] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size'), fields.length];
  const groups = new Map();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name = snapshot.strings[nodes[i + nameAt]].slice(0, 50);
    const key = type.includes('string') ? '(string)' : type === 'object' ? name : `(${type}) ${name}`;
    const group = groups.get(key) ?? { count: 0, size: 0 };
    group.count++;
    group.size += nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

const [a, b, per] = process.argv.slice(2);
const before = summarize(a);
if (b === undefined) {
  for (const [key, g] of [...before].sort((x, y) => y[1].size - x[1].size).slice(0, 50)) console.log(String(g.count).padStart(8), String(g.size).padStart(10), ' ', key);
} else {
  const after = summarize(b);
  const n = Number(per ?? 1);
  const rows = [...new Set([...before.keys(), ...after.keys()])].map((key) => {
    const x = before.get(key) ?? { count: 0, size: 0 };
    const y = after.get(key) ?? { count: 0, size: 0 };
    return { key, count: (y.count - x.count) / n, size: (y.size - x.size) / n };
  });
  rows.sort((x, y) => y.size - x.size);
  console.log(`bytes and objects per ${n > 1 ? 'connection' : 'snapshot'}; total ${rows.reduce((t, r) => t + r.size, 0).toFixed(0)} B`);
  for (const r of rows.slice(0, 40)) console.log(r.size.toFixed(0).padStart(7), r.count.toFixed(2).padStart(7), ' ', r.key);
}
