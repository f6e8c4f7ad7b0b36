import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Inflight, InflightGuard, LimitsError } from '../src/index.js';

const counting = suite('Inflight');

counting('guards count up and release down (Pingora inflight_count)', () => {
  const inflight = new Inflight();
  const first = inflight.incr('a', 1);
  assert.is(first.estimate, 1);
  const second = inflight.incr('a', 2);
  assert.is(second.estimate, 3);
  first.release();
  assert.is(second.get(), 2);
  second.release();
  const third = inflight.incr('a');
  assert.is(third.estimate, 1);
  third.release();
  assert.is(inflight.get('a'), 0);
});

counting('a guard releases exactly once, however often it is asked', () => {
  const inflight = new Inflight();
  const held = inflight.incr('k', 5);
  const other = inflight.incr('k', 1);
  assert.is(held.released, false);
  assert.is(held.release(), true);
  assert.is(held.release(), false);
  held[Symbol.dispose]();
  assert.is(held.released, true);
  assert.is(inflight.get('k'), 1, 'only the first release took its 5 off');
  other.release();
  assert.is(inflight.get('k'), 0);
});

counting('using releases at the end of the block, also when it throws', () => {
  const inflight = new Inflight();
  {
    using guard = inflight.incr('scoped', 2);
    assert.instance(guard, InflightGuard);
    assert.is(inflight.get('scoped'), 2);
  }
  assert.is(inflight.get('scoped'), 0);
  try {
    using guard = inflight.incr('scoped', 3);
    assert.is(guard.estimate, 3);
    throw new Error('request failed');
  } catch (error) {
    assert.is((error as Error).message, 'request failed');
  }
  assert.is(inflight.get('scoped'), 0);
  // Released explicitly inside the block: the dispose at its end does nothing more.
  {
    using guard = inflight.incr('scoped', 4);
    guard.release();
    inflight.incr('scoped', 1);
  }
  assert.is(inflight.get('scoped'), 1);
});

counting('a byte key is copied: reusing the buffer does not move the count', () => {
  const inflight = new Inflight();
  const buffer = Buffer.from('client-a');
  const guard = inflight.incr(buffer, 2);
  buffer.write('client-b');
  assert.is(inflight.get(Buffer.from('client-a')), 2);
  guard.release();
  assert.is(inflight.get(Buffer.from('client-a')), 0);
  assert.is(inflight.get(Buffer.from('client-b')), 0);
});

counting('many keys, many guards: releasing all returns every key to zero', () => {
  const inflight = new Inflight({ seed: 3 });
  const guards: InflightGuard[] = [];
  const truth = new Array<number>(500).fill(0);
  for (let i = 0; i < 10_000; i++) {
    guards.push(inflight.incr(`conn-${i % 500}`, 1 + (i % 3)));
    truth[i % 500] += 1 + (i % 3);
  }
  // 4 x 8192 counters for 500 keys: collisions in all four rows are practically impossible.
  for (let i = 0; i < 500; i++) assert.is(inflight.get(`conn-${i}`), truth[i]);
  for (const guard of guards) guard.release();
  for (let i = 0; i < 500; i++) assert.is(inflight.get(`conn-${i}`), 0);
});

counting('bad input has codes', () => {
  const inflight = new Inflight();
  for (const [run, code] of [
    [() => inflight.incr(undefined as unknown as string), 'ERR_LIMITS_INVALID_KEY'],
    [() => inflight.incr('k', Number.NaN), 'ERR_LIMITS_INVALID_COUNT'],
    [() => new Inflight({ slots: -1 }), 'ERR_LIMITS_INVALID_SIZE'],
  ] as const) {
    try {
      run();
      assert.unreachable(`expected ${code}`);
    } catch (error) {
      assert.instance(error, LimitsError);
      assert.is((error as LimitsError).code, code);
    }
  }
  assert.is(inflight.get('k'), 0);
});

counting.run();
