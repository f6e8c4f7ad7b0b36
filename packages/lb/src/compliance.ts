// Compliance suites for the seams users implement: each registers uvu tests against any
// implementation. Import from '@sluice/lb/compliance' (needs uvu), then call `.run()` on the result.
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePeerAddress } from '@sluice/core';
import { Backend } from './backend.js';
import { Backends } from './backends.js';
import type { ServiceDiscovery } from './discovery.js';
import type { HealthCheck } from './health.js';
import { LoadBalancer } from './load-balancer.js';
import { RoundRobin } from './weighted.js';

/** Rejects when `promise` takes longer than `ms`. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** What {@link serviceDiscoveryCompliance} needs. */
export interface ServiceDiscoveryComplianceOptions {
  /** Makes the discovery under test; called once per test. */
  create(): ServiceDiscovery | Promise<ServiceDiscovery>;
  /** The addresses `discover()` must find now, in any order. */
  expected(): readonly string[] | Promise<readonly string[]>;
  /** Bound on one `discover()`. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Registers the tests every {@link ServiceDiscovery} must pass: the result is an array of valid,
 * distinct `Backend`s naming exactly the expected addresses; calls agree and do not share mutable
 * state; a load balancer fed by it selects among them.
 */
export function serviceDiscoveryCompliance(name: string, options: ServiceDiscoveryComplianceOptions): Test {
  const test = suite(`ServiceDiscovery compliance: ${name}`);
  const timeoutMs = options.timeoutMs ?? 5000;
  const discover = async (d: ServiceDiscovery) => bounded(Promise.resolve(d.discover()), timeoutMs, 'discover()');

  test('discover() gives an array of Backend with valid addresses and weights', async () => {
    const found = await discover(await options.create());
    assert.ok(Array.isArray(found), 'an array');
    for (const b of found) {
      assert.instance(b, Backend);
      assert.not.throws(() => parsePeerAddress(b.addr), `address ${b.addr} parses`);
      assert.ok(Number.isInteger(b.weight) && b.weight >= 1, `weight of ${b.addr} is a positive integer`);
      assert.instance(b.ext, Map);
    }
  });

  test('discover() finds exactly the expected addresses, each once', async () => {
    const found = await discover(await options.create());
    const addrs = found.map((b) => b.addr).sort();
    assert.equal(addrs, [...(await options.expected())].sort());
    assert.is(new Set(found.map((b) => b.id)).size, found.length, 'no backend twice');
  });

  test('repeated and concurrent discover() calls agree', async () => {
    const d = await options.create();
    const ids = (list: readonly Backend[]) => list.map((b) => b.id).sort();
    const first = ids(await discover(d));
    const [a, b] = await Promise.all([discover(d), discover(d)]);
    assert.equal(ids(a), first);
    assert.equal(ids(b), first);
  });

  test('changing a returned array does not change the next result', async () => {
    const d = await options.create();
    const first = (await discover(d)) as Backend[];
    const before = first.map((b) => b.id).sort();
    first.length = 0;
    assert.equal((await discover(d)).map((b) => b.id).sort(), before);
  });

  test('a load balancer fed by it selects only discovered backends', async () => {
    const d = await options.create();
    const backends = new Backends(d);
    await bounded(backends.update(), timeoutMs, 'Backends.update()');
    const expected = new Set(await options.expected());
    assert.equal(new Set(backends.items.map((b) => b.addr)), expected);
    const lb = new LoadBalancer({ selection: RoundRobin, discovery: d });
    await bounded(lb.update(), timeoutMs, 'LoadBalancer.update()');
    const seen = new Set<string>();
    for (let i = 0; i < expected.size * 4; i++) {
      const b = lb.select('');
      if (b) seen.add(b.addr);
    }
    assert.equal(seen, expected, 'round robin reaches every discovered backend and nothing else');
  });

  return test;
}

/** A backend the compliance suite checks and the means to stop it. */
export interface HealthCheckTarget {
  backend: Backend;
  /** Stops the target (the server behind it); a healthy target must then check unhealthy. */
  close(): Promise<void>;
}

/** What {@link healthCheckCompliance} needs. */
export interface HealthCheckComplianceOptions {
  /** Makes the check under test; called once per test. */
  create(): HealthCheck;
  /** Starts a target the check must find healthy. */
  healthy(): Promise<HealthCheckTarget>;
  /** Starts a target the check must find unhealthy (a server answering wrongly, say). */
  unhealthy(): Promise<HealthCheckTarget>;
  /** Bound on one check. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Registers the tests every {@link HealthCheck} must pass: valid thresholds; resolves for a healthy
 * target, rejects with an Error for an unhealthy one and for one that died; concurrent checks do not
 * mix up; wired into `Backends`, health flips after exactly the thresholds and comes back.
 */
export function healthCheckCompliance(name: string, options: HealthCheckComplianceOptions): Test {
  const test = suite(`HealthCheck compliance: ${name}`);
  const timeoutMs = options.timeoutMs ?? 5000;
  const check = (c: HealthCheck, b: Backend) => bounded(c.check(b), timeoutMs, `check(${b.addr})`);
  const outcome = (c: HealthCheck, b: Backend) =>
    check(c, b).then(
      () => 'healthy',
      (e: unknown) => {
        assert.instance(e, Error, 'rejects with an Error');
        if (/did not settle/.test((e as Error).message)) throw e;
        return 'unhealthy';
      },
    );
  const targets: HealthCheckTarget[] = [];
  const start = async (kind: 'healthy' | 'unhealthy') => {
    const t = await options[kind]();
    targets.push(t);
    return t;
  };
  test.after.each(async () => {
    await Promise.all(targets.splice(0).map((t) => t.close().catch(() => {})));
  });

  test('thresholds are positive integers', () => {
    const c = options.create();
    assert.ok(Number.isInteger(c.consecutiveSuccess) && c.consecutiveSuccess >= 1, 'consecutiveSuccess');
    assert.ok(Number.isInteger(c.consecutiveFailure) && c.consecutiveFailure >= 1, 'consecutiveFailure');
  });

  test('a healthy target checks healthy', async () => {
    const t = await start('healthy');
    assert.is(await outcome(options.create(), t.backend), 'healthy');
  });

  test('an unhealthy target checks unhealthy', async () => {
    const t = await start('unhealthy');
    assert.is(await outcome(options.create(), t.backend), 'unhealthy');
  });

  test('a target that dies checks unhealthy', async () => {
    const t = await start('healthy');
    const c = options.create();
    assert.is(await outcome(c, t.backend), 'healthy');
    await t.close();
    assert.is(await outcome(c, t.backend), 'unhealthy');
  });

  test('concurrent checks of several targets each get their own answer', async () => {
    const list = [await start('healthy'), await start('unhealthy'), await start('healthy'), await start('unhealthy')];
    const c = options.create();
    const got = await Promise.all(list.map((t) => outcome(c, t.backend)));
    assert.equal(got, ['healthy', 'unhealthy', 'healthy', 'unhealthy']);
  });

  test('in Backends, health flips after exactly the thresholds and comes back', async () => {
    const good = await start('healthy');
    const bad = await start('unhealthy');
    const c = options.create();
    // The same backend identity points first at a healthy server, then at an unhealthy one.
    let current = good.backend;
    const proxy: HealthCheck = {
      consecutiveSuccess: c.consecutiveSuccess,
      consecutiveFailure: c.consecutiveFailure,
      check: () => c.check(current),
    };
    const id = new Backend('127.0.0.1:1');
    const backends = new Backends({ discover: () => [id] }, { healthCheck: proxy });
    await backends.update();
    assert.ok(backends.ready(id), 'starts healthy');
    current = bad.backend;
    for (let i = 1; i <= c.consecutiveFailure; i++) {
      assert.ok(backends.ready(id), `still healthy before failure ${i}`);
      await bounded(backends.runHealthCheck(), timeoutMs, 'runHealthCheck()');
    }
    assert.not.ok(backends.ready(id), `unhealthy after ${c.consecutiveFailure} failures`);
    current = good.backend;
    for (let i = 1; i <= c.consecutiveSuccess; i++) {
      assert.not.ok(backends.ready(id), `still unhealthy before success ${i}`);
      await bounded(backends.runHealthCheck(), timeoutMs, 'runHealthCheck()');
    }
    assert.ok(backends.ready(id), `healthy after ${c.consecutiveSuccess} successes`);
  });

  return test;
}
