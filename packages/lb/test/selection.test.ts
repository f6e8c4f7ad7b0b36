import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Continuum } from '@sluice/ketama';
import { Backend, Consistent, FnvHash, fnv1a32, LbError, Random, RoundRobin, type BackendSelection } from '../src/index.js';

const A = new Backend('10.0.0.1:80', 3);
const B = new Backend('10.0.0.2:80', 1);
const C = new Backend('10.0.0.3:80', 1);

function all(sel: BackendSelection, key: string): string[] {
  const out: string[] = [];
  const it = sel.iter(key);
  for (let b = it.next(); b !== undefined; b = it.next()) out.push(b.addr);
  return out;
}
const name = (b: Backend) => b.addr;

const weighted = suite('weighted table and fallback order');

weighted('weights 3,1,1 interleave as A A B C A; equal weights keep the given order', () => {
  assert.equal([...RoundRobin.build([A, B, C]).table], [0, 0, 1, 2, 0]);
  const equal = [1, 2, 3, 4].map((i) => new Backend(`10.0.1.${i}:80`));
  assert.equal([...RoundRobin.build(equal).table], [0, 1, 2, 3]);
});

weighted('round robin first choices walk the table; fallbacks continue it, each backend once', () => {
  const rr = RoundRobin.build([A, B, C]);
  assert.equal(all(rr, ''), [A, B, C].map(name)); // from slot 0 (A)
  assert.equal(all(rr, ''), [A, B, C].map(name)); // slot 1 (A): next is B
  assert.equal(all(rr, ''), [B, C, A].map(name)); // slot 2
  assert.equal(all(rr, ''), [C, A, B].map(name)); // slot 3: wraps to A
  assert.equal(all(rr, ''), [A, B, C].map(name)); // slot 4 wraps round to slot 0's neighbours
  assert.equal(all(rr, ''), [A, B, C].map(name)); // back to slot 0
});

weighted('FNV hash: the first choice is table[fnv1a32(key) % total weight], the order is the same every time', () => {
  const sel = FnvHash.build([A, B, C]);
  for (const key of ['/a', '/b', '/users/42', 'x'.repeat(100)]) {
    const slot = fnv1a32(key) % 5;
    assert.is(sel.iter(key).next(), [A, B, C][sel.table[slot]], key);
    const order = all(sel, key);
    assert.equal(all(sel, key), order);
    assert.equal([...order].sort(), [A, B, C].map(name).sort(), 'every backend once');
  }
});

weighted('random: every walk names each backend once', () => {
  const sel = Random.build([A, B, C]);
  for (let i = 0; i < 50; i++) assert.equal([...all(sel, '')].sort(), [A, B, C].map(name).sort());
});

weighted('empty selections give nothing', () => {
  for (const sel of [RoundRobin.build([]), Random.build([]), FnvHash.build([]), Consistent.build([])]) assert.equal(all(sel, 'k'), []);
});

weighted('total weight over maxTotalWeight throws ERR_LB_TOO_MUCH_WEIGHT', () => {
  try {
    RoundRobin.build([A, B], { maxTotalWeight: 3 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LbError);
    assert.is((e as LbError).code, 'ERR_LB_TOO_MUCH_WEIGHT');
  }
  assert.throws(() => RoundRobin.build([A], { maxTotalWeight: 0 }), (e: LbError) => e.code === 'ERR_LB_INVALID_OPTION');
});

const consistent = suite('Consistent (Ketama)');
const ring5 = [1, 2, 3, 4, 5].map((i) => new Backend(`10.0.2.${i}:8080`, i === 3 ? 2 : 1));

consistent('first choice is what the nginx-compatible ring names; fallbacks follow the ring, each backend once', () => {
  const sel = Consistent.build(ring5);
  const ring = new Continuum(ring5.map((b) => ({ addr: b.addr, weight: b.weight })));
  for (let i = 0; i < 300; i++) {
    const key = `/object/${i}`;
    const expected = [...new Set(ring.nodeIter(key))];
    assert.equal(all(sel, key), expected, key);
    assert.is(expected[0], ring.node(key));
  }
});

consistent('removing a backend moves only the keys it owned', () => {
  const full = Consistent.build(ring5);
  const less = Consistent.build(ring5.filter((b) => b.addr !== '10.0.2.2:8080'));
  let moved = 0;
  for (let i = 0; i < 2000; i++) {
    const key = `k${i}`;
    const before = full.iter(key).next()!.addr;
    const after = less.iter(key).next()!.addr;
    if (before !== '10.0.2.2:8080') assert.is(after, before, key);
    else {
      moved++;
      // Its keys go where the full ring's fallback sent them.
      const it = full.iter(key);
      it.next();
      assert.is(after, it.next()!.addr);
    }
  }
  assert.ok(moved > 0);
});

const shares = suite('weights give the expected shares');
// Weights 1, 2, 7 over 100,000 selections. Random: each count is Binomial(n, p); we allow 6 standard
// deviations (sqrt(n p (1-p)): 95, 126, 145), a false failure about once in 5e8 runs. Hashes are not
// random, so FNV (over distinct keys) gets a fixed 1 percentage point and Ketama (160 points per unit
// of weight, so arc shares wobble) 2 points; measured: FNV off by under 0.1 point, Ketama under 0.3.
const W = [new Backend('10.0.3.1:80', 1), new Backend('10.0.3.2:80', 2), new Backend('10.0.3.3:80', 7)];
const N = 100_000;
function counts(sel: BackendSelection, key: (i: number) => string): number[] {
  const c = [0, 0, 0];
  for (let i = 0; i < N; i++) c[W.indexOf(sel.iter(key(i)).next()!)]++;
  return c;
}

shares('round robin: exactly weight/total over whole rounds', () => {
  assert.equal(counts(RoundRobin.build(W), () => ''), [10_000, 20_000, 70_000]);
});

shares('random: within 6 sigma of weight/total', () => {
  const c = counts(Random.build(W), () => '');
  [0.1, 0.2, 0.7].forEach((p, i) => {
    const sigma = Math.sqrt(N * p * (1 - p));
    assert.ok(Math.abs(c[i] - N * p) <= 6 * sigma, `backend ${i}: ${c[i]} vs ${N * p} ± ${Math.round(6 * sigma)}`);
  });
});

shares('FNV hash over distinct keys: within 1 point of weight/total', () => {
  const c = counts(FnvHash.build(W), (i) => `/item/${i}`);
  [0.1, 0.2, 0.7].forEach((p, i) => assert.ok(Math.abs(c[i] / N - p) <= 0.01, `backend ${i}: ${c[i] / N} vs ${p}`));
});

shares('consistent over distinct keys: within 2 points of weight/total', () => {
  const c = counts(Consistent.build(W), (i) => `/item/${i}`);
  [0.1, 0.2, 0.7].forEach((p, i) => assert.ok(Math.abs(c[i] / N - p) <= 0.02, `backend ${i}: ${c[i] / N} vs ${p}`));
});

weighted.run();
consistent.run();
shares.run();
