// Upstream HTTP/2 chosen by the peer's ALPN policy: h2c prior knowledge ('h2' in cleartext), TLS with
// 'h2' or 'h2h1' (falling back to HTTP/1.1 when the origin picks it); shared connections; GOAWAY.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent } from 'node:http';
import { constants } from 'node:http2';
import { HttpPeer } from '@sluice/core';
import { closedPort, curl, peerOf, request, startProxy } from './helpers/net.js';
import type { RunningProxy } from './helpers/net.js';
import { h2Client, h2Request, makeCert, startH2Origin, startTlsProxy, type H2Origin, type TestCert } from './helpers/h2.js';

interface Ctx {
  cert: TestCert;
  h2c: H2Origin;
  h2tls: H2Origin;
  h1tls: HttpsServer;
  seen: Array<{ authority: string | undefined; host: string | undefined; te: string | undefined; connection: string | undefined; version: string; via: string | undefined }>;
  proxies: RunningProxy[];
}

const up = suite<Ctx>('HTTP/2 upstream');
up.before(async (ctx) => {
  ctx.seen = [];
  ctx.proxies = [];
  ctx.cert = makeCert();
  const handler = (req: import('node:http2').Http2ServerRequest, res: import('node:http2').Http2ServerResponse): void => {
    ctx.seen.push({ authority: req.headers[':authority'], host: req.headers.host, te: req.headers.te as string | undefined, connection: req.headers.connection as string | undefined, version: req.httpVersion, via: req.headers.via as string | undefined });
    const path = req.url;
    if (path === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.addTrailers({ 'x-status': 'done' });
      res.end('streamed without a length');
      return;
    }
    if (path === '/head-only') {
      res.stream.respond({ ':status': 204 }, { endStream: true });
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      res.setHeader('x-alpn', req.httpVersion);
      res.setHeader('x-request-trailer', String(req.trailers?.['x-sum'] ?? ''));
      res.end(`${req.method} ${path} ${body.length} via ${req.httpVersion}`);
    });
  };
  ctx.h2c = await startH2Origin(handler);
  ctx.h2tls = await startH2Origin(handler, ctx.cert, true);
  ctx.h1tls = createHttpsServer({ cert: ctx.cert.cert, key: ctx.cert.key }, (req, res) => res.end(`h1 origin ${req.httpVersion} ${req.socket.constructor.name}`));
  await new Promise<void>((r) => ctx.h1tls.listen(0, '127.0.0.1', r));
});
up.after(async (ctx) => {
  for (const p of ctx.proxies) await p.close();
  await ctx.h2c.close();
  await ctx.h2tls.close();
  ctx.h1tls.closeAllConnections();
  await new Promise((r) => ctx.h1tls.close(r));
});

up('HTTP/1.1 client to an h2c origin: Host becomes :authority, hop-by-hop fields dropped, unknown length goes chunked with trailers', async (ctx) => {
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.h2c.port, { alpn: 'h2' }) }, { via: 'sluice' });
  ctx.proxies.push(p);
  const r = await request(p.port, { method: 'POST', path: '/x?y', headers: { host: 'example.test', connection: 'keep-alive, x-private', 'x-private': 'secret', te: 'trailers', 'transfer-encoding': 'chunked' }, body: 'hello' });
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'POST /x?y 5 via 2.0');
  const seen = ctx.seen[ctx.seen.length - 1];
  assert.is(seen.authority, 'example.test');
  assert.is(seen.host, undefined, 'no Host field on h2');
  assert.is(seen.te, 'trailers', 'te: trailers passes');
  assert.is(seen.via, '1.1 sluice', 'Via names the protocol received from the client');
  assert.is(r.headers.via, '2 sluice', 'and the one received from the origin');
  const t = await request(p.port, { path: '/trailers' });
  assert.is(t.headers['transfer-encoding'], 'chunked');
  assert.is(t.body.toString(), 'streamed without a length');
  assert.is(t.trailers['x-status'], 'done');
  const empty = await request(p.port, { path: '/head-only' });
  assert.is(empty.status, 204);
  assert.is(empty.body.length, 0);
});

up('h2 to h2: request trailers, 40 concurrent streams sharing one upstream connection', async (ctx) => {
  const before = ctx.h2c.sessions.length;
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.h2c.port, { alpn: 'h2' }) }, { h2c: true });
  ctx.proxies.push(p);
  const client = h2Client(p.port);
  try {
    const t = await h2Request(client, { ':method': 'POST', ':path': '/t' }, 'abc', { 'x-sum': '7' });
    assert.is(t.headers['x-request-trailer'], '7');
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => h2Request(client, { ':method': 'POST', ':path': `/c${i}` }, Buffer.alloc(i * 500, 'q'))));
    for (let i = 0; i < 40; i++) assert.is(replies[i].body.toString(), `POST /c${i} ${i * 500} via 2.0`);
    const trailers = await h2Request(client, { ':path': '/trailers' });
    assert.is(trailers.trailers['x-status'], 'done');
  } finally {
    client.close();
  }
  assert.is(ctx.h2c.sessions.length - before, 1, 'one upstream connection carried every stream');
});

up("TLS peers: 'h2' and 'h2h1' speak h2 to an origin offering it; 'h2h1' falls back to HTTP/1.1 when the origin only has it", async (ctx) => {
  const tlsPeer = (port: number, alpn: 'h2' | 'h2h1' | 'h1') => new HttpPeer(`127.0.0.1:${port}`, true, 'localhost', { ca: ctx.cert.cert, alpn });
  const agent = new Agent({ keepAlive: false });
  for (const alpn of ['h2', 'h2h1', 'h1'] as const) {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => tlsPeer(ctx.h2tls.port, alpn) });
    ctx.proxies.push(p);
    const r = await request(p.port, { path: `/${alpn}`, agent });
    assert.is(r.body.toString(), `GET /${alpn} 0 via ${alpn === 'h1' ? '1.1' : '2.0'}`, alpn);
  }
  const fallback = await startProxy({ newCtx: () => null, upstreamPeer: () => tlsPeer((ctx.h1tls.address() as AddressInfo).port, 'h2h1') });
  ctx.proxies.push(fallback);
  for (let i = 0; i < 2; i++) {
    const r = await request(fallback.port, { path: '/fb', agent });
    assert.is(r.status, 200);
    assert.match(r.body.toString(), /^h1 origin 1\.1 TLSSocket/);
  }
  const strict = await startProxy({ newCtx: () => null, upstreamPeer: () => tlsPeer((ctx.h1tls.address() as AddressInfo).port, 'h2') });
  ctx.proxies.push(strict);
  assert.is((await request(strict.port, { path: '/strict', agent })).status, 502, "'h2' to an origin without h2 fails to connect");
});

up('curl --http2-prior-knowledge and curl --http2 over TLS through the proxy to an h2 origin', async (ctx) => {
  const proxy = { newCtx: () => null, upstreamPeer: () => peerOf(ctx.h2c.port, { alpn: 'h2' as const }) };
  const h2c = await startProxy(proxy, { h2c: true });
  ctx.proxies.push(h2c);
  const a = await curl(['-i', '--http2-prior-knowledge', '--data-binary', 'h2c body', `http://127.0.0.1:${h2c.port}/pk`]);
  assert.match(a.stdout, /^HTTP\/2 200/);
  assert.match(a.stdout, /POST \/pk 8 via 2\.0$/);
  const tls = await startTlsProxy(proxy, ctx.cert);
  ctx.proxies.push(tls);
  const port = tls.port;
  const b = await curl(['-i', '--http2', '--cacert', ctx.cert.certFile, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/tls`]);
  assert.match(b.stdout, /^HTTP\/2 200/);
  assert.match(b.stdout, /GET \/tls 0 via 2\.0$/);
  assert.is(ctx.seen[ctx.seen.length - 1].authority, `localhost:${port}`);
  const t = await curl(['--http2', '--cacert', ctx.cert.certFile, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/trailers`, '-w', '%{http_version}']);
  assert.is(t.stdout, 'streamed without a length2');
});

up('an h2 upstream that does not answer within readTimeoutMs is a 504; a refused h2 connect is a 502', async (ctx) => {
  const silent = await startH2Origin(() => {});
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(silent.port, { alpn: 'h2', readTimeoutMs: 200 }) }, { h2c: true });
    ctx.proxies.push(p);
    const client = h2Client(p.port);
    try {
      const r = await h2Request(client, { ':path': '/slow' });
      assert.is(r.headers[':status'], 504);
    } finally {
      client.close();
    }
    const stall = await startH2Origin((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('first part, then nothing');
    });
    const slowBody = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(stall.port, { alpn: 'h2', readTimeoutMs: 200 }) });
    ctx.proxies.push(slowBody);
    const cut = await request(slowBody.port, { path: '/stall' }).then(
      (r) => `complete ${r.body.length}`,
      (e: Error) => `failed ${e.message}`,
    );
    assert.match(cut, /^failed/, 'a body that stalls past readTimeoutMs cuts the downstream response');
    await stall.close();
    const port = await closedPort();
    const refused = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(port, { alpn: 'h2' }) });
    ctx.proxies.push(refused);
    assert.is((await request(refused.port, { path: '/refused' })).status, 502);
  } finally {
    await silent.close();
  }
});

up('h2 both ways: 8 MiB echoed through the proxy with flow control on both legs, bytes intact', async (ctx) => {
  const { createHash } = await import('node:crypto');
  const echo = await startH2Origin((req, res) => {
    res.writeHead(200);
    req.pipe(res);
  });
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(echo.port, { alpn: 'h2' }) }, { h2c: true });
    ctx.proxies.push(p);
    const body = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const client = h2Client(p.port);
    try {
      const r = await h2Request(client, { ':method': 'POST', ':path': '/echo' }, body);
      assert.is(r.body.length, body.length);
      assert.is(createHash('sha256').update(r.body).digest('hex'), createHash('sha256').update(body).digest('hex'));
    } finally {
      client.close();
    }
  } finally {
    await echo.close();
  }
});

up('GOAWAY from the upstream during traffic: a stream it did not process is retried on a fresh connection', async (ctx) => {
  let served = 0;
  const origin = await startH2Origin((req, res) => {
    served++;
    // The first connection answers one request, then says GOAWAY with last stream 1: streams
    // opened after it were not processed (RFC 9113 §6.8).
    if (served === 2 && origin.sessions.length === 1) {
      req.stream.session?.goaway(constants.NGHTTP2_NO_ERROR, 1);
      return;
    }
    res.end(`answered on connection ${origin.sessions.length}`);
  });
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(origin.port, { alpn: 'h2' }) });
    ctx.proxies.push(p);
    const first = await request(p.port, { path: '/1' });
    assert.is(first.body.toString(), 'answered on connection 1');
    const second = await request(p.port, { method: 'POST', path: '/2', body: 'not idempotent, but never processed' });
    assert.is(second.status, 200);
    assert.is(second.body.toString(), 'answered on connection 2');
    assert.is(origin.sessions.length, 2);
  } finally {
    await origin.close();
  }
});

up('an upstream that resets the stream mid-response aborts the downstream response', async (ctx) => {
  void ctx;
  const origin = await startH2Origin((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('only part');
    setTimeout(() => res.stream.close(constants.NGHTTP2_INTERNAL_ERROR), 50);
  });
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(origin.port, { alpn: 'h2' }) }, { h2c: true });
    ctx.proxies.push(p);
    const client = h2Client(p.port);
    try {
      await h2Request(client, { ':path': '/cut' }).then(
        () => assert.unreachable('the response must not look complete'),
        (e: Error) => assert.match(String((e as NodeJS.ErrnoException).code ?? e.message), /ERR_HTTP2_STREAM_ERROR|ERR_HTTP2/),
      );
    } finally {
      client.close();
    }
  } finally {
    await origin.close();
  }
});

up('an h2 connection opened because the open one is at its stream limit is reported new, not reused', async (ctx) => {
  // The origin allows one stream per connection and holds each response until it is told to answer.
  const waiting: Array<() => void> = [];
  let arrived: () => void = () => {};
  const origin = await startH2Origin(
    (req, res) => {
      waiting.push(() => res.end(`${req.url} on ${origin.sessions.indexOf(req.stream.session as import('node:http2').ServerHttp2Session)}`));
      arrived();
    },
    undefined,
    false,
    { maxConcurrentStreams: 1 },
  );
  const reusedSeen: boolean[] = [];
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(origin.port, { alpn: 'h2' }), connectedToUpstream: (_s, reused) => void reusedSeen.push(reused) });
    ctx.proxies.push(p);
    const agent = new Agent({ keepAlive: true });
    const nextArrival = () => new Promise<void>((r) => (arrived = r));
    let seen = nextArrival();
    const first = request(p.port, { path: '/first', agent });
    await seen; // its connection is open and its one stream taken
    seen = nextArrival();
    const second = request(p.port, { path: '/second', agent });
    await seen;
    for (const answer of waiting.splice(0)) answer();
    assert.is((await first).body.toString(), '/first on 0');
    assert.is((await second).body.toString(), '/second on 1', 'the second request needed a second connection');
    assert.equal(reusedSeen, [false, false], 'a connection opened because the other was full is new');
    seen = nextArrival();
    const third = request(p.port, { path: '/third', agent });
    await seen;
    for (const answer of waiting.splice(0)) answer();
    assert.match((await third).body.toString(), /^\/third on [01]$/);
    assert.equal(reusedSeen, [false, false, true], 'a free stream on an open connection is reused');
    agent.destroy();
  } finally {
    await origin.close();
  }
});

up("an 'h2h1' peer whose origin picks http/1.1 goes on with the same peer: upstreamPeer runs once per request, no retry spent", async (ctx) => {
  const port = (ctx.h1tls.address() as AddressInfo).port;
  let picks = 0;
  const errors: string[] = [];
  const p = await startProxy(
    {
      newCtx: () => null,
      upstreamPeer: () => {
        picks++;
        return new HttpPeer(`127.0.0.1:${port}`, true, 'localhost', { ca: ctx.cert.cert, alpn: 'h2h1' });
      },
      errorWhileProxy: (_peer, _s, e) => (errors.push(e.message), e),
    },
    { maxRetries: 0 },
  );
  ctx.proxies.push(p);
  const agent = new Agent({ keepAlive: false });
  const r = await request(p.port, { path: '/once', agent });
  assert.is(r.status, 200);
  assert.match(r.body.toString(), /^h1 origin 1\.1 TLSSocket/);
  assert.is(picks, 1, 'the ALPN fallback does not pick the peer again');
  const again = await request(p.port, { path: '/remembered', agent });
  assert.is(again.status, 200);
  assert.is(picks, 2, 'the next request picks once and goes to HTTP/1.1 directly');
  assert.equal(errors, []);
});

up.run();
