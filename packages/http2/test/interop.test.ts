// Our server against real HTTP/2 implementations: curl, nghttp and h2load (nghttp2), and Node's
// node:http2 client — large bodies both ways with small windows, many concurrent streams,
// trailers, GOAWAY during traffic.
import http2 from 'node:http2';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type TestServer } from './helpers/echo-server.js';
import { bodies, pattern, run, sha256 } from './helpers/peers.js';

const servers: TestServer[] = [];
async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(options, bodies);
  servers.push(s);
  return s;
}
async function closeAll(): Promise<void> {
  for (const s of servers.splice(0)) await s.close();
}

const tools = suite('curl, nghttp, h2load');
tools.after(closeAll);

tools('curl --http2-prior-knowledge: GET and a 1 MiB POST', async () => {
  const s = await server();
  const get = await run('curl', ['-sS', '--http2-prior-knowledge', `http://127.0.0.1:${s.port}/hello?x=1`, '-w', '\n%{http_version}']);
  assert.is(get.code, 0, get.stderr);
  const [json, version] = get.stdout.split('\n');
  assert.is(version, '2');
  assert.equal(JSON.parse(json).path, '/hello?x=1');
  assert.equal(JSON.parse(json).authority, `127.0.0.1:${s.port}`);
  const body = pattern(1 << 20);
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/h2-`);
  writeFileSync(`${dir}/body`, body);
  const post = await run('curl', ['-sS', '--http2-prior-knowledge', '--data-binary', `@${dir}/body`, `http://127.0.0.1:${s.port}/upload`]);
  assert.is(post.code, 0, post.stderr);
  assert.is(JSON.parse(post.stdout).sha256, sha256(body));
});

tools('curl downloads 8 MiB through a 16 KiB stream window', async () => {
  const s = await server();
  const got = await run('curl', ['-sS', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{size_download} %{http_code}', `http://127.0.0.1:${s.port}/download?n=${8 << 20}`]);
  assert.is(got.code, 0, got.stderr);
  assert.is(got.stdout, `${8 << 20} 200`);
});

tools('nghttp: several streams multiplexed, and an upload', async () => {
  const s = await server({ initialWindowSize: 16384 });
  const got = await run("nghttp", ["-n", "-s", `http://127.0.0.1:${s.port}/a`, `http://127.0.0.1:${s.port}/b`, `http://127.0.0.1:${s.port}/download?n=300000`]);
  if (got.code !== 0) console.log(got); assert.is(got.code, 0);
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/h2-`);
  const body = pattern(500_000);
  writeFileSync(`${dir}/body`, body);
  const up = await run('nghttp', ['-d', `${dir}/body`, `http://127.0.0.1:${s.port}/upload`]);
  assert.is(up.code, 0, up.stderr);
  assert.is(JSON.parse(up.stdout).sha256, sha256(body));
});

tools('h2load: 4 connections x 50 concurrent streams, every request answered', async () => {
  const s = await server();
  const got = await run('h2load', ['-n', '4000', '-c', '4', '-m', '50', `http://127.0.0.1:${s.port}/`]);
  assert.is(got.code, 0, got.stderr);
  assert.match(got.stdout, /requests: 4000 total, 4000 started, 4000 done, 4000 succeeded, 0 failed, 0 errored, 0 timeout/);
});

const node = suite('node:http2 client');
node.after(closeAll);

function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, trailers?: http2.OutgoingHttpHeaders): Promise<{ status: number; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined && trailers === undefined, waitForTrailers: trailers !== undefined });
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('trailers', (t) => (got = t));
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve({ status, body: Buffer.concat(parts), trailers: got }));
    req.on('error', reject);
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    if (body !== undefined) req.end(body);
    else if (trailers !== undefined) req.end();
  });
}

node('GET, POST with request trailers, response trailers', async () => {
  const s = await server();
  const session = http2.connect(`http://127.0.0.1:${s.port}`);
  try {
    const get = await request(session, { ':path': '/x' });
    assert.is(get.status, 200);
    assert.is(JSON.parse(get.body.toString()).method, 'GET');
    const post = await request(session, { ':method': 'POST', ':path': '/p', 'x-want-trailers': '1' }, undefined, { 'x-checksum': 'abc' });
    const json = JSON.parse(post.body.toString());
    assert.equal(json.trailers, ['x-checksum', 'abc']);
    assert.is(post.trailers['grpc-status'], '0');
    assert.is(post.trailers['grpc-message'], 'ok');
  } finally {
    session.close();
  }
});

node('large bodies both ways with small windows (16 KiB stream windows on both sides)', async () => {
  const s = await server({ initialWindowSize: 16384, connectionWindowSize: 65535 });
  const session = http2.connect(`http://127.0.0.1:${s.port}`, { settings: { initialWindowSize: 16384 } });
  try {
    const body = pattern(3 << 20);
    const up = await request(session, { ':method': 'POST', ':path': '/upload' }, body);
    assert.is(JSON.parse(up.body.toString()).sha256, sha256(body));
    const down = await request(session, { ':path': `/download?n=${3 << 20}` });
    assert.is(down.body.length, 3 << 20);
    assert.is(sha256(down.body), sha256(pattern(3 << 20)));
  } finally {
    session.close();
  }
});

node('100 concurrent streams on one connection, each with a body', async () => {
  const s = await server();
  const session = http2.connect(`http://127.0.0.1:${s.port}`);
  try {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => request(session, { ':method': 'POST', ':path': `/s/${i}` }, pattern(1000 + i * 100))),
    );
    results.forEach((r, i) => {
      const json = JSON.parse(r.body.toString());
      assert.is(json.path, `/s/${i}`);
      assert.is(json.bodyLength, 1000 + i * 100);
    });
  } finally {
    session.close();
  }
});

node('GOAWAY during traffic: streams in flight complete, the connection then closes', async () => {
  const controller = new AbortController();
  const s = await server({ shutdown: controller.signal });
  const session = http2.connect(`http://127.0.0.1:${s.port}`);
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  const closed = new Promise<void>((resolve) => session.on('close', resolve));
  const inFlight = Array.from({ length: 20 }, (_, i) => request(session, { ':path': `/download?n=${200_000 + i}` }));
  await new Promise((r) => setTimeout(r, 20));
  controller.abort();
  const results = await Promise.all(inFlight);
  results.forEach((r, i) => assert.is(r.body.length, 200_000 + i));
  await closed;
  assert.ok(goaway, 'the client saw GOAWAY');
});

tools.run();
node.run();
