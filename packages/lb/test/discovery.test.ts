import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { serviceDiscoveryCompliance } from '../src/compliance.js';
import { Backend, DnsDiscovery, LbError, LoadBalancer, RoundRobin, Static, TcpHealthCheck, type ServiceDiscovery } from '../src/index.js';
import { TestDnsServer } from './helpers/dns-server.js';
import { delay, tcpServer, waitFor, within, type TestServer } from './helpers/servers.js';

const fixed = ['10.0.0.1:80', '[2001:db8::1]:443', 'unix:/run/app.sock'];

serviceDiscoveryCompliance('Static', {
  create: () => new Static(fixed.map((a) => new Backend(a))),
  expected: () => fixed,
}).run();

// The user-supplied kind: any object with discover(), here an async one reading a "registry".
const registry = new Map([['10.1.0.1:8080', 1], ['10.1.0.2:8080', 3]]);
serviceDiscoveryCompliance('user-supplied discover()', {
  create: (): ServiceDiscovery => ({
    discover: async () => {
      await delay(1);
      return [...registry].map(([addr, weight]) => new Backend(addr, weight));
    },
  }),
  expected: () => [...registry.keys()],
}).run();

const dnsServer = new TestDnsServer();
dnsServer.zone.set('api.test', { a: ['127.0.0.2', '127.0.0.3'], aaaa: ['::1'] });
dnsServer.zone.set('db.test', { a: ['127.0.0.9'] });
const dnsCompliance = serviceDiscoveryCompliance('DnsDiscovery', {
  create: () => new DnsDiscovery([{ host: 'api.test', port: 8080 }, { host: 'db.test', port: 5432, weight: 2 }], { servers: [dnsServer.address], family: 0, timeoutMs: 500 }),
  expected: () => ['127.0.0.2:8080', '127.0.0.3:8080', '[::1]:8080', '127.0.0.9:5432'],
});
dnsCompliance.before(async () => {
  await dnsServer.start();
});
dnsCompliance.after(async () => {
  await dnsServer.close();
});
dnsCompliance.run();

const dns = suite('DnsDiscovery against a DNS server on loopback whose records change');
const server = new TestDnsServer();
const backends: TestServer[] = [];
dns.before(async () => {
  await server.start();
});
dns.before.each(() => {
  server.zone.clear();
  server.failing = false;
});
dns.after.each(async () => {
  await Promise.all(backends.splice(0).map((s) => s.stop()));
});
dns.after(async () => {
  await server.close();
});
const discovery = (targets: { host: string; port: number; weight?: number }[], more: ConstructorParameters<typeof DnsDiscovery>[1] = {}) =>
  new DnsDiscovery(targets, { servers: [server.address], timeoutMs: 300, tries: 1, ...more });

dns('resolved addresses become backends with the target port and weight and ext host', async () => {
  server.zone.set('web.test', { a: ['127.0.0.3', '127.0.0.2'], aaaa: ['::1'] });
  const found = await discovery([{ host: 'web.test', port: 81, weight: 4 }]).discover();
  assert.equal(found.map((b) => b.id), ['127.0.0.2:81#4', '127.0.0.3:81#4']);
  assert.is(found[0].ext.get('host'), 'web.test');
  assert.equal((await discovery([{ host: 'web.test', port: 81 }], { family: 6 }).discover()).map((b) => b.addr), ['[::1]:81']);
  assert.equal((await discovery([{ host: '127.0.0.7', port: 1 }]).discover()).map((b) => b.addr), ['127.0.0.7:1'], 'IP literals need no lookup');
});

dns('a name that disappears (NXDOMAIN) or has no records leaves no backends', async () => {
  server.zone.set('gone.test', { a: ['127.0.0.2'] });
  const d = discovery([{ host: 'gone.test', port: 80 }]);
  assert.is((await d.discover()).length, 1);
  server.zone.set('gone.test', {});
  assert.equal(await d.discover(), []);
  server.zone.delete('gone.test');
  assert.equal(await d.discover(), []);
});

dns('a failing lookup keeps the last known addresses and says so; with nothing known it throws ERR_LB_DNS_FAILURE', async () => {
  server.zone.set('flaky.test', { a: ['127.0.0.2'] });
  const errors: LbError[] = [];
  const d = discovery([{ host: 'flaky.test', port: 80 }], { onError: (e) => errors.push(e) });
  server.failing = true;
  try {
    await d.discover();
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LbError);
    assert.is((e as LbError).code, 'ERR_LB_DNS_FAILURE');
    assert.match((e as Error).message, 'flaky.test');
  }
  server.failing = false;
  assert.equal((await d.discover()).map((b) => b.addr), ['127.0.0.2:80']);
  server.failing = true;
  assert.equal((await d.discover()).map((b) => b.addr), ['127.0.0.2:80'], 'stale beats empty');
  assert.is(errors.length, 1);
  assert.is(errors[0].code, 'ERR_LB_DNS_FAILURE');
  assert.match(errors[0].message, 'keeping its 1 last known');
});

dns('a load balancer service follows record changes; health checks keep dead addresses out', async () => {
  // Backends on two loopback addresses, one port.
  const first = await tcpServer('127.0.0.2');
  backends.push(first, await tcpServer('127.0.0.3', first.port));
  server.zone.set('app.test', { a: ['127.0.0.2'] });
  const lb = new LoadBalancer({
    selection: RoundRobin,
    discovery: discovery([{ host: 'app.test', port: first.port }]),
    healthCheck: new TcpHealthCheck({ connectionTimeoutMs: 300 }),
    updateFrequencyMs: 40,
    healthCheckFrequencyMs: 40,
  });
  const svc = lb.asService('app');
  const shutdown = new AbortController();
  const running = svc.start(shutdown.signal);
  await within(svc.readiness.ready, 5000, 'readiness');
  const picks = () => new Set(Array.from({ length: 20 }, () => lb.select('')?.addr ?? 'none'));
  assert.equal(picks(), new Set([`127.0.0.2:${first.port}`]));

  server.zone.set('app.test', { a: ['127.0.0.2', '127.0.0.3'] });
  await waitFor(() => picks().size === 2, 5000, 'the new record to take traffic');

  // 127.0.0.4 has no server: it is discovered but its health check fails, so it never serves.
  server.zone.set('app.test', { a: ['127.0.0.3', '127.0.0.4'] });
  await waitFor(() => lb.backends.items.some((b) => b.addr.startsWith('127.0.0.4')), 5000, 'the third record');
  await waitFor(() => lb.backends.health(`127.0.0.4:${first.port}#1`)?.healthy === false, 5000, 'the dead address to be marked down');
  assert.equal(picks(), new Set([`127.0.0.3:${first.port}`]));

  server.zone.delete('app.test');
  await waitFor(() => lb.backends.items.length === 0, 5000, 'the removed name to empty the set');
  assert.is(lb.select(''), undefined);
  shutdown.abort();
  await within(running, 5000, 'stopping');
});

dns('bad options throw ERR_LB_INVALID_OPTION', () => {
  const bad: [unknown, unknown][] = [
    [[{ host: '', port: 80 }], {}],
    [[{ host: 'a', port: 70000 }], {}],
    [[{ host: 'a' }], {}],
    [[{ host: 'a', port: 80, weight: 0 }], {}],
    [[{ host: 'a', port: 80 }], { family: 5 }],
    [[{ host: 'a', port: 80 }], { servers: ['not an address'] }],
    [[{ host: 'a', port: 80 }], { timeoutMs: -1 }],
  ];
  for (const [targets, options] of bad) {
    assert.throws(
      () => new DnsDiscovery(targets as never, options as never),
      (e: LbError) => e.code === 'ERR_LB_INVALID_OPTION',
      JSON.stringify([targets, options]),
    );
  }
});

dns.run();
