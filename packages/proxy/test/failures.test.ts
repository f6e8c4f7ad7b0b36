// Broken, slow and dying upstreams: the statuses the client sees, failover, retries on reused connections.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';
import { SluiceError } from '@sluice/core';
import type { HttpPeer } from '@sluice/core';
import type { ProxyHttp } from '../src/index.js';
import { closedPort, curl, peerOf, request, startOrigin, startProxy, startRawOrigin } from './helpers/net.js';
import type { Origin, RawOrigin, RunningProxy } from './helpers/net.js';
import { blackholeListener } from '../../core/test/helpers/net.js';

function to(peer: () => HttpPeer): ProxyHttp<null> {
  return { newCtx: () => null, upstreamPeer: () => peer() };
}

// ---------------------------------------------------------------------------------------------------
const statuses = suite<{ raw: RawOrigin; proxies: RunningProxy[] }>('upstream failures answer 502 / 504');
statuses.before(async (ctx) => {
  ctx.proxies = [];
  ctx.raw = await startRawOrigin((socket, _n, head) => {
    const path = head.toString('latin1').split(' ')[1];
    if (path === '/garbage') socket.end('HTTP/1.1 abc nonsense\r\n\r\n');
    else if (path === '/hang') return; // never answers
    else if (path === '/switch') socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    else if (path === '/close') socket.destroy();
    else if (path === '/cut-length') {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'a'.repeat(5000));
      setTimeout(() => socket.destroy(), 50);
    } else if (path === '/cut-chunked') {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n' + 'b'.repeat(4096) + '\r\n');
      setTimeout(() => socket.destroy(), 50);
    } else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
});
statuses.after(async (ctx) => {
  for (const p of ctx.proxies) await p.close();
  await ctx.raw.close();
});

statuses('refused connect: 502', async (ctx) => {
  const port = await closedPort();
  const p = await startProxy(to(() => peerOf(port)));
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 502);
});

statuses('malformed upstream response: 502', async (ctx) => {
  const p = await startProxy(to(() => peerOf(ctx.raw.port)));
  ctx.proxies.push(p);
  assert.is((await request(p.port, { path: '/garbage' })).status, 502);
});

statuses('a 101 to a request that asked for no upgrade (RFC 9110 §15.2.2): 502, ERR_PROXY_UNSOLICITED_101, the upstream connection closed', async (ctx) => {
  let code: string | undefined;
  const p = await startProxy({ ...to(() => peerOf(ctx.raw.port)), logging: (_s, e) => void (code = e?.code) });
  ctx.proxies.push(p);
  const before = ctx.raw.connections;
  const res = await request(p.port, { path: '/switch', timeoutMs: 5000 });
  assert.is(res.status, 502);
  assert.is(code, 'ERR_PROXY_UNSOLICITED_101');
  // Nothing was tunnelled: the next request is answered by HTTP, on a fresh upstream connection.
  assert.is((await request(p.port, { path: '/' })).body.toString(), 'ok');
  assert.is(ctx.raw.connections, before + 2, 'the switched connection was not pooled');
});

statuses('upstream closes without answering: 502', async (ctx) => {
  const p = await startProxy(to(() => peerOf(ctx.raw.port)));
  ctx.proxies.push(p);
  assert.is((await request(p.port, { path: '/close' })).status, 502);
});

statuses('upstream read timeout (PeerOptions.readTimeoutMs): 504', async (ctx) => {
  const p = await startProxy(to(() => peerOf(ctx.raw.port, { readTimeoutMs: 200 })));
  ctx.proxies.push(p);
  const started = Date.now();
  assert.is((await request(p.port, { path: '/hang' })).status, 504);
  assert.ok(Date.now() - started < 5000);
});

statuses('total connect timeout (a TLS peer that never finishes its handshake): 502 within the bound', async (ctx) => {
  const { HttpPeer } = await import('@sluice/core');
  const silent = await startRawOrigin(() => {}); // accepts TCP, never answers the ClientHello
  try {
    let failed: string | undefined;
    const p = await startProxy({
      newCtx: () => null,
      upstreamPeer: () => new HttpPeer(`127.0.0.1:${silent.port}`, true, 'localhost', { totalConnectionTimeoutMs: 200 }),
      failToConnect: (_s, _p, _c, e) => ((failed = e.type), e),
    });
    ctx.proxies.push(p);
    const started = Date.now();
    assert.is((await request(p.port)).status, 502);
    assert.is(failed, 'TLSHandshakeTimedout');
    assert.ok(Date.now() - started < 5000);
  } finally {
    await silent.close();
  }
});

statuses('a blackholed peer with no connect timeout of its own fails at the connector default: 502, ConnectTimedout', async (ctx) => {
  const { TransportConnector } = await import('@sluice/core');
  // Its accept queue is full, so our SYN is dropped and the connect would hang until the kernel gives up.
  const hole = await blackholeListener();
  try {
    const failed: string[] = [];
    const p = await startProxy(
      { newCtx: () => null, upstreamPeer: () => peerOf(hole.port), failToConnect: (_s, _p, _c, e) => (failed.push(e.type), e) },
      { connector: new TransportConnector({ connectionTimeoutMs: 200 }), maxRetries: 1 },
    );
    ctx.proxies.push(p);
    const started = Date.now();
    assert.is((await request(p.port)).status, 502);
    assert.equal(failed, ['ConnectTimedout', 'ConnectTimedout'], 'retried once, as a connect timeout is retryable');
    assert.ok(Date.now() - started < 5000, 'bounded by the default, not the kernel');
  } finally {
    hole.stop();
  }
});

for (const cut of ['cut-length', 'cut-chunked']) {
  statuses(`upstream dies mid-body (${cut}): the downstream response is aborted, never complete`, async (ctx) => {
    const p = await startProxy(to(() => peerOf(ctx.raw.port)));
    ctx.proxies.push(p);
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: p.port, path: '/' + cut }, (res) => {
        let got = 0;
        res.on('data', (d: Buffer) => (got += d.length));
        res.on('aborted', () => resolve(`aborted after ${got}`));
        res.on('error', () => resolve(`aborted after ${got}`));
        res.on('end', () => resolve(res.complete ? `complete ${got}` : `aborted after ${got}`));
      });
      req.on('error', (e) => resolve('error ' + e.message));
      req.end();
    });
    assert.match(outcome, /^aborted after \d+$/);
    const c = await curl([`http://127.0.0.1:${p.port}/${cut}`, '-o', '/dev/null']);
    assert.is.not(c.code, 0, 'curl saw a transfer error');
  });
}

statuses.run();

// ---------------------------------------------------------------------------------------------------
const failover = suite<{ good: Origin; proxies: RunningProxy[] }>('failover and retries');
failover.before(async (ctx) => {
  ctx.proxies = [];
  ctx.good = await startOrigin((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => res.end(`good ${Buffer.concat(parts).length}`));
  });
});
failover.after(async (ctx) => {
  for (const p of ctx.proxies) await p.close();
  await ctx.good.close();
});

failover('failToConnect marks the error retryable: upstreamPeer picks the next peer', async (ctx) => {
  const dead = await closedPort();
  const picked: number[] = [];
  const p = await startProxy<{ tries: number }>({
    newCtx: () => ({ tries: 0 }),
    upstreamPeer: (_s, c) => {
      const port = c.tries++ === 0 ? dead : ctx.good.port;
      picked.push(port);
      return peerOf(port);
    },
    failToConnect: (_s, _peer, _c, e) => e.setRetry(true),
  });
  ctx.proxies.push(p);
  const r = await request(p.port);
  assert.is(r.status, 200);
  assert.equal(picked, [dead, ctx.good.port]);
});

failover('retries are bounded by max_retries', async (ctx) => {
  const dead = await closedPort();
  let calls = 0;
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => (calls++, peerOf(dead)), failToConnect: (_s, _p, _c, e) => e.setRetry(true) }, { maxRetries: 3 });
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 502);
  assert.is(calls, 4, 'the first try and three retries');
});

failover('a refused connect is retried by default (nothing was sent)', async (ctx) => {
  const dead = await closedPort();
  let calls = 0;
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(calls++ === 0 ? dead : ctx.good.port) });
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 200);
});

failover('a reused connection that dies before answering is retried once on a fresh one, body replayed', async (ctx) => {
  // Answers the first request on each connection and silently drops the connection on the second.
  const flaky = await startRawOrigin((socket, n, head) => {
    if (n === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst');
    else {
      assert.match(head.toString('latin1'), /^POST /);
      socket.destroy();
    }
  });
  // The fresh origin answers once it has the whole body, telling what it got.
  const retried = await startOrigin((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => res.writeHead(200, { connection: 'close' }).end(`fresh ${createHash('sha256').update(Buffer.concat(parts)).digest('hex')}`));
  });
  const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 255));
  try {
    let reusedSeen = 0;
    let pick = 0;
    const p = await startProxy({
      newCtx: () => null,
      // The first two picks go to the flaky origin; a third pick (the retry) goes to the fresh one,
      // bounded so a body that never comes is a 504, not a hang.
      upstreamPeer: () => (pick++ < 2 ? peerOf(flaky.port) : peerOf(retried.port, { readTimeoutMs: 5000 })),
      connectedToUpstream: (_s, reused) => void (reusedSeen += reused ? 1 : 0),
    });
    ctx.proxies.push(p);
    assert.is((await request(p.port)).body.toString(), 'first');
    const r = await request(p.port, { method: 'POST', body });
    assert.is(r.status, 200);
    assert.is(r.body.toString(), `fresh ${createHash('sha256').update(body).digest('hex')}`, 'the whole body, replayed');
    assert.is(reusedSeen, 1, 'the second request went out on the pooled connection first');
  } finally {
    await flaky.close();
    await retried.close();
  }
});

failover('the same failure on a fresh connection is not retried: 502', async (ctx) => {
  const dropper = await startRawOrigin((socket) => socket.destroy());
  try {
    let calls = 0;
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => (calls++, peerOf(dropper.port)) });
    ctx.proxies.push(p);
    assert.is((await request(p.port)).status, 502);
    assert.is(calls, 1);
  } finally {
    await dropper.close();
  }
});

failover('errorWhileProxy can make a failure retryable (idempotent request to another peer)', async (ctx) => {
  const dropper = await startRawOrigin((socket) => socket.destroy());
  try {
    let calls = 0;
    const p = await startProxy({
      newCtx: () => null,
      upstreamPeer: () => peerOf(calls++ === 0 ? dropper.port : ctx.good.port),
      errorWhileProxy: (_peer, session, e) => (session.request.method === 'GET' && !session.responseWritten ? e.setRetry(true) : e),
    });
    ctx.proxies.push(p);
    assert.is((await request(p.port)).body.toString(), 'good 0');
  } finally {
    await dropper.close();
  }
});

failover('failToProxy chooses the status', async (ctx) => {
  const dead = await closedPort();
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(dead), failToConnect: (_s, _p, _c, e) => e.setRetry(false), failToProxy: (_s, e) => (e instanceof SluiceError && e.source === 'Upstream' ? 503 : 500) });
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 503);
});

failover.run();
