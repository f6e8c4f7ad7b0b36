import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LimitsError, Rate, coarseNow, proportionalRateEstimate, type RateComponents } from '../src/index.js';

// A hand-driven clock: tests move time instead of sleeping.
function fakeClock(start = 0) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
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

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);

const observing = suite('Rate observe and rate');

observing('rate() reports the previous complete interval in events per second (Pingora test_observe_rate)', () => {
  const clock = fakeClock();
  const rate = new Rate(1000, { now: clock.now });
  assert.is(rate.observe('1', 3), 3);
  assert.is(rate.observe('1', 2), 5);
  assert.is(rate.rate('1'), 0, 'no complete interval yet');
  clock.ms = 1000;
  assert.is(rate.observe('1', 4), 4, 'observe counts the new interval from zero');
  assert.is(rate.rate('1'), 5);
  clock.ms = 2000;
  assert.is(rate.rate('1'), 4);
  clock.ms = 3000;
  assert.is(rate.rate('1'), 0, 'no events in the past two intervals');
});

observing('rate scales by the interval: 30 events in a 10 s interval are 3/s', () => {
  const clock = fakeClock();
  const rate = new Rate(10_000, { now: clock.now });
  rate.observe('k', 30);
  clock.ms = 10_000;
  close(rate.rate('k'), 3);
  const short = new Rate(250, { now: clock.now });
  short.observe('k', 5);
  clock.ms += 250;
  close(short.rate('k'), 20);
});

observing('keys are counted apart, strings and bytes alike', () => {
  const clock = fakeClock();
  const rate = new Rate(1000, { now: clock.now, seed: 11 });
  for (let i = 0; i < 7; i++) rate.observe('a');
  rate.observe(Buffer.from('b'), 2);
  clock.ms = 1500;
  assert.is(rate.rate('a'), 7);
  assert.is(rate.rate(Buffer.from('b')), 2);
  assert.is(rate.rate('c'), 0);
});

observing('rollover is lazy and stays on the interval grid', () => {
  const clock = fakeClock(5000);
  const rate = new Rate(1000, { now: clock.now });
  rate.observe('k', 10);
  clock.ms = 5999;
  assert.is(rate.observe('k'), 11, 'still the first interval');
  assert.is(rate.msUntilNextInterval(), 1);
  clock.ms = 6700; // first call after the interval ended: the interval now running began at 6000
  assert.is(rate.msUntilNextInterval(), 300);
  assert.is(rate.rate('k'), 11);
  assert.is(rate.observe('k', 2), 2);
  clock.ms = 7000;
  assert.is(rate.rate('k'), 2, 'the interval [6000, 7000) is complete');
  assert.is(rate.msUntilNextInterval(), 1000);
});

observing('a long pause clears both intervals, then counting resumes', () => {
  const clock = fakeClock();
  const rate = new Rate(1000, { now: clock.now });
  rate.observe('k', 100);
  clock.ms = 1000;
  rate.observe('k', 50);
  clock.ms = 123_456;
  assert.is(rate.rate('k'), 0);
  assert.is(rate.rateWith('k', (c) => c.previousSamples + c.currentSamples), 0);
  assert.is(rate.observe('k'), 1);
  assert.is(rate.msUntilNextInterval(), 544);
  clock.ms = 124_000;
  assert.is(rate.rate('k'), 1);
});

observing('an interval of exactly two intervals ago is dropped', () => {
  const clock = fakeClock();
  const rate = new Rate(1000, { now: clock.now });
  rate.observe('k', 9);
  clock.ms = 2000; // [0, 1000) ended two intervals ago; [1000, 2000) saw no events
  assert.is(rate.rate('k'), 0);
});

observing('the default clock works without injection', () => {
  const rate = new Rate(60_000);
  assert.is(rate.observe('k'), 1);
  assert.is(rate.observe('k', 4), 5);
  assert.is(rate.rate('k'), 0);
  const left = rate.msUntilNextInterval();
  assert.ok(left > 0 && left <= 60_000, `msUntilNextInterval ${left}`);
});

observing('with the default clock, intervals pass in real time', async () => {
  const rate = new Rate(200);
  const started = coarseNow(); // the same reading the Rate started its grid from
  rate.observe('live', 3);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const now = coarseNow();
  const intervals = Math.floor((now - started) / 200);
  // Normally one interval has passed (3 events in 0.2 s = 15/s); a stalled machine may have passed two.
  assert.is(rate.rate('live'), intervals === 1 ? 15 : 0, `${intervals} intervals passed`);
  assert.is(rate.msUntilNextInterval(), started + (intervals + 1) * 200 - coarseNow());
});

const components = suite('Rate rateWith');

components('rateWith hands over the components', () => {
  const clock = fakeClock();
  const rate = new Rate(2000, { now: clock.now });
  rate.observe('k', 8);
  clock.ms = 2500;
  rate.observe('k', 3);
  const seen: RateComponents[] = [];
  rate.rateWith('k', (c) => seen.push(c));
  assert.equal(seen, [{ previousSamples: 8, currentSamples: 3, intervalMs: 2000, currentIntervalFraction: 0.25 }]);
});

components('a custom 90/10 estimate (Pingora test_observe_rate_custom_90_10)', () => {
  const clock = fakeClock();
  const rate = new Rate(1000, { now: clock.now });
  const ninetyTen = (c: RateComponents) => (c.previousSamples * 0.1 + c.currentSamples * 0.9) / (c.intervalMs / 1000);
  rate.observe('1', 3);
  rate.observe('1', 2);
  close(rate.rateWith('1', ninetyTen), 5 * 0.9);
  clock.ms = 1000;
  assert.is(rate.observe('1', 4), 4);
  close(rate.rateWith('1', ninetyTen), 5 * 0.1 + 4 * 0.9);
  clock.ms = 2000;
  close(rate.rateWith('1', ninetyTen), 4 * 0.1);
  clock.ms = 3000;
  close(rate.rateWith('1', ninetyTen), 0);
});

components('the proportional sliding window (Pingora test_observe_rate_custom_proportional, exact)', () => {
  const clock = fakeClock();
  const rate = new Rate(1000, { now: clock.now });
  rate.observe('1', 3);
  rate.observe('1', 2);
  close(rate.rateWith('1', proportionalRateEstimate), 5);
  clock.ms = 500;
  close(rate.rateWith('1', proportionalRateEstimate), 5);
  close(rate.rate('1'), 0);
  clock.ms = 1000;
  rate.observe('1', 4);
  close(rate.rateWith('1', proportionalRateEstimate), 9);
  clock.ms = 1750;
  close(rate.rateWith('1', proportionalRateEstimate), 5 * 0.25 + 4);
  clock.ms = 2000;
  close(rate.rateWith('1', proportionalRateEstimate), 4);
  close(rate.rate('1'), 4);
  clock.ms = 2500;
  close(rate.rateWith('1', proportionalRateEstimate), 4 / 2);
  close(rate.rate('1'), 4);
  clock.ms = 3000;
  close(rate.rateWith('1', proportionalRateEstimate), 0);
});

components('a steady stream reads the same rate at every point of the window', () => {
  const clock = fakeClock();
  const rate = new Rate(1000, { now: clock.now });
  // 50 events per second, one every 20 ms, for 5 s.
  for (let t = 0; t < 5000; t += 20) {
    clock.ms = t;
    rate.observe('steady');
    if (t >= 1000) {
      const estimate = rate.rateWith('steady', proportionalRateEstimate);
      assert.ok(Math.abs(estimate - 50) <= 1, `at ${t} ms the estimate is ${estimate}`);
    }
  }
});

components('proportionalRateEstimate alone', () => {
  close(proportionalRateEstimate({ previousSamples: 10, currentSamples: 4, intervalMs: 2000, currentIntervalFraction: 0.5 }), 4.5);
});

const invalid = suite('Rate errors');

invalid('bad intervals, clocks and sizes have codes', () => {
  assertCode(() => new Rate(0), 'ERR_LIMITS_INVALID_INTERVAL');
  assertCode(() => new Rate(-5), 'ERR_LIMITS_INVALID_INTERVAL');
  assertCode(() => new Rate(Number.POSITIVE_INFINITY), 'ERR_LIMITS_INVALID_INTERVAL');
  assertCode(() => new Rate('1000' as unknown as number), 'ERR_LIMITS_INVALID_INTERVAL');
  assertCode(() => new Rate(1000, { now: 5 as unknown as () => number }), 'ERR_LIMITS_INVALID_CLOCK');
  assertCode(() => new Rate(1000, { slots: 0 }), 'ERR_LIMITS_INVALID_SIZE');
  const rate = new Rate(1000);
  assertCode(() => rate.observe(1 as unknown as string), 'ERR_LIMITS_INVALID_KEY');
  assertCode(() => rate.observe('k', 0.5), 'ERR_LIMITS_INVALID_COUNT');
});

observing.run();
components.run();
invalid.run();
