// WebSocket (HTTP/1.1 Upgrade, 101) through the proxy with the `ws` client and server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { peerOf, rawExchange, startProxy } from './helpers/net.js';
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
