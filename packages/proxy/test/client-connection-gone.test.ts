// An HTTP/2 client whose whole connection goes away (FIN or reset) while its streams wait for the
// upstream: the proxy closes its side of the socket (never left in CLOSE-WAIT), every stream's
// upstream exchange ends at once and is logged as a Downstream error, whichever phase the streams
// were in: waiting for the origin's response head, for the peer to be chosen, or for the upstream
// connection to open (a TLS handshake the origin never answers). An HTTP/1.1 client leaving during
// that connect likewise ends its request at once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as h2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { HttpPeer, type SluiceError } from '@sluice/core';
import type { ProxyHttp } from '../src/index.js';
import { makeCert, startTlsProxy, type TestCert } from './helpers/h2.js';
import { peerOf, startProxy, type RunningProxy } from './helpers/net.js';

/** Generous bound on "at once": far below the connect (10 s) and read (60 s) timeouts. */
const PROMPT_MS = 5000;
const STREAMS = 8;

interface Ctx {
  cert: TestCert;
  /** Accepts connections and never says a word. */
  origin: Server;
  originPort: number;
  /** The origin's connections still open. */
  originOpen: Set<Socket>;
  originAccepted: number;
  /** The origin's connections in the order accepted. */
  originSockets: Socket[];
  logged: (SluiceError | undefined)[];
}

const gone = suite<Ctx>('a client connection gone with requests in flight');
gone.before(async (ctx) => {
  ctx.cert = makeCert();
  ctx.logged = [];
  ctx.originOpen = new Set();
  ctx.originAccepted = 0;
  ctx.originSockets = [];
  ctx.origin = createNetServer((socket) => {
    ctx.originAccepted++;
    ctx.originSockets.push(socket);
    ctx.originOpen.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => ctx.originOpen.delete(socket));
    socket.resume(); // reads (and drops) what comes, so it sees the proxy's FIN
  });
  await new Promise<void>((r) => ctx.origin.listen(0, '127.0.0.1', r));
  ctx.originPort = (ctx.origin.address() as AddressInfo).port;
});
gone.after(async (ctx) => {
  for (const socket of ctx.originOpen) socket.destroy();
  await new Promise((r) => ctx.origin.close(r));
});

async function until(check: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > PROMPT_MS) throw new Error(`${what} not within ${PROMPT_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Opens STREAMS requests with a node:http2 client (h2c, or TLS when `cert` is given), waits until
 * `ready`, then closes the TCP connection under it as `how` says. Resolves when the socket closed:
 * after a FIN that takes the proxy closing its side too (a half-closed socket waits for its peer's FIN).
 */
async function openAndLeave(port: number, ready: () => boolean, how: 'end' | 'reset', cert?: TestCert): Promise<void> {
  const tcp = netConnect(port, '127.0.0.1');
  tcp.on('error', () => {});
  const socket: Socket = cert === undefined ? tcp : tlsConnect({ socket: tcp, servername: 'localhost', ca: cert.cert, ALPNProtocols: ['h2'] });
  socket.on('error', () => {});
  const session: ClientHttp2Session = h2Connect(`${cert === undefined ? 'http' : 'https'}://127.0.0.1:${port}`, { createConnection: () => socket });
  session.on('error', () => {});
  await new Promise<void>((r, j) => session.once('connect', () => r()).once('error', j));
  for (let i = 0; i < STREAMS; i++) session.request({ ':path': `/slow/${i}` }).on('error', () => {});
  await until(ready, 'the streams under way');
  const closed = new Promise<void>((r) => tcp.once('close', () => r()));
  if (how === 'end') socket.end();
  else tcp.resetAndDestroy();
  await Promise.race([closed, until(() => false, 'the proxy closing its side of the client connection')]);
}

function proxyOf(ctx: Ctx, pickPeer: () => HttpPeer | Promise<HttpPeer>): ProxyHttp<null> {
  return { newCtx: () => null, upstreamPeer: pickPeer, logging: (_s, error) => void ctx.logged.push(error) };
}

/** Every stream logged as a Downstream error, every origin connection closed, none opened since. */
async function expectAllCancelled(ctx: Ctx): Promise<void> {
  await until(() => ctx.logged.length === STREAMS, `the logging phase of all ${STREAMS} streams`);
  for (const error of ctx.logged) assert.is(error?.source, 'Downstream', error?.message);
  await until(() => ctx.originOpen.size === 0, `every origin connection closed (${ctx.originOpen.size} open, ${ctx.originAccepted} accepted)`);
  const accepted = ctx.originAccepted;
  await new Promise((r) => setTimeout(r, 200));
  assert.is(ctx.originAccepted, accepted, 'no retry for a client gone');
}

const plainPeer = (ctx: Ctx) => () => peerOf(ctx.originPort, { readTimeoutMs: 60_000 });

for (const how of ['end', 'reset'] as const) {
  for (const tls of [false, true]) {
    gone(`${tls ? 'TLS' : 'h2c'} client ${how === 'end' ? 'closes (FIN)' : 'resets (RST)'} while ${STREAMS} streams wait for the origin's response head`, async (ctx) => {
      ctx.logged.length = 0;
      const proxy: RunningProxy = tls ? await startTlsProxy(proxyOf(ctx, plainPeer(ctx)), ctx.cert) : await startProxy(proxyOf(ctx, plainPeer(ctx)), { h2c: true });
      try {
        const before = ctx.originAccepted;
        await openAndLeave(proxy.port, () => ctx.originAccepted - before === STREAMS, how, tls ? ctx.cert : undefined);
        await expectAllCancelled(ctx);
      } finally {
        await proxy.close();
      }
    });
  }
}

gone('client leaves while upstreamPeer is still choosing: the connections made for it are closed', async (ctx) => {
  ctx.logged.length = 0;
  let asked = 0;
  const slowPick = () => new Promise<HttpPeer>((r) => (asked++, setTimeout(() => r(peerOf(ctx.originPort, { readTimeoutMs: 60_000 })), 300)));
  const proxy = await startProxy(proxyOf(ctx, slowPick), { h2c: true });
  try {
    await openAndLeave(proxy.port, () => asked === STREAMS, 'end');
    await expectAllCancelled(ctx);
  } finally {
    await proxy.close();
  }
});

for (const upstreamH2 of [false, true]) {
  gone(`client leaves while the upstream ${upstreamH2 ? 'HTTP/2 ' : ''}connection is still opening (a TLS handshake never answered): the wait ends at once`, async (ctx) => {
    ctx.logged.length = 0;
    const peer = new HttpPeer(`127.0.0.1:${ctx.originPort}`, true, 'localhost', { readTimeoutMs: 60_000, alpn: upstreamH2 ? 'h2' : undefined });
    const proxy = await startProxy(proxyOf(ctx, () => peer), { h2c: true });
    try {
      const before = ctx.originAccepted;
      // HTTP/2 streams share the one connection being opened.
      await openAndLeave(proxy.port, () => ctx.originAccepted - before === (upstreamH2 ? 1 : STREAMS), 'end');
      await until(() => ctx.logged.length === STREAMS, `the logging phase of all ${STREAMS} streams`);
      for (const error of ctx.logged) assert.is(error?.source, 'Downstream', error?.message);
      // Each HTTP/1.1 connect was the stream's own and is abandoned; the shared HTTP/2 one is left to its bound.
      if (!upstreamH2) await until(() => ctx.originSockets.slice(before).every((s) => !ctx.originOpen.has(s)), 'the abandoned connects closed');
    } finally {
      await proxy.close();
    }
  });
}

gone('HTTP/1.1 client closes (FIN) while its upstream connection is still opening: the connect is abandoned at once, nothing is retried', async (ctx) => {
  ctx.logged.length = 0;
  const peer = new HttpPeer(`127.0.0.1:${ctx.originPort}`, true, 'localhost', { readTimeoutMs: 60_000, totalConnectionTimeoutMs: 60_000 });
  const proxy = await startProxy(proxyOf(ctx, () => peer));
  try {
    const before = ctx.originAccepted;
    const client = netConnect(proxy.port, '127.0.0.1');
    client.on('error', () => {});
    client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => ctx.originAccepted - before === 1, 'the upstream connect under way');
    client.end();
    await until(() => ctx.logged.length === 1, 'the logging phase');
    assert.is(ctx.logged[0]?.source, 'Downstream', ctx.logged[0]?.message);
    const attempt = ctx.originSockets[before];
    await until(() => !ctx.originOpen.has(attempt), 'the abandoned connect closed');
    await new Promise((r) => setTimeout(r, 200));
    assert.is(ctx.originAccepted - before, 1, 'no retry for a client gone');
  } finally {
    await proxy.close();
  }
});

gone.run();
