import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LimitsError, TimeoutError, coarseNow, sleep, timeout } from '../src/index.js';

// Fast timers are unref'd; this ref'd timer keeps the process alive while the tests await them.
const keepAlive = setInterval(() => undefined, 1000);

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value));
}

function laterReject(ms: number, error: Error): Promise<never> {
  return new Promise((_, reject) => setTimeout(reject, ms, error));
}

const settling = suite('timeout');

settling('passes the value through when the promise wins', async () => {
  assert.is(await timeout(1000, later(5, 'value')), 'value');
  assert.is(await timeout(1000, Promise.resolve(42)), 42);
});

settling('passes the rejection through when the promise loses', async () => {
  const failure = new Error('upstream failed');
  try {
    await timeout(1000, laterReject(5, failure));
    assert.unreachable('should reject');
  } catch (error) {
    assert.is(error, failure);
  }
});

settling('rejects with a typed TimeoutError when the deadline passes first', async () => {
  const started = coarseNow();
  try {
    await timeout(30, new Promise(() => undefined));
    assert.unreachable('should time out');
  } catch (error) {
    assert.instance(error, TimeoutError);
    assert.instance(error, LimitsError);
    assert.is((error as TimeoutError).code, 'ERR_LIMITS_TIMEOUT');
    assert.is((error as TimeoutError).timeoutMs, 30);
    assert.match((error as Error).message, /timeout of 30 ms elapsed/);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 30, `timed out after ${elapsed} ms`);
  }
});

settling('a late result or rejection of the wrapped promise is ignored, never unhandled', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const lateFailure = laterReject(60, new Error('late failure'));
    const lateValue = later(60, 'late value');
    const results = await Promise.allSettled([timeout(10, lateFailure), timeout(10, lateValue)]);
    for (const result of results) {
      assert.is(result.status, 'rejected');
      assert.instance((result as PromiseRejectedResult).reason, TimeoutError);
    }
    await later(120, undefined);
    assert.equal(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

settling('a plain value or a thenable works as the promise', async () => {
  assert.is(await timeout(10, 'plain'), 'plain');
  const thenable = { then: (resolve: (value: number) => void) => void setTimeout(resolve, 5, 7) } as unknown as PromiseLike<number>;
  assert.is(await timeout(1000, thenable), 7);
});

settling('many concurrent timeouts settle independently', async () => {
  const outcomes = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) => timeout(40, i % 2 ? later(5, i) : new Promise<number>(() => undefined))),
  );
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i];
    if (i % 2) assert.equal(outcome, { status: 'fulfilled', value: i });
    else assert.instance((outcome as PromiseRejectedResult).reason, TimeoutError);
  }
});

settling('a bad delay throws synchronously', () => {
  for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    try {
      void timeout(ms, Promise.resolve(1));
      assert.unreachable('should throw');
    } catch (error) {
      assert.is((error as LimitsError).code, 'ERR_LIMITS_INVALID_DELAY');
    }
  }
});

const sleeping = suite('sleep');

sleeping('resolves after at least the delay, rounded up to the tick', async () => {
  const started = coarseNow();
  const value = await sleep(25);
  assert.is(value, undefined);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 25, `slept ${elapsed} ms`);
  assert.ok(performance.now() >= Math.ceil((started + 25) / 10) * 10);
});

sleeping('a bad delay throws synchronously', () => {
  try {
    void sleep(-5);
    assert.unreachable('should throw');
  } catch (error) {
    assert.is((error as LimitsError).code, 'ERR_LIMITS_INVALID_DELAY');
  }
});

sleeping.after(() => clearInterval(keepAlive));

settling.run();
sleeping.run();
