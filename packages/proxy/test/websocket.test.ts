// WebSocket (HTTP/1.1 Upgrade, 101) through the proxy with the `ws` client and server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HttpPeer, type SluiceError } from '@sluice/core';
import { makeCert, type TestCert } from './helpers/h2.js';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { peerOf, rawExchange, request, startProxy } from './helpers/net.js';
import type { RunningProxy } from './helpers/net.js';

interface Ctx {
  http: Server;
  wss: WebSocketServer;
  port: number;
  proxy: RunningProxy;
}

type Message = { data: RawData; binary: boolean };
// Messages are queued from the start: a server may send in the same packet as its 101.
const inbox = new WeakMap<WebSocket, { queue: Message[]; wake: (() => void) | undefined }>();

function open(port: number, path = '/echo'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    const box: { queue: Message[]; wake: (() => void) | undefined } = { queue: [], wake: undefined };
    inbox.set(ws, box);
    ws.on('message', (data, binary) => {
      box.queue.push({ data, binary });
      box.wake?.();
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function next(ws: WebSocket): Promise<Message> {
  const box = inbox.get(ws)!;
  while (box.queue.length === 0) await new Promise<void>((r) => (box.wake = r));
  return box.queue.shift()!;
}

const wsSuite = suite<Ctx>('websocket through the proxy');
wsSuite.before(async (ctx) => {
  ctx.http = createServer((_req, res) => res.end('plain http'));
  ctx.wss = new WebSocketServer({ server: ctx.http });
  ctx.wss.on('connection', (ws, req) => {
    if (req.url === '/close') {
      ws.close(4001, 'custom reason');
      return;
    }
    if (req.url === '/fragments') {
      // One message sent as three frames (fin only on the last).
      ws.send('frag-', { fin: false });
      ws.send('ment-', { fin: false });
      ws.send('ed', { fin: true });
      return;
    }
    ws.on('message', (data, binary) => ws.send(data, { binary }));
    ws.on('close', (code, reason) => {
      if (code === 4002) ctx.wss.emit('client-closed', reason.toString());
    });
  });
  await new Promise<void>((r) => ctx.http.listen(0, '127.0.0.1', r));
  ctx.port = (ctx.http.address() as AddressInfo).port;
  ctx.proxy = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.port) });
});
wsSuite.after(async (ctx) => {
  await ctx.proxy.close();
  for (const c of ctx.wss.clients) c.terminate();
  ctx.wss.close();
  ctx.http.closeAllConnections();
  await new Promise((r) => ctx.http.close(r));
});

wsSuite('text and binary messages echo both ways', async (ctx) => {
  const ws = await open(ctx.proxy.port);
  ws.send('hello through sluice');
  const t = await next(ws);
  assert.is(t.binary, false);
  assert.is(t.data.toString(), 'hello through sluice');
  const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i & 0xff));
  ws.send(bytes);
  const b = await next(ws);
  assert.is(b.binary, true);
  assert.ok(Buffer.compare(b.data as Buffer, bytes) === 0, '70 kB binary message intact');
  ws.close();
});

wsSuite('fragmented message from the server arrives whole', async (ctx) => {
  const ws = await open(ctx.proxy.port, '/fragments');
  const m = await next(ws);
  assert.is(m.data.toString(), 'frag-ment-ed');
  ws.close();
});

wsSuite('fragmented message from the client arrives whole', async (ctx) => {
  const ws = await open(ctx.proxy.port);
  ws.send('one-', { fin: false });
  ws.send('two-', { fin: false });
  ws.send('three', { fin: true });
  assert.is((await next(ws)).data.toString(), 'one-two-three');
  ws.close();
});

wsSuite('close codes and reasons pass both ways', async (ctx) => {
  const ws = await open(ctx.proxy.port, '/close');
  const [code, reason] = await new Promise<[number, string]>((resolve) => ws.once('close', (c, r) => resolve([c, r.toString()])));
  assert.is(code, 4001);
  assert.is(reason, 'custom reason');
  const ws2 = await open(ctx.proxy.port);
  const seen = new Promise<string>((resolve) => ctx.wss.once('client-closed', resolve));
  ws2.close(4002, 'bye from client');
  assert.is(await seen, 'bye from client');
});

wsSuite('many messages in flight keep their order', async (ctx) => {
  const ws = await open(ctx.proxy.port);
  const got: string[] = [];
  for (let i = 0; i < 500; i++) ws.send(String(i));
  for (let i = 0; i < 500; i++) got.push((await next(ws)).data.toString());
  assert.equal(got, Array.from({ length: 500 }, (_, i) => String(i)));
  ws.close();
});

wsSuite('a plain request still works beside upgrades; a refused upgrade gets its answer', async (ctx) => {
  const out = await rawExchange(ctx.proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  // ws refuses a handshake without Sec-WebSocket-Key with 400; the proxy passes it on and closes.
  assert.match(out, /^HTTP\/1\.1 400 /);
});

wsSuite.run();

// A TLS origin offering h2 and http/1.1 by ALPN (node:http2 with allowHTTP1) with a WebSocket
// server on its HTTP/1.1 side: a peer with alpn 'h2h1' would be spoken to over HTTP/2, which has no
// Upgrade, so the proxy sends upgrades to it over HTTP/1.1.
interface H2Ctx {
  cert: TestCert;
  origin: Http2SecureServer;
  wss: WebSocketServer;
  port: number;
  seen: string[];
  logged: (SluiceError | undefined)[];
  h2h1: RunningProxy;
  h2only: RunningProxy;
}

const overH2 = suite<H2Ctx>('websocket to a peer whose ALPN policy prefers HTTP/2');
overH2.before(async (ctx) => {
  ctx.cert = makeCert();
  ctx.seen = [];
  ctx.logged = [];
  ctx.origin = createSecureServer({ cert: ctx.cert.cert, key: ctx.cert.key, allowHTTP1: true }, (req, res) => {
    ctx.seen.push(req.httpVersion);
    res.end(`plain over ${req.httpVersion}`);
  });
  ctx.wss = new WebSocketServer({ server: ctx.origin as unknown as Server });
  ctx.wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  await new Promise<void>((r) => ctx.origin.listen(0, '127.0.0.1', r));
  ctx.port = (ctx.origin.address() as AddressInfo).port;
  const peer = (alpn: 'h2h1' | 'h2') => new HttpPeer(`127.0.0.1:${ctx.port}`, true, 'localhost', { alpn, ca: ctx.cert.cert });
  const logging = (_s: unknown, e: SluiceError | undefined) => void ctx.logged.push(e);
  ctx.h2h1 = await startProxy({ newCtx: () => null, upstreamPeer: () => peer('h2h1'), logging });
  ctx.h2only = await startProxy({ newCtx: () => null, upstreamPeer: () => peer('h2'), logging });
});
overH2.after(async (ctx) => {
  await Promise.all([ctx.h2h1.close(), ctx.h2only.close()]);
  for (const c of ctx.wss.clients) c.terminate();
  ctx.wss.close();
  await new Promise((r) => ctx.origin.close(r));
});

overH2('h2h1 peer: a plain request goes over HTTP/2, a WebSocket over HTTP/1.1 and echoes', async (ctx) => {
  const plain = await request(ctx.h2h1.port);
  assert.is(plain.body.toString(), 'plain over 2.0');
  const ws = await open(ctx.h2h1.port);
  ws.send('over h1 to an h2h1 peer');
  assert.is((await next(ws)).data.toString(), 'over h1 to an h2h1 peer');
  ws.close();
  // Plain requests still go over HTTP/2 afterwards.
  assert.is((await request(ctx.h2h1.port)).body.toString(), 'plain over 2.0');
});

overH2('h2-only peer: an upgrade is refused with 502 and a typed error, not sent as a plain request', async (ctx) => {
  ctx.logged.length = 0;
  const before = ctx.seen.length;
  const out = await rawExchange(ctx.h2only.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 502 /);
  assert.is(ctx.seen.length, before, 'the origin saw nothing');
  assert.is(ctx.logged[0]?.code, 'ERR_PROXY_UPGRADE_TO_H2_PEER');
});

overH2.run();
