// A kept-alive downstream connection waiting for its next request: it holds nothing of the last one,
// still serves the next ones, and ends its service when it is closed while idle.
import { once } from 'node:events';
import { connect } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { collected, exchangeOn } from '../../core/test/helpers/idle.js';
import { TransportConnector, silentLogger } from '@sluice/core';
import type { HeaderMap, RequestHeader } from '@sluice/core';
import { httpProxyService } from '../src/index.js';
import type { Session } from '../src/index.js';
import { peerOf, startOrigin, startProxy } from './helpers/net.js';
import type { Origin, RunningProxy } from './helpers/net.js';

interface Ctx {
  origin: Origin;
  proxy: RunningProxy;
  sessions: Array<WeakRef<Session>>;
  heads: Array<WeakRef<RequestHeader>>;
  fields: Array<WeakRef<HeaderMap>>;
}

const idle = suite<Ctx>('an idle keep-alive downstream connection');
idle.before(async (ctx) => {
  ctx.sessions = [];
  ctx.heads = [];
  ctx.fields = [];
  ctx.origin = await startOrigin((req, res) => res.end(`${req.method} ${req.url} ${req.headers['x-n'] ?? ''}`));
  ctx.proxy = await startProxy({
    newCtx: () => null,
    upstreamPeer: (session) => {
      ctx.sessions.push(new WeakRef(session));
      ctx.heads.push(new WeakRef(session.request));
      ctx.fields.push(new WeakRef(session.request.headers));
      return peerOf(ctx.origin.port);
    },
  });
});
idle.after(async (ctx) => {
  await ctx.proxy.close();
  await ctx.origin.close();
});

idle('keeps neither the session, the head nor the fields of its last request, and serves the next ones', async (ctx) => {
  const socket = connect(ctx.proxy.port, '127.0.0.1');
  try {
    const first = await exchangeOn(socket, 'GET /first HTTP/1.1\r\nHost: a\r\nX-N: 1\r\n\r\n', /GET \/first 1$/);
    assert.match(first, /^HTTP\/1\.1 200 /);
    assert.ok(await collected(ctx.sessions[0]), 'the finished request session was collected while the connection waits');
    assert.ok(await collected(ctx.heads[0]), 'its request head too');
    assert.ok(await collected(ctx.fields[0]), 'and its header map');
    const next = await exchangeOn(socket, 'GET /second HTTP/1.1\r\nHost: a\r\nX-N: 2\r\n\r\nGET /third HTTP/1.1\r\nHost: a\r\nX-N: 3\r\n\r\n', /GET \/third 3$/);
    assert.match(next, /^HTTP\/1\.1 200 [^]*GET \/second 2HTTP\/1\.1 200 [^]*GET \/third 3$/, 'pipelined requests are answered in order');
    assert.ok(await collected(ctx.sessions[2]), 'after pipelined requests too');
    assert.ok(await collected(ctx.heads[2]));
  } finally {
    socket.destroy();
  }
});

idle('closed by a graceful shutdown while idle, the connection ends its service (the observer hears it closed)', async (ctx) => {
  const connector = new TransportConnector();
  const closedDigests: unknown[] = [];
  const service = httpProxyService(
    { max_retries: 1, upstream_keepalive_pool_size: 8 },
    { newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port) },
    { connector, logger: silentLogger, shutdownIdleLingerMs: 50, observe: { connectionClosed: (digest) => closedDigests.push(digest) } },
  );
  service.addTcp('127.0.0.1:0');
  const shutdown = new AbortController();
  const running = service.start(shutdown.signal, silentLogger);
  await service.readiness.ready;
  const socket = connect(service.addresses[0].port, '127.0.0.1');
  socket.on('error', () => {});
  try {
    await exchangeOn(socket, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n', /GET \/x $/);
    const clientSawClose = once(socket, 'close');
    shutdown.abort();
    await clientSawClose;
    // The client sees the close before the server's socket has emitted its own 'close'.
    for (let i = 0; i < 100 && closedDigests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(closedDigests.length, 1, 'connectionClosed was called for the connection closed while idle');
  } finally {
    socket.destroy();
    service.stopNow();
    await running;
    connector.pool.clear();
  }
});

idle.run();
