// HTTP/2 clients through the proxy (h2c prior knowledge, TLS with ALPN h2 and its HTTP/1.1 fallback)
// to HTTP/1.1 origins: the same phases run, and the fields are converted both ways (RFC 9113 §8).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import type { ResponseHeader } from '@sluice/core';
import type { Session } from '../src/index.js';
import { curl, peerOf, request, startOrigin, startProxy } from './helpers/net.js';
import type { Origin, RunningProxy } from './helpers/net.js';
import { h2Client, h2Request, makeCert, startTlsProxy, type TestCert } from './helpers/h2.js';

interface Ctx {
  origin: Origin;
  proxy: RunningProxy;
  tlsProxy: RunningProxy;
  cert: TestCert;
  seen: Array<{ version: string; host: string | undefined; te: string | undefined; connection: string | undefined }>;
  phases: string[];
}

/** The proxy used by every case: marks the protocol the session saw, records phases. */
function proxyFor(ctx: Ctx) {
  return {
    newCtx: () => null,
    upstreamPeer: () => peerOf(ctx.origin.port),
    requestFilter(session: Session) {
      ctx.phases.push(`request ${session.isHttp2() ? 'h2' : 'h1'} ${session.request.headers.get('host')}`);
      return false;
    },
    responseFilter(session: Session, res: ResponseHeader) {
      res.insertHeader('x-downstream', session.isHttp2() ? 'h2' : 'h1');
    },
    logging(session: Session) {
      ctx.phases.push(`logging ${session.bodyBytesSent()}`);
    },
  };
}

const down = suite<Ctx>('HTTP/2 downstream to HTTP/1.1 origins');
down.before(async (ctx) => {
  ctx.seen = [];
  ctx.phases = [];
  ctx.cert = makeCert();
  ctx.origin = await startOrigin((req, res) => {
    ctx.seen.push({ version: req.httpVersion, host: req.headers.host, te: req.headers.te as string | undefined, connection: req.headers.connection });
    const url = req.url ?? '/';
    if (url === '/204') return res.writeHead(204).end();
    if (url === '/304') return res.writeHead(304, { etag: '"x"' }).end();
    if (url === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('part one, ');
      res.addTrailers({ 'x-checksum': 'abc123' });
      return res.end('part two');
    }
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      res.setHeader('x-request-trailer', String(req.trailers['x-sum'] ?? ''));
      res.end(`${req.method} ${url} ${body.length} ${body.subarray(0, 8).toString()}`);
    });
  });
  ctx.proxy = await startProxy(proxyFor(ctx), { h2c: true });
  // TLS: ALPN offers h2 then http/1.1 (alpnH2); HTTP/1.1 clients are served by the HTTP/1 session.
  ctx.tlsProxy = await startTlsProxy(proxyFor(ctx), ctx.cert);
});
down.after(async (ctx) => {
  await ctx.proxy.close();
  await ctx.tlsProxy.close();
  await ctx.origin.close();
});

down('curl --http2-prior-knowledge: GET and POST reach the HTTP/1.1 origin with :authority as Host', async (ctx) => {
  const url = `http://127.0.0.1:${ctx.proxy.port}`;
  const get = await curl(['-i', '--http2-prior-knowledge', `${url}/a?b=1`]);
  assert.match(get.stdout, /^HTTP\/2 200/);
  assert.match(get.stdout, /x-downstream: h2/);
  assert.match(get.stdout, /GET \/a\?b=1 0 $/);
  const seen = ctx.seen[ctx.seen.length - 1];
  assert.is(seen.version, '1.1');
  assert.is(seen.host, `127.0.0.1:${ctx.proxy.port}`);
  const post = await curl(['--http2-prior-knowledge', '--data-binary', 'x'.repeat(100_000), `${url}/up`]);
  assert.is(post.stdout, 'POST /up 100000 xxxxxxxx');
  assert.ok(ctx.phases.includes(`request h2 127.0.0.1:${ctx.proxy.port}`), 'requestFilter saw an HTTP/2 session with Host from :authority');
});

down('the h2c endpoint still serves HTTP/1.1 clients', async (ctx) => {
  const r = await request(ctx.proxy.port, { path: '/h1' });
  assert.is(r.status, 200);
  assert.is(r.headers['x-downstream'], 'h1');
  assert.is(r.body.toString(), 'GET /h1 0 ');
});

down('h2c detection: the preface split into one-byte writes is still HTTP/2, a request line split the same way HTTP/1.1', async (ctx) => {
  const { connect } = await import('node:net');
  const { encodeHeaders, HpackEncoder } = await import('@sluice/http2');
  const send = async (bytes: Buffer): Promise<string> => {
    const socket = connect(ctx.proxy.port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((r) => socket.once('connect', r));
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    for (let i = 0; i < 4; i++) {
      socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 10));
    }
    socket.write(bytes.subarray(4));
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    return got.toString('latin1');
  };
  const block = new HpackEncoder().encode([':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', '/split']);
  const h2 = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), encodeHeaders(1, block, { endStream: true })]);
  const answer = await send(h2);
  assert.ok(answer.length > 9 && answer.charCodeAt(3) === 4, 'the proxy answered with HTTP/2 frames (SETTINGS first)');
  assert.match(answer, /GET \/split 0 /);
  const h1 = await send(Buffer.from('GET /split1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'));
  assert.match(h1, /^HTTP\/1\.1 200/);
});

down('node:http2 client: 30 concurrent streams with bodies on one connection', async (ctx) => {
  const client = h2Client(ctx.proxy.port);
  try {
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => h2Request(client, { ':method': 'POST', ':path': `/s${i}` }, Buffer.alloc(1000 * (i + 1), 'y'))));
    for (let i = 0; i < 30; i++) {
      assert.is(replies[i].headers[':status'], 200);
      assert.is(replies[i].body.toString(), `POST /s${i} ${1000 * (i + 1)} yyyyyyyy`);
    }
  } finally {
    client.close();
  }
});

down('trailers both ways: h2 request trailers reach a chunked HTTP/1.1 upload, chunked response trailers reach the h2 client', async (ctx) => {
  const client = h2Client(ctx.proxy.port);
  try {
    const up = await h2Request(client, { ':method': 'POST', ':path': '/with-trailer' }, 'body', { 'x-sum': '42' });
    assert.is(up.headers['x-request-trailer'], '42');
    const r = await h2Request(client, { ':path': '/trailers' });
    assert.is(r.body.toString(), 'part one, part two');
    assert.is(r.trailers['x-checksum'], 'abc123');
    assert.not.ok('trailer' in r.headers, 'the connection-specific Trailer field is not sent on h2');
  } finally {
    client.close();
  }
});

down('HEAD, 204 and 304 end at the response head, without DATA', async (ctx) => {
  const client = h2Client(ctx.proxy.port);
  try {
    for (const [method, path, status] of [['HEAD', '/head', 200], ['GET', '/204', 204], ['GET', '/304', 304]] as const) {
      const r = await h2Request(client, { ':method': method, ':path': path });
      assert.is(r.headers[':status'], status, path);
      assert.is(r.body.length, 0, path);
    }
  } finally {
    client.close();
  }
});

down('TLS with ALPN: curl --http2 gets HTTP/2, curl --http1.1 falls back to the HTTP/1 session', async (ctx) => {
  const base = ['--cacert', ctx.cert.certFile, '--resolve', `localhost:${ctx.tlsProxy.port}:127.0.0.1`];
  const h2 = await curl([...base, '-i', '--http2', `https://localhost:${ctx.tlsProxy.port}/tls`]);
  assert.match(h2.stdout, /^HTTP\/2 200/);
  assert.match(h2.stdout, /x-downstream: h2/);
  assert.match(h2.stdout, /GET \/tls 0 $/);
  const h1 = await curl([...base, '-i', '--http1.1', `https://localhost:${ctx.tlsProxy.port}/tls1`]);
  assert.match(h1.stdout, /^HTTP\/1\.1 200/);
  assert.match(h1.stdout, /x-downstream: h1/);
  const post = await curl([...base, '--http2', '--data-binary', '@-', `https://localhost:${ctx.tlsProxy.port}/big`], Buffer.alloc(300_000, 'z'));
  assert.is(post.stdout, 'POST /big 300000 zzzzzzzz');
});

down('nghttp: h2c prior knowledge, several requests at once', async (ctx) => {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('nghttp', ['-n', '-s', `http://127.0.0.1:${ctx.proxy.port}/n1`, `http://127.0.0.1:${ctx.proxy.port}/n2`, `http://127.0.0.1:${ctx.proxy.port}/n3`]);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`nghttp exited ${code}: ${text}`))));
  });
  assert.is((out.match(/\s200\s/g) ?? []).length, 3, out);
});

down('a request the proxy refuses (CONNECT) is answered on its stream; the connection keeps serving', async (ctx) => {
  const client = h2Client(ctx.proxy.port);
  try {
    const refused = await h2Request(client, { ':method': 'CONNECT', ':authority': 'example.org:443' });
    assert.is(refused.headers[':status'], 405);
    const ok = await h2Request(client, { ':path': '/after' });
    assert.is(ok.headers[':status'], 200);
  } finally {
    client.close();
  }
});

down('a client that resets its stream while the upstream has not answered cancels the upstream request, and the request is logged', async () => {
  const { createServer } = await import('node:http');
  let cut = 0;
  let logged = 0;
  let requests = 0;
  // The origin takes the whole request and never answers.
  const origin = createServer((req, res) => {
    requests++;
    res.on('close', () => cut++);
    req.resume();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const port = (origin.address() as import('node:net').AddressInfo).port;
  const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(port), logging: () => void logged++ }, { h2c: true });
  const client = h2Client(p.port);
  try {
    for (const upload of [true, false]) {
      const before = cut;
      const req = client.request({ ':method': upload ? 'POST' : 'GET', ':path': '/never' }, { endStream: !upload });
      req.on('error', () => {});
      if (upload) req.write(Buffer.alloc(20_000, 'u'));
      await new Promise((r) => setTimeout(r, 100));
      req.close(0x8); // RST_STREAM CANCEL
      for (let i = 0; i < 100 && cut === before; i++) await new Promise((r) => setTimeout(r, 20));
      assert.is(cut, before + 1, 'the upstream connection was closed');
    }
    for (let i = 0; i < 50 && logged < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.is(logged, 2, 'both requests reached the logging phase');
    await new Promise((r) => setTimeout(r, 100));
    assert.is(requests, 2, 'a request cancelled for a gone client is not retried');
  } finally {
    client.close();
    await p.close();
    origin.closeAllConnections();
    await new Promise((r) => origin.close(r));
  }
});

down('graceful shutdown: an HTTP/2 client gets GOAWAY and its stream in progress still completes', async () => {
  const { createServer } = await import('node:http');
  const { httpProxyService } = await import('../src/index.js');
  const { TransportConnector, silentLogger } = await import('@sluice/core');
  const origin = createServer((_req, res) => setTimeout(() => res.end('late but whole'), 300));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const port = (origin.address() as import('node:net').AddressInfo).port;
  const connector = new TransportConnector();
  const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 128 }, { newCtx: () => null, upstreamPeer: () => peerOf(port) }, { logger: silentLogger, connector, h2c: true }).addTcp('127.0.0.1:0');
  const shutdown = new AbortController();
  const running = service.start(shutdown.signal, silentLogger);
  await service.readiness.ready;
  const client = h2Client(service.addresses[0].port);
  let goaway = false;
  client.on('goaway', () => (goaway = true));
  try {
    const pending = h2Request(client, { ':path': '/slow' });
    await new Promise((r) => setTimeout(r, 100));
    shutdown.abort();
    const r = await pending;
    assert.is(r.headers[':status'], 200);
    assert.is(r.body.toString(), 'late but whole');
    assert.ok(goaway, 'the client was told to go away');
  } finally {
    client.close();
    service.stopNow();
    await running;
    connector.pool.clear();
    origin.closeAllConnections();
    await new Promise((r) => origin.close(r));
  }
});

down.run();
