import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Estimator, LimitsError, MAX_ESTIMATOR_COUNTERS } from '../src/index.js';

// Deterministic pseudo-random numbers for the event streams (mulberry32).
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, LimitsError);
    assert.is((error as LimitsError).code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

const counting = suite('Estimator counting');

counting('incr returns the estimate after adding', () => {
  const estimator = new Estimator(8, 8);
  assert.is(estimator.incr('a', 1), 1);
  assert.is(estimator.incr('b', 1), 1);
  assert.is(estimator.incr('a', 2), 3);
  assert.is(estimator.incr('b', 2), 3);
  assert.is(estimator.incr('a'), 4, 'n defaults to 1');
});

counting('decr takes off what incr added', () => {
  const estimator = new Estimator(8, 8);
  estimator.incr('a', 3);
  estimator.incr('b', 3);
  estimator.decr('a', 1);
  estimator.decr('b');
  assert.is(estimator.get('a'), 2);
  assert.is(estimator.get('b'), 2);
});

counting('get reads without changing; an unseen key is 0', () => {
  const estimator = new Estimator(4, 1024);
  estimator.incr('a', 1);
  estimator.incr('a', 2);
  assert.is(estimator.get('a'), 3);
  assert.is(estimator.get('a'), 3);
  assert.is(estimator.get('never seen'), 0);
});

counting('reset zeroes every counter', () => {
  const estimator = new Estimator(4, 64);
  for (let i = 0; i < 500; i++) estimator.incr(`k${i}`, i + 1);
  estimator.reset();
  for (let i = 0; i < 500; i++) assert.is(estimator.get(`k${i}`), 0);
});

counting('byte keys: equal bytes are the same key, whatever the buffer; bytes differ from strings', () => {
  const estimator = new Estimator(4, 4096, { seed: 7 });
  estimator.incr(Buffer.from('client-1'), 2);
  estimator.incr(new Uint8Array(Buffer.from('client-1')), 3);
  assert.is(estimator.get(Buffer.from('client-1')), 5);
  assert.is(estimator.get('client-1'), 0, 'a string key is a different key from its bytes');
  estimator.incr('client-1', 1);
  assert.is(estimator.get('client-1'), 1);
  assert.is(estimator.get(Buffer.from('client-1')), 5);
});

counting('the empty key and long unicode keys work', () => {
  const estimator = new Estimator(4, 1024, { seed: 1 });
  assert.is(estimator.incr('', 2), 2);
  const long = 'ключ-🔑-'.repeat(1000);
  assert.is(estimator.incr(long, 3), 3);
  assert.is(estimator.get(long.slice(0, -1)), 0);
});

counting('negative and large counts stay exact integers', () => {
  const estimator = new Estimator(2, 16, { seed: 3 });
  assert.is(estimator.incr('a', -5), -5);
  assert.is(estimator.incr('b', 2 ** 40), 2 ** 40);
  assert.is(estimator.incr('b', 1), 2 ** 40 + 1);
});

counting('the same seed gives the same sketch; seeds differ by default', () => {
  const one = new Estimator(1, 1 << 16, { seed: 42 });
  const two = new Estimator(1, 1 << 16, { seed: 42 });
  for (let i = 0; i < 200; i++) one.incr(`key-${i}`, i);
  for (let i = 0; i < 200; i++) two.incr(`key-${i}`, i);
  for (let i = 0; i < 300; i++) assert.is(one.get(`key-${i}`), two.get(`key-${i}`));
  // With one row of 2 slots, "x" shares its counter with "y" for half of all seeds: 40 random
  // sketches all agreeing would mean the seed is not random (chance 2^-40).
  let shared = 0;
  for (let i = 0; i < 40; i++) {
    const estimator = new Estimator(1, 2);
    estimator.incr('x', 1);
    if (estimator.get('y') === 1) shared++;
  }
  assert.ok(shared > 0 && shared < 40, `x and y shared a counter in ${shared} of 40 random sketches`);
});

const errors = suite('Estimator errors');

errors('bad sizes are ERR_LIMITS_INVALID_SIZE', () => {
  assertCode(() => new Estimator(0, 10), 'ERR_LIMITS_INVALID_SIZE');
  assertCode(() => new Estimator(4, 1.5), 'ERR_LIMITS_INVALID_SIZE');
  assertCode(() => new Estimator(Number.NaN, 10), 'ERR_LIMITS_INVALID_SIZE');
  assertCode(() => new Estimator('4' as unknown as number, 10), 'ERR_LIMITS_INVALID_SIZE');
  assertCode(() => new Estimator(2, MAX_ESTIMATOR_COUNTERS), 'ERR_LIMITS_INVALID_SIZE');
  try {
    new Estimator(4, -1);
  } catch (error) {
    assert.match((error as Error).message, /slots must be a positive integer, got number -1/);
  }
});

errors('bad keys are ERR_LIMITS_INVALID_KEY, bad counts ERR_LIMITS_INVALID_COUNT', () => {
  const estimator = new Estimator(4, 16);
  assertCode(() => estimator.incr(42 as unknown as string), 'ERR_LIMITS_INVALID_KEY');
  assertCode(() => estimator.get(null as unknown as string), 'ERR_LIMITS_INVALID_KEY');
  assertCode(() => estimator.decr({} as unknown as string), 'ERR_LIMITS_INVALID_KEY');
  assertCode(() => estimator.incr('a', 1.5), 'ERR_LIMITS_INVALID_COUNT');
  assertCode(() => estimator.incr('a', Number.NaN), 'ERR_LIMITS_INVALID_COUNT');
  assertCode(() => estimator.decr('a', 2 ** 60), 'ERR_LIMITS_INVALID_COUNT');
  assert.is(estimator.get('a'), 0, 'a rejected call changes nothing');
});

const accuracy = suite('Estimator accuracy (count-min bound)');

// Cormode & Muthukrishnan: with w = slots and d = hashes, estimate <= truth + (e / w) * N with
// probability >= 1 - e^-d per key, and never below the truth while counts only grow.
function stream(seed: number, heavy: number, light: number) {
  const next = random(seed);
  const truth = new Map<string, number>();
  for (let i = 0; i < heavy; i++) truth.set(`heavy-${i}`, 2000 + Math.floor(next() * 18000));
  for (let i = 0; i < light; i++) truth.set(`light-${i}`, 1 + Math.floor(next() * 5));
  // Interleave: each key arrives in several chunks, in shuffled order.
  const events: Array<[string, number]> = [];
  for (const [key, count] of truth) {
    let left = count;
    while (left > 0) {
      const n = Math.min(left, 1 + Math.floor(next() * 50));
      events.push([key, n]);
      left -= n;
    }
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  let total = 0;
  for (const count of truth.values()) total += count;
  return { truth, events, total };
}

for (const seed of [1, 2, 3]) {
  accuracy(`heavy hitters among 20000 light keys stay within e/w * N (seed ${seed})`, () => {
    const hashes = 4;
    const slots = 1024;
    const { truth, events, total } = stream(seed, 20, 20_000);
    const estimator = new Estimator(hashes, slots, { seed });
    for (const [key, n] of events) estimator.incr(key, n);
    const bound = (Math.E / slots) * total;
    const delta = Math.exp(-hashes);
    let overBound = 0;
    for (const [key, count] of truth) {
      const estimate = estimator.get(key);
      assert.ok(estimate >= count, `${key}: estimate ${estimate} below its true count ${count}`);
      if (estimate - count > bound) overBound++;
    }
    // The bound fails for at most a fraction delta of keys (in expectation; a 2x margin here).
    assert.ok(overBound <= 2 * delta * truth.size, `${overBound} of ${truth.size} keys over the bound ${bound.toFixed(0)}`);
    // Every heavy hitter is estimated within the bound, so the 20 largest estimates are exactly them.
    const ranked = [...truth.keys()].sort((x, y) => estimator.get(y) - estimator.get(x));
    for (let i = 0; i < 20; i++) {
      const key = ranked[i];
      assert.match(key, /^heavy-/, `rank ${i} is ${key}`);
      const error = estimator.get(key) - truth.get(key)!;
      assert.ok(error <= bound, `${key} overcounted by ${error} > ${bound.toFixed(0)}`);
    }
  });
}

accuracy('more slots shrink the error as e/w predicts', () => {
  const { truth, events, total } = stream(9, 10, 5000);
  for (const slots of [256, 2048]) {
    const estimator = new Estimator(4, slots, { seed: 9 });
    for (const [key, n] of events) estimator.incr(key, n);
    let errorSum = 0;
    for (const [key, count] of truth) errorSum += estimator.get(key) - count;
    const meanError = errorSum / truth.size;
    // The mean overcount of a row is N / w; the minimum of 4 rows is well below it.
    assert.ok(meanError <= total / slots, `slots ${slots}: mean error ${meanError.toFixed(1)} > N/w ${(total / slots).toFixed(1)}`);
  }
});

accuracy('with as many slots as keys squared, counts are almost always exact', () => {
  const estimator = new Estimator(4, 1 << 16, { seed: 5 });
  const truth = new Map<string, number>();
  for (let i = 0; i < 200; i++) truth.set(`k${i}`, i + 1);
  for (const [key, count] of truth) estimator.incr(key, count);
  let exact = 0;
  for (const [key, count] of truth) if (estimator.get(key) === count) exact++;
  assert.is(exact, 200);
});

counting.run();
errors.run();
accuracy.run();
