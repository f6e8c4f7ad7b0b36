// Less common paths over real sockets: 100-continue, client aborts, CONNECT tunnels, TLS both sides,
// filters that read the body, graceful shutdown of idle keep-alive connections.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { HttpPeer, ResponseHeader, SluiceError, TransportConnector, silentLogger } from '@sluice/core';
import { TlsSettings } from '@sluice/tls';
import { httpProxyService } from '../src/index.js';
import { curl, peerOf, rawExchange, request, startOrigin, startProxy, startRawOrigin } from './helpers/net.js';
import type { Origin, RunningProxy } from './helpers/net.js';

const edges = suite<{ origin: Origin; proxies: RunningProxy[]; aborted: number }>('protocol edges');
edges.before(async (ctx) => {
  ctx.proxies = [];
  ctx.aborted = 0;
  ctx.origin = await startOrigin((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('aborted', () => ctx.aborted++);
    req.on('error', () => {});
    req.on('end', () => res.end(`got ${n}`));
  });
});
edges.after(async (ctx) => {
  for (const p of ctx.proxies) await p.close();
  await ctx.origin.close();
});

edges('Expect: 100-continue is answered by the proxy and the body goes through', async (ctx) => {
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port) });
  ctx.proxies.push(p);
  const r = await curl(['-v', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(5000), `http://127.0.0.1:${p.port}/`]);
  assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
  assert.is(r.stdout, 'got 5000');
  assert.is((r.stderr.match(/100 Continue/g) ?? []).length, 1, 'exactly one 100 Continue');
});

edges('a client that aborts mid-upload aborts the upstream request; the proxy keeps serving', async (ctx) => {
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port) });
  ctx.proxies.push(p);
  const before = ctx.aborted;
  const socket = netConnect(p.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n' + 'z'.repeat(50_000));
  await new Promise((r) => setTimeout(r, 100));
  socket.destroy();
  for (let i = 0; i < 50 && ctx.aborted === before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.is(ctx.aborted, before + 1, 'the origin saw its request aborted');
  assert.is((await request(p.port, { method: 'POST', body: 'ok' })).body.toString(), 'got 2');
});

edges('a requestFilter can read the body and answer by itself', async (ctx) => {
  const p = await startProxy<null>({
    newCtx: () => null,
    upstreamPeer: () => peerOf(ctx.origin.port),
    requestFilter: async (session) => {
      let n = 0;
      for (let c = await session.readRequestBody(); c !== null; c = await session.readRequestBody()) n += c.length;
      const res = ResponseHeader.build(200);
      res.insertHeader('Content-Length', String(`filter read ${n}`.length));
      await session.writeResponseHeader(res);
      await session.writeResponseBody(Buffer.from(`filter read ${n}`), true);
      return true;
    },
  });
  ctx.proxies.push(p);
  const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
  assert.is((await request(p.port, { method: 'POST', body: 'q'.repeat(3000), agent })).body.toString(), 'filter read 3000');
  assert.is((await request(p.port, { method: 'POST', body: 'q'.repeat(10), agent })).body.toString(), 'filter read 10', 'same connection, next request');
  agent.destroy();
});

edges('CONNECT, when allowed, goes to the peer; a 2xx becomes a tunnel', async (ctx) => {
  // A stand-in forward proxy: answers CONNECT with 200, then echoes bytes upper-cased.
  const forward = await startRawOrigin((socket, n) => {
    if (n !== 0) return;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.removeAllListeners('data');
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
  });
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(forward.port) }, { allowConnect: true });
    ctx.proxies.push(p);
    const socket = netConnect(p.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
    let got = '';
    socket.on('data', (d) => (got += d));
    for (let i = 0; i < 50 && !got.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(got, /^HTTP\/1\.1 200 /);
    got = '';
    socket.write('tunnel bytes');
    for (let i = 0; i < 50 && got.length < 12; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(got, 'TUNNEL BYTES');
    socket.destroy();
  } finally {
    await forward.close();
  }
});

edges('TLS downstream (addTls with @sluice/tls) and a TLS upstream peer', async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-proxy-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const key = readFileSync(join(dir, 'key.pem'));
  const httpsOrigin = createHttpsServer({ cert, key }, (req, res) => res.end(`secure origin, ${req.socket.constructor.name}`));
  await new Promise<void>((r) => httpsOrigin.listen(0, '127.0.0.1', r));
  const upstream = new HttpPeer(`127.0.0.1:${(httpsOrigin.address() as AddressInfo).port}`, true, 'localhost', { ca: cert });
  const connector = new TransportConnector();
  const service = httpProxyService({ max_retries: 1, upstream_keepalive_pool_size: 8 }, { newCtx: () => null, upstreamPeer: () => upstream }, { connector, logger: silentLogger });
  service.addTls('127.0.0.1:0', TlsSettings.intermediate(join(dir, 'cert.pem'), join(dir, 'key.pem')));
  const shutdown = new AbortController();
  const running = service.start(shutdown.signal, silentLogger);
  try {
    await service.readiness.ready;
    const r = await curl(['--cacert', join(dir, 'cert.pem'), `https://localhost:${service.addresses[0].port}/`, '--resolve', `localhost:${service.addresses[0].port}:127.0.0.1`]);
    assert.is(r.stdout, 'secure origin, TLSSocket');
  } finally {
    shutdown.abort();
    service.stopNow();
    await running;
    connector.pool.clear();
    httpsOrigin.closeAllConnections();
    httpsOrigin.close();
  }
});

edges('CONNECT answered 101 by the peer is a broken response: 502, ERR_PROXY_UNSOLICITED_101, no tunnel', async (ctx) => {
  const forward = await startRawOrigin((socket, n) => {
    if (n === 0) socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  });
  try {
    let code: string | undefined;
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(forward.port), logging: (_s, e) => void (code = e?.code) }, { allowConnect: true });
    ctx.proxies.push(p);
    const socket = netConnect(p.port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
    let got = '';
    socket.on('data', (d) => (got += d));
    for (let i = 0; i < 200 && !got.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(got, /^HTTP\/1\.1 502 /);
    assert.is(code, 'ERR_PROXY_UNSOLICITED_101');
    socket.destroy();
  } finally {
    await forward.close();
  }
});

edges('graceful shutdown: a request sent on an idle keep-alive connection as it starts is answered with Connection: close', async (ctx) => {
  const connector = new TransportConnector();
  const service = httpProxyService({ max_retries: 1, upstream_keepalive_pool_size: 8 }, { newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port) }, { connector, logger: silentLogger, shutdownIdleLingerMs: 2000 });
  service.addTcp('127.0.0.1:0');
  const shutdown = new AbortController();
  const running = service.start(shutdown.signal, silentLogger);
  await service.readiness.ready;
  const socket = netConnect(service.addresses[0].port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(socket, 'data');
  let second = '';
  socket.on('data', (d) => (second += d));
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  // The shutdown starts while the keep-alive client's next request is on its way.
  shutdown.abort();
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const bound = setTimeout(() => socket.destroy(), 5000);
  await closed;
  clearTimeout(bound);
  assert.match(second, /^HTTP\/1\.1 200 /, 'the second request was answered');
  assert.match(second.toLowerCase(), /\r\nconnection: close\r\n/, 'and told the client to close');
  await running;
  connector.pool.clear();
  assert.is(service.openConnections, 0);
});

edges('graceful shutdown closes idle keep-alive connections after the linger (shutdownIdleLingerMs)', async (ctx) => {
  const connector = new TransportConnector();
  const service = httpProxyService({ max_retries: 1, upstream_keepalive_pool_size: 8 }, { newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port) }, { connector, logger: silentLogger, shutdownIdleLingerMs: 300 });
  service.addTcp('127.0.0.1:0');
  const shutdown = new AbortController();
  const running = service.start(shutdown.signal, silentLogger);
  await service.readiness.ready;
  const socket = netConnect(service.addresses[0].port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(socket, 'data');
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  shutdown.abort();
  let byUs = false;
  const bound = setTimeout(() => {
    byUs = true;
    socket.destroy();
  }, 3000);
  await closed;
  clearTimeout(bound);
  assert.not.ok(byUs, 'the proxy closed the idle connection');
  // Its side closes once the client's FIN is read (not after the 5 s guard for a peer that never
  // closes): the service ends soon after.
  const ended = Date.now();
  await running;
  assert.ok(Date.now() - ended < 2000, `the service ended ${Date.now() - ended} ms after the client closed`);
  connector.pool.clear();
  assert.is(service.openConnections, 0);
});

edges('a shutdownIdleLingerMs or max_retries out of range is a typed ConfigError when the service is made', () => {
  const proxy = { newCtx: () => null, upstreamPeer: () => peerOf(1) };
  const conf = { max_retries: 1, upstream_keepalive_pool_size: 8 };
  const refused = (make: () => unknown, code: string, what: string) => {
    try {
      make();
    } catch (e) {
      assert.instance(e, SluiceError, what);
      assert.is((e as SluiceError).type, 'ConfigError', what);
      assert.is((e as SluiceError).code, code, what);
      return;
    }
    assert.unreachable(`${what}: accepted`);
  };
  for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    refused(() => httpProxyService(conf, proxy, { shutdownIdleLingerMs: ms }), 'ERR_PROXY_INVALID_SHUTDOWN_IDLE_LINGER', `shutdownIdleLingerMs ${ms}`);
  }
  for (const n of [-1, 1.5, Number.NaN]) {
    refused(() => httpProxyService({ ...conf, max_retries: n }, proxy), 'ERR_PROXY_INVALID_MAX_RETRIES', `max_retries ${n}`);
  }
  // The bounds themselves are allowed: 0 closes idle connections at once, and retries nothing.
  httpProxyService({ ...conf, max_retries: 0 }, proxy, { shutdownIdleLingerMs: 0 });
});

edges('an upstream that answers early (413) without reading the upload: the answer reaches the client', async (ctx) => {
  const early = await startRawOrigin((socket) => {
    socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!');
  });
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(early.port) });
    ctx.proxies.push(p);
    const r = await curl(['-s', '-o', '-', '-w', '\n%{http_code}', '--data-binary', '@-', `http://127.0.0.1:${p.port}/upload`], Buffer.alloc(4 * 1024 * 1024, 'u'));
    assert.match(r.stdout, /too big!\n413$/);
  } finally {
    await early.close();
  }
});

edges('a slow streaming upstream: each piece reaches the client as it is sent, not at the end', async (ctx) => {
  const { request: httpRequest } = await import('node:http');
  const slow = await startOrigin((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write('data: one\n\n');
    setTimeout(() => res.write('data: two\n\n'), 300);
    setTimeout(() => res.end('data: three\n\n'), 600);
  });
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(slow.port) });
    ctx.proxies.push(p);
    const arrivals = await new Promise<Array<[string, number]>>((resolve, reject) => {
      const started = Date.now();
      const got: Array<[string, number]> = [];
      httpRequest({ host: '127.0.0.1', port: p.port, path: '/events' }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => got.push([d.trim(), Date.now() - started]));
        res.on('end', () => resolve(got));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(arrivals.map(([d]) => d), ['data: one', 'data: two', 'data: three']);
    assert.ok(arrivals[0][1] < arrivals[1][1] - 150, `first piece came ${arrivals[0][1]} ms in, second ${arrivals[1][1]} ms`);
  } finally {
    await slow.close();
  }
});

edges('a request target with absolute-form is forwarded as received', async (ctx) => {
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port) });
  ctx.proxies.push(p);
  const out = await rawExchange(p.port, `GET http://127.0.0.1:${ctx.origin.port}/abs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
});

edges.run();
