// ServerSession over real sockets with real clients: curl, Node's http client, raw sockets.
import { createHash } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ResponseHeader } from '@sluice/core';
import { mutationCorpus } from './helpers/corpus.js';
import { curl, echoHandler, exchange, startServer, statuses } from './helpers/net.js';
import { runOurs } from './helpers/outcome.js';
import type { TestServer } from './helpers/net.js';
import type { RequestHeader } from '@sluice/core';
import type { ServerSession } from '../src/index.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------------
const withCurl = suite<{ srv: TestServer }>('server session with curl');
withCurl.before(async (ctx) => {
  ctx.srv = await startServer(echoHandler);
});
withCurl.after(async (ctx) => ctx.srv.close());

withCurl('keep-alive: two requests on one connection', async ({ srv }) => {
  const r = await curl(['-o', '/dev/null', '-o', '/dev/null', '-w', '%{num_connects} %{http_code}\n', `http://127.0.0.1:${srv.port}/a`, `http://127.0.0.1:${srv.port}/b`]);
  assert.is(r.stdout, '1 200\n0 200\n', 'the second request reused the connection');
});

withCurl('chunked upload of 1 MiB', async ({ srv }) => {
  const body = Buffer.alloc(1 << 20, 'z');
  const r = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `http://127.0.0.1:${srv.port}/up`], body);
  const echo = JSON.parse(r.stdout);
  assert.is(echo.bodyLength, body.length);
  assert.is(echo.bodySha256, sha(body));
  assert.is(echo.bodyBytesRead, body.length);
});

withCurl('Expect: 100-continue gets 100 before the body is sent', async ({ srv }) => {
  const r = await curl(['-v', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(2000), `http://127.0.0.1:${srv.port}/c`]);
  assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
  assert.is(JSON.parse(r.stdout).bodyLength, 2000);
});

withCurl('HTTP/1.0 with Connection: keep-alive keeps the connection', async ({ srv }) => {
  const url = `http://127.0.0.1:${srv.port}/`;
  const r = await curl(['--http1.0', '-H', 'Connection: keep-alive', '-v', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{num_connects}\n', url + 'a', url + 'b']);
  assert.is(r.stdout, '1\n0\n');
  assert.match(r.stderr, /< Connection: keep-alive/i);
});

withCurl('HTTP/1.0: answered, then the connection closes', async ({ srv }) => {
  const r = await curl(['--http1.0', '-v', `http://127.0.0.1:${srv.port}/old`]);
  const echo = JSON.parse(r.stdout);
  assert.is(echo.version, '1.0');
  assert.match(r.stderr, /< Connection: close/i);
});

withCurl.run();

// ---------------------------------------------------------------------------------------------------
const withNode = suite<{ srv: TestServer }>('server session with Node http client');
withNode.before(async (ctx) => {
  ctx.srv = await startServer(echoHandler);
});
withNode.after(async (ctx) => ctx.srv.close());

function nodeRequest(port: number, opts: { method?: string; path?: string; agent?: Agent; headers?: Record<string, string>; body?: Buffer[]; trailers?: Record<string, string> }): Promise<{ status: number; body: string; headers: Record<string, unknown>; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', agent: opts.agent, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    for (const b of opts.body ?? []) req.write(b);
    if (opts.trailers) req.addTrailers(opts.trailers);
    req.end();
  });
}

withNode('keep-alive agent reuses the connection; fields keep case and order', async ({ srv }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const a = await nodeRequest(srv.port, { agent, path: '/one', headers: { 'X-Custom-ID': 'A', 'x-second': 'B' } });
  const b = await nodeRequest(srv.port, { agent, path: '/two' });
  agent.destroy();
  assert.is(a.status, 200);
  assert.is(b.reused, true);
  const names = JSON.parse(a.body).headers.map((h: [string, string]) => h[0]);
  assert.ok(names.indexOf('X-Custom-ID') !== -1 && names.indexOf('X-Custom-ID') < names.indexOf('x-second'));
});

withNode('chunked POST with trailers', async ({ srv }) => {
  const parts = [Buffer.from('hello '), Buffer.from('world')];
  const r = await nodeRequest(srv.port, { method: 'POST', path: '/t', headers: { Trailer: 'X-Digest' }, body: parts, trailers: { 'X-Digest': 'abc' } });
  const echo = JSON.parse(r.body);
  assert.is(echo.bodyLength, 11);
  assert.equal(echo.trailers, [['X-Digest', 'abc']]);
});

withNode('HEAD gets a head with no body', async ({ srv }) => {
  const r = await nodeRequest(srv.port, { method: 'HEAD', path: '/h' });
  assert.is(r.status, 200);
  assert.is(r.body, '');
});

withNode.run();

// ---------------------------------------------------------------------------------------------------
const raw = suite<{ srv: TestServer; limited: TestServer; slow: TestServer; refuse: TestServer }>('server session with raw sockets');
raw.before(async (ctx) => {
  ctx.refuse = await startServer(async (session, request) => {
    if (request.uri === '/big') return session.respond(ResponseHeader.build(413));
    if (request.uri === '/204') return session.respond(ResponseHeader.build(204));
    if (request.uri === '/304') return session.respond(ResponseHeader.build(304));
    if (request.uri === '/throw') throw new Error('handler failed');
    if (request.uri === '/reject') return Promise.reject(new Error('handler failed later'));
    if (request.uri === '/latin1') return session.respond(ResponseHeader.build(200), Buffer.from([0x68, 0xe9, 0xff, 0x00, 0x80]));
    return session.respond(ResponseHeader.build(200), 'hello');
  });
  ctx.srv = await startServer(echoHandler);
  ctx.limited = await startServer(echoHandler, { maxStartLineBytes: 64, maxHeaderBytes: 256, maxHeaderCount: 4, maxBodyBytes: 100, maxRequestsPerConnection: 2 });
  ctx.slow = await startServer(echoHandler, { headerTimeoutMs: 300 });
});
raw.after(async (ctx) => {
  await ctx.srv.close();
  await ctx.limited.close();
  await ctx.slow.close();
  await ctx.refuse.close();
});

raw('pipelined requests are answered in order', async ({ srv }) => {
  const reqs = ['/1', '/2', '/3'].map((p, i) => `POST ${p} HTTP/1.1\r\nHost: a\r\nContent-Length: ${i}\r\n\r\n${'x'.repeat(i)}`).join('');
  const r = await exchange(srv.port, [reqs + 'GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
  const targets = [...r.data.matchAll(/"target":"([^"]+)"/g)].map((m) => m[1]);
  assert.equal(targets, ['/1', '/2', '/3', '/last']);
  assert.ok(r.closed, 'closed after Connection: close');
});

raw('HTTP/1.0 with Transfer-Encoding is answered, then the connection closes (RFC 9112 §6.1)', async ({ srv }) => {
  const r = await exchange(srv.port, ['POST /te HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nGET /next HTTP/1.0\r\n\r\n']);
  assert.equal(statuses(r.data), [200]);
  assert.match(r.data, /Connection: close/);
  assert.ok(r.closed);
});

raw('a request split into one-byte reads', async ({ srv }) => {
  const text = 'POST /split HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n';
  const r = await exchange(srv.port, [...text].map((c) => c), { gapMs: 1, boundMs: 5000, endAfterWrite: false });
  const echo = JSON.parse(r.data.slice(r.data.indexOf('{')));
  assert.is(echo.bodyLength, 3);
  assert.equal(echo.trailers, [['X-T', '1']]);
});

const bad: Array<[string, string, number]> = [
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n', 400],
  ['CL and TE', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['duplicate CL', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['bad chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n', 400],
  ['NUL in value', 'GET / HTTP/1.1\r\nA: b\x00\r\n\r\n', 400],
  ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 400],
  ['unknown transfer coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: pigeons\r\n\r\n', 501],
  ['HTTP/2.0 on HTTP/1', 'GET / HTTP/2.0\r\n\r\n', 505],
  ['HTTP/1.1 without Host (RFC 9112 §3.2)', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 400],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['two Host fields on HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n', 400],
  ['invalid Host value', 'GET / HTTP/1.1\r\nHost: a/b@c\r\n\r\n', 400],
];
for (const [name, input, status] of bad) {
  raw(`malformed: ${name} -> ${status} and closed, pipelined bytes ignored`, async ({ srv }) => {
    const r = await exchange(srv.port, [input + 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n']);
    assert.equal(statuses(r.data), [status]);
    assert.match(r.data, /Connection: close/);
    assert.not.match(r.data, /smuggled/);
    assert.ok(r.closed, 'connection closed');
  });
}

for (const [name, input, status] of bad) {
  raw(`malformed after a good request on a kept-alive connection: ${name} -> ${status} and closed`, async ({ srv }) => {
    const r = await exchange(srv.port, ['GET /first HTTP/1.1\r\nHost: a\r\n\r\n' + input]);
    assert.equal(statuses(r.data), [200, status], 'the second request gets its error status, not a bare close');
    assert.ok(r.closed, 'connection closed');
  });
}

raw('Host: HTTP/1.0 may omit it; IP literals and ports are valid; requireHost: false accepts a missing one', async ({ srv }) => {
  const r = await exchange(srv.port, ['GET /a HTTP/1.0\r\n\r\n']);
  assert.equal(statuses(r.data), [200]);
  const v6 = await exchange(srv.port, ['GET /b HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n']);
  assert.equal(statuses(v6.data), [200]);
  const lax = await startServer(echoHandler, { requireHost: false });
  try {
    const ok = await exchange(lax.port, ['GET /c HTTP/1.1\r\nConnection: close\r\n\r\n']);
    assert.equal(statuses(ok.data), [200]);
  } finally {
    await lax.close();
  }
});

raw('limits: 414 long target, 431 large or many fields, 413 large body', async ({ limited }) => {
  const cases: Array<[string, number]> = [
    [`GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: t\r\n\r\n`, 414],
    [`GET / HTTP/1.1\r\nHost: t\r\nX: ${'v'.repeat(300)}\r\n\r\n`, 431],
    ['GET / HTTP/1.1\r\nHost: t\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n', 431],
    [`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n${'b'.repeat(101)}`, 413],
    [`POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n${'b'.repeat(101)}\r\n0\r\n\r\n`, 413],
  ];
  for (const [input, status] of cases) {
    const r = await exchange(limited.port, [input]);
    assert.equal(statuses(r.data), [status], input.slice(0, 40));
    assert.ok(r.closed);
  }
});

raw('per-connection request limit closes after the last allowed request', async ({ limited }) => {
  const r = await exchange(limited.port, ['GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n']);
  assert.equal(statuses(r.data), [200, 200]);
  assert.match(r.data, /Connection: close/);
  assert.ok(r.closed);
});

raw('slowloris: a head that does not complete in time gets 408 and a close', async ({ slow }) => {
  const r = await exchange(slow.port, ['GET / HTTP/1.1\r\nHost: t\r\n', 'Host: a\r\n'], { gapMs: 50, boundMs: 3000 });
  assert.equal(statuses(r.data), [408]);
  assert.ok(r.closed);
  const idle = await exchange(slow.port, [], { boundMs: 3000 });
  assert.is(idle.data, '', 'an idle connection is closed without a response');
  assert.ok(idle.closed);
});

raw('slowloris: the header deadline runs from the first wait, however many pieces trickle in', async ({ slow }) => {
  const started = Date.now();
  const drip = Array.from({ length: 12 }, (_, i) => (i === 0 ? 'GET / HTTP/1.1\r\n' : `X-Drip-${i}: a\r\n`));
  const r = await exchange(slow.port, drip, { gapMs: 100, boundMs: 3000 });
  assert.equal(statuses(r.data), [408]);
  assert.ok(r.closed);
  // 300 ms deadline; a deadline restarted by each piece would end only 300 ms after the last, past 1.2 s.
  assert.ok(Date.now() - started < 1100, `408 after ${Date.now() - started} ms`);
});

raw('a final answer to Expect: 100-continue without reading the body closes the connection', async ({ refuse }) => {
  const r = await exchange(refuse.port, ['POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n']);
  assert.equal(statuses(r.data), [413]);
  assert.not.match(r.data, /100 Continue/);
  assert.match(r.data, /Connection: close/);
  assert.ok(r.closed);
});

raw('a handler that throws or rejects before answering gets 500 and a close', async ({ refuse }) => {
  for (const target of ['/throw', '/reject']) {
    const r = await exchange(refuse.port, [`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n`]);
    assert.match(r.data, /^HTTP\/1\.1 500 Internal Server Error\r\nConnection: close\r\n/);
    assert.not.match(r.data, /200 OK/, 'nothing after the failed request is answered');
    assert.ok(r.closed, target);
  }
});

raw('lone and pipelined responses keep every body byte (Latin-1 string and Buffer writes)', async ({ refuse }) => {
  const one = 'GET /latin1 HTTP/1.1\r\nHost: a\r\n\r\n';
  const r = await exchange(refuse.port, [one, one, one + one + 'GET /latin1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'], { gapMs: 30 });
  const bodies = [...r.data.matchAll(/HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n([\s\S]{5})/g)].map((m) => Buffer.from(m[1], 'latin1').toString('hex'));
  assert.equal(bodies, Array(5).fill('68e9ff0080'));
  assert.ok(r.closed);
});

raw('204 and 304 go out without Content-Length; HEAD gets the length but no body', async ({ refuse }) => {
  const r = await exchange(refuse.port, ['GET /204 HTTP/1.1\r\nHost: t\r\n\r\nGET /304 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /head HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n']);
  assert.equal(statuses(r.data), [204, 304, 200]);
  const [n204, n304, head] = r.data.split(/(?=HTTP\/1\.1 )/);
  assert.not.match(n204, /Content-Length/i);
  assert.not.match(n304, /Content-Length/i);
  assert.match(head, /Content-Length: 5\r\n/);
  assert.ok(head.endsWith('\r\n\r\n'), 'no body after the HEAD response head');
});

raw('300 mutated requests over sockets: each answered or refused with a status, none hangs, the server lives', async ({ srv }) => {
  const cases = mutationCorpus(20).filter((c) => c.kind === 'request').slice(0, 300);
  let next = 0;
  const outcomes: string[] = [];
  async function worker() {
    while (next < cases.length) {
      const c = cases[next++];
      // Each exchange ends the client's side after writing, so incomplete requests end too.
      const r = await exchange(srv.port, [c.input], { endAfterWrite: true, boundMs: 4000 });
      const codes = statuses(r.data);
      const expected = runOurs('request', c.input);
      if (!r.closed) outcomes.push(`hang: ${JSON.stringify(c.input.toString('latin1'))}`);
      else if (expected.error && !expected.error.ours?.startsWith('UPGRADE')) {
        const complete = expected.messages.filter((m) => m.complete).length;
        if (codes.length > complete + 1 || (codes.length === complete + 1 && codes[complete] < 400)) outcomes.push(`bad answer ${codes} to ${JSON.stringify(c.input.toString('latin1'))}`);
      }
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker));
  assert.equal(outcomes, []);
  const after = await exchange(srv.port, ['GET /alive HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n']);
  assert.equal(statuses(after.data), [200]);
});

raw('client closing mid-body does not crash or hang the server', async ({ srv }) => {
  const r = await exchange(srv.port, ['POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc'], { endAfterWrite: true, boundMs: 3000 });
  assert.ok(r.closed);
  const after = await exchange(srv.port, ['GET /alive HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n']);
  assert.equal(statuses(after.data), [200]);
});

raw.run();

// ---------------------------------------------------------------------------------------------------
const upgrade = suite<{ srv: TestServer }>('server session upgrade and CONNECT');
upgrade.before(async (ctx) => {
  ctx.srv = await startServer(async (session, request) => {
    if (!session.isUpgrade) return echoHandler(session, request);
    const res = request.method === 'CONNECT' ? ResponseHeader.build(200) : ResponseHeader.build(101);
    if (res.status === 101) res.insertHeader('Upgrade', 'echo').insertHeader('Connection', 'Upgrade');
    await session.writeResponseHeader(res);
    session.finishResponse();
    const { socket, head } = session.takeOver();
    // The raw stream now echoes bytes upper-cased, starting with what came with the request.
    if (head.length > 0) socket.write(head.toString('latin1').toUpperCase());
    socket.on('data', (d) => socket.write(d.toString('latin1').toUpperCase()));
    socket.resume();
  });
});
upgrade.after(async (ctx) => ctx.srv.close());

upgrade('Upgrade hands the raw stream over, including bytes sent with the request', async ({ srv }) => {
  const r = await exchange(srv.port, ['GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello', ' more'], { gapMs: 50, boundMs: 600 });
  assert.match(r.data, /^HTTP\/1\.1 101 /);
  assert.match(r.data, /\r\n\r\nHELLO MORE$/);
});

upgrade('CONNECT opens a tunnel', async ({ srv }) => {
  const r = await exchange(srv.port, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'tunnel'], { gapMs: 50, boundMs: 600 });
  assert.match(r.data, /^HTTP\/1\.1 200 /);
  assert.not.match(r.data, /Content-Length|Transfer-Encoding/);
  assert.match(r.data, /TUNNEL$/);
});

upgrade.run();

// ---------------------------------------------------------------------------------------------------
// Plain sockets read into one buffer that every connection's next read overwrites (core's
// Stream.receive): whatever outlives a read — queued body bytes, a pipelined request — must be a copy.
const sharedReads = suite<{ srv: TestServer; gate: Promise<void>; open: () => void; arrived: Promise<void>; arrive: () => void }>('server session: bytes kept past their read');
sharedReads.before(async (ctx) => {
  ctx.gate = new Promise((r) => (ctx.open = r));
  ctx.arrived = new Promise((r) => (ctx.arrive = r));
  ctx.srv = await startServer(async (session, request) => {
    if (request.uri === '/slow') {
      ctx.arrive();
      await ctx.gate;
    }
    const body = await session.readBody();
    await session.respond(ResponseHeader.build(200), `${request.uri} ${body.toString('latin1')};`);
  });
});
sharedReads.after(async (ctx) => ctx.srv.close());

sharedReads('a queued body and a pipelined request survive another connection\'s reads', async (ctx) => {
  const first = exchange(ctx.srv.port, ['POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nAAAAAGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
  await ctx.arrived;
  // Another connection's request, read into the same buffer while the first handler waits.
  const other = await exchange(ctx.srv.port, [`POST /${'B'.repeat(300)} HTTP/1.1\r\nHost: b\r\nContent-Length: 300\r\nConnection: close\r\n\r\n${'C'.repeat(300)}`]);
  assert.match(other.data, / 200 /);
  ctx.open();
  const r = await first;
  assert.match(r.data, /\r\n\r\n\/slow AAAAA;HTTP\/1\.1 200 /);
  assert.match(r.data, /\r\n\r\n\/second ;$/);
});

sharedReads.run();

// ---------------------------------------------------------------------------------------------------
const dates = suite<{ srv: TestServer; off: TestServer }>('server session Date field (RFC 9110 §6.6.1)');
async function dateHandler(session: ServerSession, request: RequestHeader): Promise<void> {
  const res = ResponseHeader.build(200);
  if (request.uri === '/own') res.insertHeader('Date', 'Sun, 06 Nov 1994 08:49:37 GMT');
  if (request.uri === '/streamed') {
    await session.writeResponseHeader(res);
    session.writeBody(Buffer.from('part'));
    await session.finishResponse();
    return;
  }
  await session.respond(res, 'ok');
}
dates.before(async (ctx) => {
  ctx.srv = await startServer(dateHandler);
  ctx.off = await startServer(dateHandler, { date: false });
});
dates.after(async (ctx) => {
  await ctx.srv.close();
  await ctx.off.close();
});

const dateValues = (raw: string) => [...raw.matchAll(/\r\nDate: ([^\r]*)\r\n/gi)].map((m) => m[1]);

dates('every final response gets the current Date once, unless it has its own; bad requests too', async ({ srv }) => {
  const r = await exchange(srv.port, ['GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /streamed HTTP/1.1\r\nHost: a\r\n\r\nGET /own HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
  assert.equal(statuses(r.data), [200, 200, 200]);
  const values = dateValues(r.data);
  assert.is(values.length, 3, 'one Date per response');
  for (const v of values.slice(0, 2)) {
    assert.match(v, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/, 'IMF-fixdate');
    assert.ok(Math.abs(Date.parse(v) - Date.now()) < 5000, v);
  }
  assert.is(values[2], 'Sun, 06 Nov 1994 08:49:37 GMT', "the handler's own Date is kept");
  const bad = await exchange(srv.port, ['GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n']);
  assert.equal(statuses(bad.data), [400]);
  assert.is(dateValues(bad.data).length, 1);
});

dates('date: false sends none', async ({ off }) => {
  const r = await exchange(off.port, ['GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
  assert.equal(statuses(r.data), [200]);
  assert.equal(dateValues(r.data), []);
});

dates.run();
