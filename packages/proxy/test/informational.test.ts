// 1xx responses pass through the proxy as they arrive (RFC 9110 §15.2): the origin sends 103 Early
// Hints and holds its final response until the client has seen the hints, so a proxy that kept 1xx
// heads until the final one arrived would show them only after the origin's own fallback delay.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request as httpRequest } from 'node:http';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ProxyHttp } from '../src/index.js';
import { h2Client } from './helpers/h2.js';
import { peerOf, rawExchange, startOrigin, startProxy, startRawOrigin } from './helpers/net.js';
import type { Origin, RawOrigin, RunningProxy } from './helpers/net.js';

/** The origin's fallback: it answers after this long even when no client reported the hints. */
const FALLBACK_MS = 5000;

/** One pending final response per test: released by the client seeing the 103, or by the fallback. */
class Gate {
  finalSent = false;
  private release: (() => void) | undefined;
  wait(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, FALLBACK_MS);
      this.release = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  open(): void {
    this.release?.();
  }
}

interface Ctx {
  gate: Gate;
  origin: Origin;
  h2Origin: Http2Server;
  h2Port: number;
  raw: RawOrigin;
  h1: RunningProxy;
  h2Up: RunningProxy;
  rawProxy: RunningProxy;
}

const info = suite<Ctx>('1xx responses are forwarded as they arrive');
info.before(async (ctx) => {
  ctx.gate = new Gate();
  ctx.origin = await startOrigin(async (_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload' });
    await ctx.gate.wait();
    ctx.gate.finalSent = true;
    res.end('final');
  });
  ctx.h2Origin = createH2Server();
  ctx.h2Origin.on('stream', async (stream: ServerHttp2Stream) => {
    stream.additionalHeaders({ ':status': 103, link: '</h2.css>; rel=preload' });
    await ctx.gate.wait();
    ctx.gate.finalSent = true;
    stream.respond({ ':status': 200 });
    stream.end('final over h2');
  });
  await new Promise<void>((r) => ctx.h2Origin.listen(0, '127.0.0.1', r));
  ctx.h2Port = (ctx.h2Origin.address() as AddressInfo).port;
  // An origin that sends 100 Continue unasked, then 103, then the final response.
  ctx.raw = await startRawOrigin((socket) => {
    socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </raw.css>; rel=preload\r\n\r\n');
    setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), 50);
  });
  const to = (port: number, h2 = false): ProxyHttp<null> => ({ newCtx: () => null, upstreamPeer: () => peerOf(port, h2 ? { alpn: 'h2' } : {}) });
  ctx.h1 = await startProxy(to(ctx.origin.port), { h2c: true });
  ctx.h2Up = await startProxy(to(ctx.h2Port, true));
  ctx.rawProxy = await startProxy(to(ctx.raw.port));
});
info.after(async (ctx) => {
  ctx.gate.open();
  await Promise.all([ctx.h1.close(), ctx.h2Up.close(), ctx.rawProxy.close()]);
  await ctx.origin.close();
  await new Promise((r) => ctx.h2Origin.close(r));
  await ctx.raw.close();
});
info.before.each((ctx) => {
  ctx.gate.finalSent = false;
});

/** A Node http request through `port`: each 1xx it saw (and whether the origin's final response was out yet), then the final response. */
function h1Request(port: number, gate: Gate): Promise<{ hints: { status: number; link: string | undefined; finalSent: boolean }[]; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const hints: { status: number; link: string | undefined; finalSent: boolean }[] = [];
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ hints, status: res.statusCode ?? 0, body }));
    });
    req.on('information', (i) => {
      hints.push({ status: i.statusCode, link: i.headers.link as string | undefined, finalSent: gate.finalSent });
      gate.open();
    });
    req.on('error', reject);
    req.end();
  });
}

info('h1 to h1: 103 reaches a Node http client before the origin sends its final response', async ({ h1, gate }) => {
  const r = await h1Request(h1.port, gate);
  assert.equal(r.hints, [{ status: 103, link: '</style.css>; rel=preload', finalSent: false }]);
  assert.is(r.status, 200);
  assert.is(r.body, 'final');
});

info('h2 downstream: 103 reaches a node:http2 client before the final response', async ({ h1, gate }) => {
  const client = h2Client(h1.port);
  try {
    const r = await new Promise<{ hints: { status: unknown; link: unknown; finalSent: boolean }[]; status: unknown; body: string }>((resolve, reject) => {
      const hints: { status: unknown; link: unknown; finalSent: boolean }[] = [];
      const req = client.request({ ':path': '/' });
      let status: unknown;
      let body = '';
      req.on('headers', (h) => {
        hints.push({ status: h[':status'], link: h.link, finalSent: gate.finalSent });
        gate.open();
      });
      req.on('response', (h) => (status = h[':status']));
      req.setEncoding('latin1');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => resolve({ hints, status, body }));
      req.on('error', reject);
    });
    assert.equal(r.hints, [{ status: 103, link: '</style.css>; rel=preload', finalSent: false }]);
    assert.is(r.status, 200);
    assert.is(r.body, 'final');
  } finally {
    client.close();
  }
});

info('h2 upstream: a 103 on an HTTP/2 origin stream reaches an HTTP/1.1 client before the final response', async ({ h2Up, gate }) => {
  const r = await h1Request(h2Up.port, gate);
  assert.equal(r.hints, [{ status: 103, link: '</h2.css>; rel=preload', finalSent: false }]);
  assert.is(r.status, 200);
  assert.is(r.body, 'final over h2');
});

info('an upstream 100 Continue is not forwarded (our session answers Expect itself); the 103 is', async ({ rawProxy }) => {
  const out = await rawExchange(rawProxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 103 Early Hints\r\n[Ll]ink: <\/raw\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  assert.not.match(out, /100 Continue/);
});

info('an HTTP/1.0 client gets no 1xx (RFC 9110 §15.2), only the final response', async ({ rawProxy }) => {
  const out = await rawExchange(rawProxy.port, 'GET / HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(out, /^HTTP\/1\.[01] 200 OK\r\n/);
  assert.not.match(out, /103/);
});

info.run();
