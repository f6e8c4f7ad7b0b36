// A client that leaves while the proxy waits for a slow upstream ends the upstream exchange at once
// (the origin sees its connection closed or its stream reset), is not retried, and is logged as a
// downstream error; the upstream's read timeout (60 s here) is never what ends it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { constants as h2constants, createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { SluiceError } from '@sluice/core';
import type { ProxyHttp } from '../src/index.js';
import { h2Client } from './helpers/h2.js';
import { peerOf, startProxy, startRawOrigin } from './helpers/net.js';
import type { RawOrigin, RunningProxy } from './helpers/net.js';

/** Generous bound on "promptly": far below the 60 s read timeout, far above any scheduling delay. */
const PROMPT_MS = 5000;

interface Ctx {
  origin: RawOrigin;
  /** Resolves when the origin saw a connection close; replaced per test. */
  originClosed: Promise<void>;
  h2Origin: Http2Server;
  h2Port: number;
  h2StreamClosed: Promise<number>;
  logged: (SluiceError | undefined)[];
  proxy: RunningProxy;
  h2Proxy: RunningProxy;
}

const gone = suite<Ctx>('a client gone while the upstream is slow ends the upstream exchange');
gone.before(async (ctx) => {
  ctx.logged = [];
  let closed: () => void = () => {};
  ctx.originClosed = new Promise((r) => (closed = r));
  // Never answers; tells when the proxy closes the connection.
  ctx.origin = await startRawOrigin((socket: Socket) => {
    socket.once('close', () => closed());
  });
  ctx.h2Origin = createH2Server();
  ctx.h2Origin.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => {});
    stream.once('close', () => h2Closed(stream.rstCode));
  });
  let h2Closed: (code: number) => void = () => {};
  ctx.h2StreamClosed = new Promise((r) => (h2Closed = r));
  await new Promise<void>((r) => ctx.h2Origin.listen(0, '127.0.0.1', r));
  ctx.h2Port = (ctx.h2Origin.address() as AddressInfo).port;
  const logging = (_s: unknown, error: SluiceError | undefined) => void ctx.logged.push(error);
  const proxy: ProxyHttp<null> = { newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port, { readTimeoutMs: 60_000 }), logging };
  ctx.proxy = await startProxy(proxy, { h2c: true });
  ctx.h2Proxy = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.h2Port, { alpn: 'h2', readTimeoutMs: 60_000 }), logging }, { h2c: true });
});
gone.after(async (ctx) => {
  await Promise.all([ctx.proxy.close(), ctx.h2Proxy.close()]);
  await ctx.origin.close();
  await new Promise((r) => ctx.h2Origin.close(r));
});

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not within ${PROMPT_MS} ms`)), PROMPT_MS)));
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

async function until(check: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > PROMPT_MS) throw new Error(`${what} not within ${PROMPT_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends `request` to the proxy, then after 100 ms leaves as `how` says. */
async function leaveAfter100ms(port: number, request: string, how: 'end' | 'reset'): Promise<void> {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(request);
  await new Promise((r) => setTimeout(r, 100));
  if (how === 'end') socket.end();
  else socket.resetAndDestroy();
}

gone('h1 client closes (FIN) while the origin has not answered: origin connection closed, Downstream error logged', async (ctx) => {
  const before = ctx.origin.connections;
  await leaveAfter100ms(ctx.proxy.port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n', 'end');
  await bounded(ctx.originClosed, 'the origin connection closed');
  await until(() => ctx.logged.length === 1, 'the logging phase');
  assert.is(ctx.logged[0]?.source, 'Downstream');
  assert.is(ctx.origin.connections - before, 1, 'not retried');
});

gone('h1 client resets (RST) while a request body was already sent: the same', async (ctx) => {
  ctx.logged.length = 0;
  let closed: () => void = () => {};
  ctx.originClosed = new Promise((r) => (closed = r));
  const origin = await startRawOrigin((socket: Socket) => socket.once('close', () => closed()));
  const proxy = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(origin.port, { readTimeoutMs: 60_000 }), logging: (_s, e) => void ctx.logged.push(e) });
  try {
    await leaveAfter100ms(proxy.port, 'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', 'reset');
    await bounded(ctx.originClosed, 'the origin connection closed');
    await until(() => ctx.logged.length === 1, 'the logging phase');
    assert.is(ctx.logged[0]?.source, 'Downstream');
    assert.is(origin.connections, 1, 'not retried');
  } finally {
    await proxy.close();
    await origin.close();
  }
});

gone('h2 client resets its stream while an h2 origin has not answered: origin stream reset, Downstream error logged', async (ctx) => {
  ctx.logged.length = 0;
  const client = h2Client(ctx.h2Proxy.port);
  try {
    const req = client.request({ ':path': '/slow' });
    req.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    req.close(h2constants.NGHTTP2_CANCEL);
    assert.is(await bounded(ctx.h2StreamClosed, 'the origin stream reset'), h2constants.NGHTTP2_CANCEL);
    await until(() => ctx.logged.length === 1, 'the logging phase');
    assert.is(ctx.logged[0]?.source, 'Downstream');
  } finally {
    client.close();
  }
});

gone.run();
