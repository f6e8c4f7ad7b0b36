import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  COARSE_CLOCK_RESOLUTION_MS,
  LimitsError,
  TimerManager,
  clearFastTimeout,
  coarseNow,
  defaultTimerManager,
  setFastTimeout,
  type FastTimer,
} from '../src/index.js';
import { MAX_TIMER_SLOTS, TimerSlab } from '../src/timer-slab.js';

// Fast timers are unref'd: a ref'd guard timer keeps this process alive while a test waits, and
// bounds the wait so a broken timer fails the test instead of hanging it.
function within<T>(ms: number, what: string, run: (done: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const bound = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    run((value) => {
      clearTimeout(bound);
      resolve(value);
    });
  });
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

const firing = suite('fast timers fire');

firing('a timer fires once, no earlier than asked, at a tick boundary, with its argument', async () => {
  const start = coarseNow();
  const fired = await within<{ at: number; arg: string; calls: number }>(2000, 'timer', (done) => {
    let calls = 0;
    setFastTimeout(
      (arg) => {
        calls++;
        setTimeout(() => done({ at: performance.now(), arg, calls }), 50);
      },
      35,
      'payload',
    );
  });
  assert.is(fired.arg, 'payload');
  assert.is(fired.calls, 1);
  const deadline = Math.ceil((start + 35) / 10) * 10;
  assert.ok(fired.at >= deadline, `fired at ${fired.at}, before the rounded deadline ${deadline}`);
});

firing('a timer of 0 ms fires on the next tick', async () => {
  await within(1000, 'zero timer', (done) => setFastTimeout(done, 0));
});

firing('timers due in the same tick share one bucket and fire in the same run, in order', async () => {
  const manager = new TimerManager({ tickMs: 50 });
  const order: number[] = [];
  // A run of JavaScript ends when the microtask queue drains: count the runs the callbacks came in.
  let runs = 0;
  let inRun = false;
  await within(2000, 'bucket', (done) => {
    // 0..49 ms from one instant spans at most two multiples of 50 ms.
    for (let ms = 0; ms < 50; ms++) {
      manager.setTimeout(
        (n) => {
          order.push(n);
          if (!inRun) {
            runs++;
            inRun = true;
            queueMicrotask(() => (inRun = false));
          }
          if (order.length === 50) done(undefined);
        },
        ms,
        ms,
      );
    }
    assert.ok(manager.bucketCount <= 2, `${manager.bucketCount} buckets for one 50 ms tick span`);
    assert.is(manager.pendingCount(), 50);
  });
  assert.equal(order, [...order].sort((x, y) => x - y));
  assert.ok(runs >= 1 && runs <= 2, `callbacks ran in ${runs} separate runs`);
  assert.is(manager.bucketCount, 0, 'a fired bucket is closed');
});

firing('1000 timers with the same delay make one Node timer', () => {
  const manager = new TimerManager();
  const timers: FastTimer[] = [];
  for (let i = 0; i < 1000; i++) timers.push(manager.setTimeout(() => assert.unreachable('cleared timer fired'), 5000));
  assert.is(manager.bucketCount, 1);
  assert.is(manager.pendingCount(), 1000);
  for (const timer of timers) manager.clearTimeout(timer);
  assert.is(manager.pendingCount(), 0);
});

firing('a timer set from a callback goes to a new bucket and fires too', async () => {
  const manager = new TimerManager({ tickMs: 5 });
  const fired = await within<string[]>(2000, 'nested', (done) => {
    const seen: string[] = [];
    manager.setTimeout(() => {
      seen.push('outer');
      manager.setTimeout(() => {
        seen.push('inner');
        done(seen);
      }, 0);
    }, 5);
  });
  assert.equal(fired, ['outer', 'inner']);
});

firing('a throwing callback surfaces as uncaught and the rest of its bucket still fires', async () => {
  const caught: unknown[] = [];
  const onUncaught = (error: unknown) => caught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const boom = new Error('boom');
    await within(2000, 'after throw', (done) => {
      setFastTimeout(() => {
        throw boom;
      }, 20);
      setFastTimeout(done, 20);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(caught, [boom]);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});

const clearing = suite('fast timers clear');

clearing('a cleared timer never fires; clearing twice, after firing or with nothing is harmless', async () => {
  let cleared = 0;
  const timer = setFastTimeout(() => cleared++, 10);
  assert.is(defaultTimerManager.isPending(timer), true);
  clearFastTimeout(timer);
  assert.is(defaultTimerManager.isPending(timer), false);
  clearFastTimeout(timer);
  clearFastTimeout(undefined);
  clearFastTimeout(null);
  const fired = setFastTimeout(() => undefined, 10);
  await within(1000, 'later timer', (done) => setFastTimeout(done, 40));
  assert.is(cleared, 0);
  assert.is(defaultTimerManager.isPending(fired), false);
  clearFastTimeout(fired);
});

clearing('clearing one timer leaves its neighbours in the bucket', async () => {
  const manager = new TimerManager({ tickMs: 20 });
  const seen: number[] = [];
  await within(2000, 'neighbours', (done) => {
    const timers = [0, 1, 2, 3, 4].map((n) => manager.setTimeout((x) => {
      seen.push(x);
      if (x === 4) done(undefined);
    }, 20, n));
    manager.clearTimeout(timers[0]);
    manager.clearTimeout(timers[2]);
    manager.clearTimeout(timers[3]);
  });
  assert.equal(seen, [1, 4]);
});

clearing('a stale handle does not clear the timer that reused its slot', async () => {
  const first = setFastTimeout(() => assert.unreachable('cleared timer fired'), 10);
  clearFastTimeout(first);
  // The slot freed last is taken first: `second` lives where `first` did, one generation on.
  const fired = await within<boolean>(1000, 'timer in a reused slot', (done) => {
    const second = setFastTimeout(done, 10, true);
    assert.is.not(second, first);
    clearFastTimeout(first);
    assert.is(defaultTimerManager.isPending(first), false);
    assert.is(defaultTimerManager.isPending(second), true);
  });
  assert.is(fired, true);
});

clearing('a callback may clear a later timer of its own bucket, itself, or a timer elsewhere', async () => {
  const manager = new TimerManager({ tickMs: 20 });
  const seen: string[] = [];
  await within(2000, 'clears in callbacks', (done) => {
    let later: FastTimer;
    let elsewhere: FastTimer;
    const first: FastTimer = manager.setTimeout(() => {
      seen.push('first');
      manager.clearTimeout(first); // already fired: a no-op
      manager.clearTimeout(later);
      manager.clearTimeout(elsewhere);
    }, 20);
    later = manager.setTimeout(() => seen.push('later'), 20);
    manager.setTimeout(() => seen.push('last'), 20);
    elsewhere = manager.setTimeout(() => seen.push('elsewhere'), 200);
    manager.setTimeout(() => done(undefined), 300);
  });
  assert.equal(seen, ['first', 'last']);
  assert.is(manager.pendingCount(), 0);
});

clearing('a callback that re-arms itself reuses its slot, and its old handle clears nothing', async () => {
  const rounds = await within<number>(2000, 're-arming chain', (done) => {
    let handle: FastTimer;
    const step = (round: number): void => {
      if (round === 5) return done(round);
      const old = handle;
      handle = setFastTimeout(step, 0, round + 1);
      // `old` fired just now; its slot is the one `handle` was just given.
      clearFastTimeout(old);
    };
    handle = setFastTimeout(step, 0, 1);
  });
  assert.is(rounds, 5);
});

clearing('order within a tick is the order timers were set, whatever slots they reuse', async () => {
  const manager = new TimerManager({ tickMs: 50 });
  const seen: number[] = [];
  await within(2000, 'ordered bucket', (done) => {
    // Free a few slots first, so the next timers take them in reverse order of their numbers.
    const spare = [0, 1, 2, 3].map(() => manager.setTimeout(() => assert.unreachable('cleared timer fired'), 5000));
    for (const timer of spare) manager.clearTimeout(timer);
    for (let n = 0; n < 8; n++) manager.setTimeout((x) => seen.push(x), 100, n);
    manager.setTimeout(() => done(undefined), 100);
  });
  assert.equal(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
});

clearing('a callback that grows the slab leaves the rest of its bucket intact', async () => {
  const manager = new TimerManager({ tickMs: 20 });
  const seen: string[] = [];
  const extra: FastTimer[] = [];
  await within(2000, 'growth in a callback', (done) => {
    manager.setTimeout(() => {
      seen.push('grower');
      for (let n = 0; n < 300_000; n++) extra.push(manager.setTimeout(() => undefined, 60_000));
    }, 20);
    manager.setTimeout(() => seen.push('second'), 20);
    manager.setTimeout(() => done(undefined), 20);
  });
  assert.equal(seen, ['grower', 'second']);
  for (const timer of extra) manager.clearTimeout(timer);
  assert.is(manager.pendingCount(), 0);
});

clearing('1M pending timers: set, half cleared, the rest fire once each', async () => {
  const manager = new TimerManager({ tickMs: 20 });
  const count = 1_000_000;
  const timers: FastTimer[] = new Array(count);
  const calls = new Uint8Array(count);
  const onFire = (n: number): void => {
    calls[n]++;
  };
  for (let n = 0; n < count; n++) timers[n] = manager.setTimeout(onFire, 50 + (n % 100), n);
  assert.is(manager.pendingCount(), count);
  assert.ok(manager.bucketCount <= 7, `${manager.bucketCount} buckets for delays within 100 ms`);
  assert.is(new Set(timers).size, count, 'handles are distinct');
  for (let n = 0; n < count; n += 2) manager.clearTimeout(timers[n]);
  assert.is(manager.pendingCount(), count / 2);
  await within(10_000, '1M timers', (done) => {
    const poll = (): void => void (manager.bucketCount === 0 ? done(undefined) : setTimeout(poll, 20));
    poll();
  });
  for (let n = 0; n < count; n++) {
    if (calls[n] !== n % 2) assert.unreachable(`timer ${n} fired ${calls[n]} times`);
  }
});

clearing('a delay beyond what Node timers take is armed in steps, without an overflow warning', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const manager = new TimerManager();
    const timer = manager.setTimeout(() => assert.unreachable('fired decades early'), 2 ** 40);
    assert.is(manager.bucketCount, 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.is(manager.isPending(timer), true);
    manager.clearTimeout(timer);
    assert.equal(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
  }
});

const lifetime = suite('fast timers and the process');

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function runChild(source: string): Promise<{ code: number | null; output: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const bound = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child still running after 20 s: ${output}`));
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(bound);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

lifetime('pending fast timers do not keep the process alive', async () => {
  const result = await runChild(
    `import { setFastTimeout, sleep } from ${JSON.stringify(entry)};
     setFastTimeout(() => console.log('fired'), 60000);
     sleep(60000).then(() => console.log('slept'));`,
  );
  assert.is(result.code, 0);
  assert.is(result.output.trim(), '');
  assert.ok(result.ms < 15_000, `exited after ${result.ms} ms`);
});

lifetime('a manager with unref: false keeps the process alive until its timers fire', async () => {
  const result = await runChild(
    `import { TimerManager } from ${JSON.stringify(entry)};
     new TimerManager({ unref: false }).setTimeout(() => console.log('fired'), 100);`,
  );
  assert.is(result.code, 0);
  assert.is(result.output.trim(), 'fired');
});

const clock = suite('coarse clock');

clock('follows performance.now() within its resolution while the loop runs, never going back', async () => {
  let previous = coarseNow();
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3));
    const coarse = coarseNow();
    const exact = performance.now();
    assert.ok(coarse >= previous, 'went back');
    assert.ok(coarse <= exact, `coarse ${coarse} ahead of performance.now() ${exact}`);
    // A bound on staleness generous enough for a loaded machine; the resolution is 1 ms.
    assert.ok(exact - coarse < 50 + COARSE_CLOCK_RESOLUTION_MS, `coarse clock ${exact - coarse} ms behind`);
    previous = coarse;
  }
});

clock('a synchronous run reads one value', () => {
  coarseNow();
  const first = coarseNow();
  const spinUntil = performance.now() + 5;
  while (performance.now() < spinUntil);
  assert.is(coarseNow(), first);
});

const errors = suite('fast timer errors');

errors('bad callbacks, delays and ticks have codes', () => {
  assertCode(() => setFastTimeout(undefined as unknown as () => void, 10), 'ERR_LIMITS_INVALID_CALLBACK');
  assertCode(() => setFastTimeout(() => undefined, -1), 'ERR_LIMITS_INVALID_DELAY');
  assertCode(() => setFastTimeout(() => undefined, Number.NaN), 'ERR_LIMITS_INVALID_DELAY');
  assertCode(() => setFastTimeout(() => undefined, Number.POSITIVE_INFINITY), 'ERR_LIMITS_INVALID_DELAY');
  assertCode(() => setFastTimeout(() => undefined, '10' as unknown as number), 'ERR_LIMITS_INVALID_DELAY');
  assertCode(() => new TimerManager({ tickMs: 0 }), 'ERR_LIMITS_INVALID_INTERVAL');
  assert.is(defaultTimerManager.tickMs, 10);
});

errors('a full slab throws ERR_LIMITS_TOO_MANY_TIMERS and stays usable (small capacities; the process slab holds 2^24)', () => {
  for (const capacity of [8, 1500]) {
    const slab = new TimerSlab(capacity);
    const noop = () => undefined;
    const slots: number[] = [];
    for (let i = 0; i < capacity; i++) slots.push(slab.take(noop, i));
    assert.is(new Set(slots).size, capacity, 'every slot distinct');
    const handles = slots.map((slot) => slab.handleOf(slot));
    assertCode(() => slab.take(noop, 'one too many'), 'ERR_LIMITS_TOO_MANY_TIMERS');
    assert.is(slab.handles.length, capacity, 'grown to the capacity, not past it');
    // The failed take changed nothing: every timer is still pending, and a freed slot is taken again.
    handles.forEach((handle, i) => assert.is(slab.slotOf(handle), slots[i]));
    assert.is(slab.argOf(slots[3]), 3);
    slab.release(slots[3]);
    assert.is(slab.slotOf(handles[3]), -1, 'the old handle no longer matches');
    assert.is(slab.take(noop, 'again'), slots[3]);
    assertCode(() => slab.take(noop, 'still full'), 'ERR_LIMITS_TOO_MANY_TIMERS');
  }
  assertCode(() => new TimerSlab(0), 'ERR_LIMITS_INVALID_SIZE');
  assertCode(() => new TimerSlab(MAX_TIMER_SLOTS + 1), 'ERR_LIMITS_INVALID_SIZE');
  assertCode(() => new TimerSlab(1.5), 'ERR_LIMITS_INVALID_SIZE');
  assert.is(new TimerSlab().maxSlots, MAX_TIMER_SLOTS, 'the default is what a handle can address');
});

firing.run();
clearing.run();
lifetime.run();
clock.run();
errors.run();
