import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { healthCheckCompliance } from '../src/compliance.js';
import { Backend, Backends, Health, HttpHealthCheck, LbError, TcpHealthCheck } from '../src/index.js';
import { httpServer, silentServer, tcpServer, testCertificate, TestServer, tlsServer } from './helpers/servers.js';

const target = (s: TestServer) => ({ backend: s.backend(), close: () => s.stop() });

healthCheckCompliance('TcpHealthCheck', {
  create: () => new TcpHealthCheck({ connectionTimeoutMs: 500 }),
  healthy: async () => target(await tcpServer()),
  // A port that was bound and released: connections are refused.
  unhealthy: async () => {
    const s = await tcpServer();
    await s.stop();
    return target(s);
  },
}).run();

healthCheckCompliance('TcpHealthCheck.tls (handshake)', {
  create: () => TcpHealthCheck.tls('backend.test', { connectionTimeoutMs: 1000, consecutiveFailure: 2, peerOptions: { ca: testCertificate().cert } }),
  healthy: async () => target(await tlsServer()),
  // A plain TCP server accepts the connection but no TLS handshake can complete.
  unhealthy: async () => target(await tcpServer()),
}).run();

healthCheckCompliance('HttpHealthCheck', {
  create: () => new HttpHealthCheck({ host: 'app.test', connectionTimeoutMs: 500, readTimeoutMs: 500, consecutiveSuccess: 2, consecutiveFailure: 3 }),
  healthy: async () => target(await httpServer(() => 200)),
  unhealthy: async () => target(await httpServer(() => 503)),
}).run();

const servers: TestServer[] = [];
const start = async (s: Promise<TestServer>) => {
  const server = await s;
  servers.push(server);
  return server;
};
async function rejection(p: Promise<unknown>): Promise<LbError> {
  try {
    await p;
  } catch (e) {
    return e as LbError;
  }
  throw new Error('expected a rejection');
}

const http = suite('HttpHealthCheck details');
http.after.each(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

http('sends GET <path> with the Host field; the default validator wants 200', async () => {
  const seen: IncomingMessage[] = [];
  let status = 200;
  const s = await start(httpServer(() => status, seen));
  const check = new HttpHealthCheck({ host: 'app.example', path: '/healthz?full=1' });
  check.request.insertHeader('x-probe', 'sluice');
  await check.check(s.backend());
  assert.is(seen[0].method, 'GET');
  assert.is(seen[0].url, '/healthz?full=1');
  assert.is(seen[0].headers.host, 'app.example');
  assert.is(seen[0].headers['x-probe'], 'sluice');
  status = 204;
  const e = await rejection(check.check(s.backend()));
  assert.is(e.code, 'ERR_LB_UNHEALTHY_STATUS');
  assert.is(e.status, 204);
  assert.match(e.message, s.addr);
});

http('a validator sees status and body; false or a throw means unhealthy', async () => {
  let body = 'ready';
  const s = await start(httpServer(() => 200, [], 'ready'));
  const check = new HttpHealthCheck({ host: 'a', validator: (res, b) => res.status === 200 && b.toString() === body });
  await check.check(s.backend());
  body = 'something else';
  assert.is((await rejection(check.check(s.backend()))).code, 'ERR_LB_UNHEALTHY_RESPONSE');
  const throwing = new HttpHealthCheck({ host: 'a', validator: () => { throw new Error('custom reason'); } });
  assert.match((await rejection(throwing.check(s.backend()))).message, 'custom reason');
});

http('a server that never answers fails within readTimeoutMs', async () => {
  const s = await start(silentServer());
  const started = Date.now();
  const e = await rejection(new HttpHealthCheck({ host: 'a', readTimeoutMs: 100 }).check(s.backend()));
  assert.is(e.code, 'ERR_READ_TIMEDOUT');
  assert.ok(Date.now() - started < 3000, 'bounded by the read timeout, not hanging');
});

http('a malformed response fails the check with the HTTP/1 parser code', async () => {
  const s = await start(new TestServer(() => createNetServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 2OO OK\r\n\r\n')))).start());
  const e = await rejection(new HttpHealthCheck({ host: 'a' }).check(s.backend()));
  assert.match(e.code, /^ERR_H1_/);
});

http('portOverride checks another port of the same host', async () => {
  const health = await start(httpServer(() => 200));
  const dead = await start(tcpServer());
  await dead.stop();
  const check = new HttpHealthCheck({ host: 'a', portOverride: health.port });
  await check.check(dead.backend());
  assert.is((await rejection(new HttpHealthCheck({ host: 'a' }).check(dead.backend()))).code, 'ERR_CONNECT_REFUSED');
});

http('a body over maxBodyBytes fails the check', async () => {
  const s = await start(httpServer(() => 200, [], 'x'.repeat(1000)));
  assert.is((await rejection(new HttpHealthCheck({ host: 'a', maxBodyBytes: 999 }).check(s.backend()))).code, 'ERR_LB_UNHEALTHY_RESPONSE');
  await new HttpHealthCheck({ host: 'a', maxBodyBytes: 1000 }).check(s.backend());
});

http('bad options throw ERR_LB_INVALID_OPTION', () => {
  for (const bad of [{ host: '' }, { host: 'a b' }, { host: 'a', readTimeoutMs: 0 }, { host: 'a', consecutiveSuccess: 0 }, { host: 'a', portOverride: 70000 }]) {
    assert.throws(() => new HttpHealthCheck(bad), (e: LbError) => e.code === 'ERR_LB_INVALID_OPTION', JSON.stringify(bad));
  }
  assert.throws(() => new TcpHealthCheck({ consecutiveFailure: 1.5 }), (e: LbError) => e.code === 'ERR_LB_INVALID_OPTION');
});

const tls = suite('TLS handshake check details');
tls.after.each(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

tls('an untrusted certificate or a wrong name fails; the error says TLS', async () => {
  const s = await start(tlsServer());
  const untrusted = await rejection(TcpHealthCheck.tls('backend.test').check(s.backend()));
  assert.is(untrusted.code, 'ERR_TLS_HANDSHAKE_FAILURE');
  const wrongName = await rejection(TcpHealthCheck.tls('other.test', { peerOptions: { ca: testCertificate().cert } }).check(s.backend()));
  assert.is(wrongName.code, 'ERR_TLS_HANDSHAKE_FAILURE');
  await TcpHealthCheck.tls('other.test', { peerOptions: { ca: testCertificate().cert, verifyHostname: false } }).check(s.backend());
});

tls('HttpHealthCheck over TLS', async () => {
  const { key, cert } = testCertificate();
  const s = await start(new TestServer(() => createHttpsServer({ key, cert }, (_, res) => res.end('ok'))).start());
  await new HttpHealthCheck({ host: 'backend.test', tls: true, peerOptions: { ca: cert } }).check(s.backend());
  assert.is((await rejection(new HttpHealthCheck({ host: 'backend.test', tls: true }).check(s.backend()))).code, 'ERR_TLS_HANDSHAKE_FAILURE');
});

const health = suite('Health and Backends.runHealthCheck');

health('thresholds count consecutive results only', () => {
  const h = new Health();
  assert.ok(h.healthy && h.enabled && h.ready, 'starts healthy and enabled');
  assert.not.ok(h.observe(false, 3));
  assert.not.ok(h.observe(false, 3));
  assert.not.ok(h.observe(true, 3), 'a success resets the count');
  assert.not.ok(h.observe(false, 3));
  assert.not.ok(h.observe(false, 3));
  assert.ok(h.observe(false, 3), 'third failure in a row flips');
  assert.not.ok(h.ready);
  h.enabled = false;
  assert.ok(h.observe(true, 1));
  assert.not.ok(h.ready, 'healthy but disabled is not ready');
});

health('parallel rounds check all backends at once, sequential ones one by one', async () => {
  const list = [1, 2, 3, 4].map((i) => new Backend(`10.9.0.${i}:80`));
  for (const parallel of [true, false]) {
    let active = 0;
    let most = 0;
    const backends = new Backends(
      { discover: () => list },
      {
        healthCheck: {
          consecutiveSuccess: 1,
          consecutiveFailure: 1,
          check: async () => {
            most = Math.max(most, ++active);
            await new Promise((r) => setTimeout(r, 20));
            active--;
          },
        },
      },
    );
    await backends.update();
    await backends.runHealthCheck(parallel);
    assert.is(most, parallel ? 4 : 1);
  }
});

health('onHealthChange fires once per flip; a throwing callback is reported, not fatal; lastError is kept', async () => {
  const b = new Backend('10.9.0.1:80');
  let ok = false;
  const calls: boolean[] = [];
  const errors: unknown[] = [];
  const backends = new Backends(
    { discover: () => [b] },
    {
      healthCheck: {
        consecutiveSuccess: 1,
        consecutiveFailure: 1,
        check: async () => {
          if (!ok) throw new Error('probe failed');
        },
        onHealthChange: (_, healthy) => {
          calls.push(healthy);
          throw new Error('callback broke');
        },
      },
      onError: (e) => errors.push(e),
    },
  );
  await backends.update();
  await backends.runHealthCheck();
  await backends.runHealthCheck();
  assert.equal(calls, [false]);
  assert.match(String(backends.health(b)!.lastError), 'probe failed');
  ok = true;
  await backends.runHealthCheck();
  assert.equal(calls, [false, true]);
  assert.is(backends.health(b)!.lastError, undefined);
  assert.is(errors.length, 2);
});

health('setEnabled by object, id or address; false for unknown backends', async () => {
  const backends = new Backends({ discover: () => [new Backend('10.9.0.1:80'), new Backend('10.9.0.1:80', 2), new Backend('10.9.0.2:80')] });
  await backends.update();
  assert.ok(backends.setEnabled('10.9.0.1:80', false));
  assert.equal(backends.items.map((b) => backends.ready(b)), [false, false, true]);
  assert.ok(backends.setEnabled('10.9.0.1:80#2', true));
  assert.ok(backends.setEnabled(backends.items[2], false));
  assert.equal(backends.items.map((b) => backends.ready(b)), [false, true, false]);
  assert.not.ok(backends.setEnabled('10.9.9.9:80', false));
  assert.not.ok(backends.setEnabled(new Backend('10.9.9.9:80'), false));
  assert.not.ok(backends.ready(new Backend('10.9.0.2:80')), 'and an equal backend object sees it disabled');
  assert.ok(backends.ready(new Backend('10.9.0.1:80', 2)), 'an equal backend object finds the same health by id');
});

health('a backend outside the set is ready only when there is no health check (as in pingora)', async () => {
  const outsider = new Backend('10.9.9.9:80');
  assert.ok(new Backends({ discover: () => [] }).ready(outsider));
  const checked = new Backends({ discover: () => [] }, { healthCheck: new TcpHealthCheck() });
  assert.not.ok(checked.ready(outsider));
});

http.run();
tls.run();
health.run();
