// The Prometheus text exposition format 0.0.4, parsed strictly and independently of prom-client.
import * as assert from 'uvu/assert';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Parses the text exposition format 0.0.4, failing on anything malformed. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      assert.match(line.split(' ')[2], NAME);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      assert.match(name, NAME);
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), `type ${type}`);
      assert.not.ok(types.has(name), `one TYPE line for ${name}`);
      types.set(name, type);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
      let at = 0;
      while (at < m[2].length) {
        re.lastIndex = at;
        const l = re.exec(m[2]);
        assert.ok(l, `labels: ${m[2]}`);
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        at = re.lastIndex;
      }
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    assert.not.ok(Number.isNaN(value) && m[3] !== 'NaN', `value ${m[3]}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(m[1]) || types.has(family), `TYPE before ${m[1]}`);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

export function value(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const s = e.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v) && Object.keys(x.labels).length === Object.keys(labels).length);
  return s?.value;
}

/** Buckets of a label-less histogram are cumulative: `le` ascending, counts never falling, +Inf = _count. */
export function checkHistogram(e: Exposition, family: string): void {
  assert.is(e.types.get(family), 'histogram');
  const buckets = e.samples.filter((s) => s.name === `${family}_bucket`);
  assert.ok(buckets.length > 1, `${family} has buckets`);
  let le = -Infinity;
  let count = -1;
  for (const b of buckets) {
    const bound = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    assert.ok(bound > le, `${family} le ascending`);
    assert.ok(b.value >= count, `${family} cumulative at le=${b.labels.le}`);
    le = bound;
    count = b.value;
  }
  assert.is(le, Infinity, `${family} ends with +Inf`);
  assert.is(count, value(e, `${family}_count`));
}
