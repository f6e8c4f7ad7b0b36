import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundService } from '@sluice/core';
import { Backend, Consistent, FnvHash, LbError, LoadBalancer, RoundRobin, Static, TcpHealthCheck, type HealthCheck } from '../src/index.js';
import { delay, tcpServer, waitFor, within, type TestServer } from './helpers/servers.js';

const four = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'];

const select = suite('select and selectWith');

select('fromAddresses is ready at once; round robin walks the sorted set', () => {
  const lb = LoadBalancer.fromAddresses(RoundRobin, ['10.0.0.3:80', '10.0.0.1:80', '10.0.0.2:80', '10.0.0.4:80']);
  assert.equal(Array.from({ length: 8 }, () => lb.select('')!.addr), [...four, ...four]);
});

select('unready backends are skipped in the fixed fallback order (round robin: the next in the table)', () => {
  const lb = LoadBalancer.fromAddresses(RoundRobin, four);
  lb.backends.setEnabled('10.0.0.2:80#1', false);
  assert.equal(Array.from({ length: 4 }, () => lb.select('')!.addr), ['10.0.0.1:80', '10.0.0.3:80', '10.0.0.3:80', '10.0.0.4:80']);
  lb.backends.setEnabled('10.0.0.2:80#1', true);
  assert.equal(Array.from({ length: 4 }, () => lb.select('')!.addr), four);
});

select('consistent: a key whose backend is drained goes to the ring successor, and comes back', () => {
  const lb = LoadBalancer.fromAddresses(Consistent, four);
  const keys = Array.from({ length: 200 }, (_, i) => `/k/${i}`);
  const home = new Map(keys.map((k) => [k, lb.select(k)!.addr]));
  const expectedFallback = new Map(keys.map((k) => {
    const it = lb.selection.iter(k);
    it.next();
    return [k, it.next()!.addr];
  }));
  lb.backends.setEnabled('10.0.0.1:80#1', false);
  for (const k of keys) {
    const got = lb.select(k)!.addr;
    if (home.get(k) === '10.0.0.1:80') assert.is(got, expectedFallback.get(k), k);
    else assert.is(got, home.get(k), k);
  }
  lb.backends.setEnabled('10.0.0.1:80#1', true);
  for (const k of keys) assert.is(lb.select(k)!.addr, home.get(k));
});

select('maxIterations bounds the candidates looked at', () => {
  const lb = LoadBalancer.fromAddresses(FnvHash, four);
  const key = 'some-key';
  const order: string[] = [];
  lb.selectWith(key, 10, (b) => (order.push(b.addr), false));
  assert.is(order.length, 4, 'each backend once, then nothing');
  for (const a of order.slice(0, 3)) lb.backends.setEnabled(a, false);
  assert.is(lb.select(key, 3), undefined, 'the only ready backend is the 4th candidate');
  assert.is(lb.select(key, 4)!.addr, order[3]);
  assert.is(lb.select(key, 0), undefined);
});

select('selectWith skips backends already tried; the accept callback sees readiness', () => {
  const lb = LoadBalancer.fromAddresses(FnvHash, four);
  const tried = new Set<string>();
  const picks: string[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const b = lb.selectWith('req-1', 16, (c, ready) => ready && !tried.has(c.addr))!;
    tried.add(b.addr);
    picks.push(b.addr);
  }
  assert.equal([...picks].sort(), four, 'four attempts reach four different backends');
  assert.is(lb.selectWith('req-1', 16, (c) => !tried.has(c.addr)), undefined);
  lb.backends.setEnabled(picks[0], false);
  const seen: [string, boolean][] = [];
  lb.selectWith('req-1', 16, (c, ready) => (seen.push([c.addr, ready]), false));
  assert.equal(seen[0], [picks[0], false]);
});

select('no backends, or none ready: undefined', () => {
  assert.is(LoadBalancer.fromAddresses(RoundRobin, []).select('k'), undefined);
  const lb = LoadBalancer.fromAddresses(RoundRobin, ['10.0.0.1:80']);
  lb.backends.setEnabled('10.0.0.1:80#1', false);
  assert.is(lb.select('k'), undefined);
});

select('bad options throw ERR_LB_INVALID_OPTION', () => {
  for (const bad of [{ healthCheckFrequencyMs: 0 }, { updateFrequencyMs: 1.5 }]) {
    try {
      new LoadBalancer({ selection: RoundRobin, discovery: new Static([]), ...bad });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, LbError);
      assert.is((e as LbError).code, 'ERR_LB_INVALID_OPTION');
    }
  }
});

const updates = suite('backend set updates');

updates('the selection is rebuilt only when the set changes; health survives for backends that stay', async () => {
  const discovery = new Static(four.map((a) => new Backend(a)));
  let builds = 0;
  const lb = new LoadBalancer({
    selection: { build: (b: readonly Backend[]) => (builds++, RoundRobin.build(b)) },
    discovery,
  });
  assert.is(builds, 1, 'an empty selection at construction');
  assert.is(await lb.update(), true);
  const first = lb.selection;
  assert.is(builds, 2);
  assert.is(await lb.update(), false);
  discovery.set([...four].reverse().map((a) => new Backend(a, 1, new Map([['new', true]]))));
  assert.is(await lb.update(), false, 'same addresses and weights in another order and with other ext: same set');
  assert.is(lb.selection, first);
  assert.is(builds, 2);
  lb.backends.setEnabled('10.0.0.1:80#1', false);
  discovery.set([...four, '10.0.0.5:80'].map((a) => new Backend(a)));
  assert.is(await lb.update(), true);
  assert.is(builds, 3);
  assert.is.not(lb.selection, first);
  assert.is(lb.backends.items.length, 5);
  assert.not.ok(lb.backends.ready(new Backend('10.0.0.1:80')), 'drained backend stays drained');
  discovery.set([new Backend('10.0.0.1:80', 2)]);
  await lb.update();
  assert.ok(lb.backends.ready(lb.backends.items[0]), 'a new weight is a new backend, starting afresh');
});

updates('a discovery that returns garbage is rejected with ERR_LB_INVALID_DISCOVERY', async () => {
  const lb = new LoadBalancer({ selection: RoundRobin, discovery: { discover: () => [{ addr: '10.0.0.1:80', weight: 1 }] as unknown as Backend[] } });
  try {
    await lb.update();
    assert.unreachable();
  } catch (e) {
    assert.is((e as LbError).code, 'ERR_LB_INVALID_DISCOVERY');
  }
});

const service = suite('LoadBalancer as a background service, real servers dying and coming back');
const servers: TestServer[] = [];
service.after.each(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

service('traffic leaves a dead backend after consecutiveFailure checks and returns after consecutiveSuccess', async () => {
  for (let i = 0; i < 3; i++) servers.push(await tcpServer());
  const changes: string[] = [];
  const healthCheck = new TcpHealthCheck({
    connectionTimeoutMs: 500,
    consecutiveFailure: 2,
    consecutiveSuccess: 2,
    onHealthChange: (b, healthy) => void changes.push(`${b.addr} ${healthy ? 'up' : 'down'}`),
  });
  const lb = new LoadBalancer({
    selection: RoundRobin,
    discovery: new Static(servers.map((s) => s.backend())),
    healthCheck,
    healthCheckFrequencyMs: 10_000, // rounds are driven by hand below, to count them
  });
  await lb.update();
  const victim = servers[1];
  const spread = () => new Set(Array.from({ length: 30 }, () => lb.select('')!.addr));
  assert.equal(spread().size, 3, 'all three serve');

  await victim.stop();
  await lb.runHealthCheck();
  assert.ok(spread().has(victim.addr), 'one failure is below the threshold of 2');
  await lb.runHealthCheck();
  assert.not.ok(spread().has(victim.addr), 'after 2 failures no traffic goes to it');
  assert.equal(spread().size, 2);
  assert.equal(changes, [`${victim.addr} down`]);

  await victim.start();
  await lb.runHealthCheck();
  assert.not.ok(spread().has(victim.addr), 'one success is below the threshold of 2');
  await lb.runHealthCheck();
  assert.ok(spread().has(victim.addr), 'after 2 successes traffic returns');
  assert.equal(changes, [`${victim.addr} down`, `${victim.addr} up`]);
});

service('run as a core BackgroundService: ready after the first update, periodic checks move traffic, stops on shutdown', async () => {
  for (let i = 0; i < 3; i++) servers.push(await tcpServer());
  let rounds = 0;
  const tcp = new TcpHealthCheck({ connectionTimeoutMs: 500 });
  const counting: HealthCheck = { consecutiveSuccess: 1, consecutiveFailure: 1, check: (b) => (rounds++, tcp.check(b)) };
  const lb = new LoadBalancer({ selection: RoundRobin, discovery: new Static(servers.map((s) => s.backend())), healthCheck: counting, healthCheckFrequencyMs: 50, parallelHealthCheck: true });
  const svc = lb.asService('upstreams');
  assert.instance(svc, BackgroundService);
  assert.not.ok(svc.readiness.isReady);
  const shutdown = new AbortController();
  const running = svc.start(shutdown.signal);
  await within(svc.readiness.ready, 5000, 'readiness');
  assert.ok(rounds >= 3, 'the first health check round ran before readiness');
  assert.is(lb.backends.items.length, 3);

  const victim = servers[2];
  await victim.stop();
  await waitFor(() => !new Set(Array.from({ length: 30 }, () => lb.select('')!.addr)).has(victim.addr), 5000, 'traffic to leave the dead backend');
  await victim.start();
  await waitFor(() => new Set(Array.from({ length: 30 }, () => lb.select('')!.addr)).has(victim.addr), 5000, 'traffic to return');

  shutdown.abort();
  await within(running, 5000, 'stopping');
  const after = rounds;
  await delay(150);
  assert.is(rounds, after, 'no checks after shutdown');
});

service('a failing discovery is reported and retried; readiness waits for the first success', async () => {
  let calls = 0;
  const errors: unknown[] = [];
  const lb = new LoadBalancer({
    selection: RoundRobin,
    discovery: { discover: () => (++calls < 3 ? Promise.reject(new Error(`down ${calls}`)) : [new Backend('10.0.0.1:80')]) },
    updateFrequencyMs: 30,
    onError: (e) => errors.push(e),
  });
  const shutdown = new AbortController();
  let ready = false;
  const running = lb.start(shutdown.signal, () => (ready = true));
  await waitFor(() => ready, 5000, 'readiness');
  assert.is(calls, 3);
  assert.equal(errors.map((e) => (e as Error).message), ['down 1', 'down 2']);
  assert.is(lb.select('')!.addr, '10.0.0.1:80');
  shutdown.abort();
  await within(running, 5000, 'stopping');
});

select.run();
updates.run();
service.run();
