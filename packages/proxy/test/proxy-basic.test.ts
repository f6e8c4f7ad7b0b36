// Requests through the proxy to Node http origins: RFC 9110 proxying rules over real sockets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent } from 'node:http';
import type { ProxyHttp } from '../src/index.js';
import { curl, peerOf, rawExchange, request, startOrigin, startProxy, startRawOrigin } from './helpers/net.js';
import type { Origin, RunningProxy } from './helpers/net.js';

interface Ctx {
  origin: Origin;
  proxy: RunningProxy;
}

function simple(port: () => number): ProxyHttp<null> {
  return { newCtx: () => null, upstreamPeer: () => peerOf(port()) };
}

const basics = suite<Ctx>('proxying basics');
basics.before(async (ctx) => {
  ctx.origin = await startOrigin((req, res) => {
    if (req.url === '/info') {
      res.setHeader('X-Origin-Case', 'Kept');
      res.setHeader('Connection', 'keep-alive, X-Hop');
      res.setHeader('X-Hop', 'must go');
      res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, httpVersion: req.httpVersion }));
      return;
    }
    if (req.url === '/nobody') {
      res.writeHead(204).end();
      return;
    }
    if (req.url === '/notmod') {
      res.writeHead(304, { ETag: '"x"' }).end();
      return;
    }
    if (req.url === '/early-hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.end('after hints');
      return;
    }
    if (req.url === '/trailers') {
      res.writeHead(200, { Trailer: 'X-Sum' });
      res.write('part1');
      res.addTrailers({ 'X-Sum': '42' });
      res.end('part2');
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => res.end(JSON.stringify({ method: req.method, length: Buffer.concat(parts).length, te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null })));
  });
  ctx.proxy = await startProxy(simple(() => ctx.origin.port), { via: 'sluice' });
});
basics.after(async (ctx) => {
  await ctx.proxy.close();
  await ctx.origin.close();
});

basics('GET is forwarded; field case kept; hop-by-hop fields removed both ways; Via added', async ({ proxy }) => {
  const r = await request(proxy.port, { path: '/info', headers: { 'X-Client-Case': 'Yes', Connection: 'keep-alive, X-Secret', 'X-Secret': 'hop', 'Keep-Alive': 'timeout=5', 'Proxy-Connection': 'keep-alive' }, agent: false });
  assert.is(r.status, 200);
  const seen = JSON.parse(r.body.toString());
  const names: string[] = seen.rawHeaders.filter((_: string, i: number) => i % 2 === 0);
  assert.ok(names.includes('X-Client-Case'), 'request field name case kept');
  assert.not.ok(names.map((n) => n.toLowerCase()).includes('x-secret'), 'field named in Connection removed');
  assert.not.ok(names.map((n) => n.toLowerCase()).includes('keep-alive'));
  assert.not.ok(names.map((n) => n.toLowerCase()).includes('proxy-connection'));
  assert.ok(seen.rawHeaders.includes('1.1 sluice'), 'Via added upstream');
  assert.ok(r.rawHeaders.includes('X-Origin-Case'), 'response field name case kept');
  assert.is(r.headers['x-hop'], undefined, 'response field named in Connection removed');
  assert.match(String(r.headers.via), /1\.1 sluice/);
});

basics('POST bodies: Content-Length kept, chunked re-chunked', async ({ proxy }) => {
  const a = JSON.parse((await request(proxy.port, { method: 'POST', path: '/echo', body: 'x'.repeat(1000) })).body.toString());
  assert.equal(a, { method: 'POST', length: 1000, te: null, cl: '1000' });
  const r = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `http://127.0.0.1:${proxy.port}/echo`], Buffer.alloc(300_000, 'y'));
  const b = JSON.parse(r.stdout);
  assert.is(b.length, 300_000);
  assert.is(b.te, 'chunked');
});

basics('HEAD, 204 and 304 carry no body', async ({ proxy }) => {
  const head = await rawExchange(proxy.port, 'HEAD /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(head.endsWith('\r\n\r\n'), 'no body after the HEAD response head');
  const two = await rawExchange(proxy.port, 'GET /nobody HTTP/1.1\r\nHost: x\r\n\r\nGET /notmod HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(two, /^HTTP\/1\.1 204 No Content\r\n(?:(?!\r\n\r\n)[\s\S])*\r\n\r\nHTTP\/1\.1 304 Not Modified\r\n/);
  assert.not.match(two, /Transfer-Encoding/i);
  assert.ok(two.endsWith('\r\n\r\n'));
});

basics('1xx (103 Early Hints) forwarded before the final response', async ({ proxy }) => {
  const out = await rawExchange(proxy.port, 'GET /early-hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 103 Early Hints\r\n[Ll]ink: <\/style\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  assert.ok(out.endsWith('after hints'));
});

basics('trailers of a chunked response pass through', async ({ proxy }) => {
  const r = await request(proxy.port, { path: '/trailers' });
  assert.is(r.body.toString(), 'part1part2');
  assert.is(r.trailers['x-sum'], '42');
});

basics('keep-alive downstream and pooled connections upstream', async ({ proxy, origin }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const before = origin.connections;
  for (let i = 0; i < 20; i++) assert.is((await request(proxy.port, { path: '/info', agent })).status, 200);
  agent.destroy();
  assert.ok(origin.connections - before <= 1, `20 sequential requests used ${origin.connections - before} upstream connections`);
  const c = await curl(['-o', '/dev/null', '-o', '/dev/null', '-w', '%{num_connects}\n', `http://127.0.0.1:${proxy.port}/info`, `http://127.0.0.1:${proxy.port}/info`]);
  assert.is(c.stdout, '1\n0\n', 'curl reused its downstream connection');
});

basics('HTTP/1.0 client gets a close-delimited or sized answer, and the connection closes', async ({ proxy }) => {
  const out = await rawExchange(proxy.port, 'GET /info HTTP/1.0\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, /"httpVersion":"1\.1"/, 'sent upstream as HTTP/1.1');
});

basics('CONNECT refused with 405', async ({ proxy }) => {
  const out = await rawExchange(proxy.port, 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 405 /);
});

basics('malformed downstream request: 400 and close', async ({ proxy }) => {
  const out = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 400 /);
  assert.match(out, /Connection: close/i);
});

basics.run();

// A small response that arrives whole (head and body in one segment) leaves in one write: the bytes of
// that path are checked here against an origin that always answers in one write.
const whole = suite<{ origin: Awaited<ReturnType<typeof startRawOrigin>>; proxy: RunningProxy }>('small responses sent whole');
const statuses: number[] = [];
const ALL_BYTES = Buffer.from(Array.from({ length: 1024 }, (_, i) => i & 0xff));
whole.before(async (ctx) => {
  ctx.origin = await startRawOrigin((socket, _n, head) => {
    const isHead = head.toString('latin1').startsWith('HEAD ');
    socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${ALL_BYTES.length}\r\nX-Origin: raw\r\n\r\n`, 'latin1'), isHead ? Buffer.alloc(0) : ALL_BYTES]));
  });
  ctx.proxy = await startProxy({ ...simple(() => ctx.origin.port), logging: (session) => void statuses.push(session.responseStatus) });
});
whole.after(async (ctx) => {
  await ctx.proxy.close();
  await ctx.origin.close();
});

whole('every byte value survives; pipelined requests are answered in order; HEAD gets the length and no body', async ({ proxy }) => {
  const r = await request(proxy.port, { path: '/bytes' });
  assert.is(r.headers['content-length'], '1024');
  assert.is(r.headers['x-origin'], 'raw');
  assert.ok(r.body.equals(ALL_BYTES), 'bytes 0x00-0xff survive (a Latin-1 string write, not UTF-8)');
  const out = Buffer.from(await rawExchange(proxy.port, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 'latin1');
  let at = 0;
  for (let i = 0; i < 2; i++) {
    const end = out.indexOf('\r\n\r\n', at) + 4;
    assert.match(out.subarray(at, end).toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(out.subarray(end, end + ALL_BYTES.length).equals(ALL_BYTES), `body ${i + 1} intact`);
    at = end + ALL_BYTES.length;
  }
  const head = out.subarray(at).toString('latin1');
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /Content-Length: 1024\r\n/i);
  assert.ok(head.endsWith('\r\n\r\n'), 'no body after the HEAD response head');
});

whole('the logging phase sees the status sent', async ({ proxy }) => {
  statuses.length = 0;
  assert.is((await request(proxy.port, { path: '/status' })).status, 200);
  assert.equal(statuses, [200]);
});

whole.run();
