// ClientSession over real sockets against Node's http server and raw servers.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionPool, HeaderMap, RequestHeader, Stream } from '@sluice/core';
import { ClientSession, H1ParseError } from '../src/index.js';

function open(port: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(new Stream(socket)));
    socket.on('error', reject);
  });
}

function listen<T extends HttpServer | NetServer>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const node = suite<{ server: HttpServer; port: number }>('client session with Node http server');
node.before(async (ctx) => {
  ctx.server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/204') return void res.writeHead(204).end();
      if (req.url === '/early') {
        res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      }
      if (req.url === '/chunked') {
        res.setHeader('Trailer', 'X-Sum');
        res.write('part1,');
        res.write('part2');
        res.addTrailers({ 'X-Sum': '11' });
        return void res.end();
      }
      res.setHeader('X-Raw-Headers', JSON.stringify(req.rawHeaders));
      res.end(JSON.stringify({ method: req.method, url: req.url, body, trailers: req.rawTrailers }));
    });
  });
  ctx.server.keepAliveTimeout = 5000;
  ctx.port = await listen(ctx.server);
});
node.after(async (ctx) => {
  ctx.server.closeAllConnections();
  await new Promise((r) => ctx.server.close(r));
});

node('GET, then a second request on the same connection (reusable)', async ({ port }) => {
  const session = new ClientSession(await open(port));
  const req = RequestHeader.build('GET', '/first');
  req.insertHeader('Host', 'localhost').insertHeader('X-Case-Kept', 'yes');
  session.writeRequestHeader(req);
  const res = await session.readResponse();
  assert.is(res.status, 200);
  const body = JSON.parse((await session.readBody()).toString());
  assert.is(body.url, '/first');
  assert.ok(JSON.parse(res.header('x-raw-headers') ?? '[]').includes('X-Case-Kept'));
  assert.ok(session.isReusable());
  assert.ok(session.reuse());
  const again = RequestHeader.build('GET', '/second');
  again.insertHeader('Host', 'localhost');
  session.writeRequestHeader(again);
  assert.is((await session.readResponse()).status, 200);
  assert.is(JSON.parse((await session.readBody()).toString()).url, '/second');
  session.close();
});

node('POST chunked with trailers; chunked response with trailers', async ({ port }) => {
  const session = new ClientSession(await open(port));
  const req = RequestHeader.build('POST', '/echo');
  req.insertHeader('Host', 'localhost').insertHeader('Trailer', 'X-Check');
  session.writeRequestHeader(req);
  session.writeBody(Buffer.from('abc'));
  session.writeBody(Buffer.from('def'));
  const trailers = new HeaderMap().append('X-Check', '6');
  session.finishBody(trailers);
  await session.readResponse();
  const echo = JSON.parse((await session.readBody()).toString());
  assert.is(echo.body, 'abcdef');
  assert.equal(echo.trailers, ['X-Check', '6']);
  assert.is(session.bodyBytesSent(), 6);
  assert.ok(session.reuse());
  const get = RequestHeader.build('GET', '/chunked');
  get.insertHeader('Host', 'localhost');
  session.writeRequestHeader(get);
  await session.readResponse();
  assert.is((await session.readBody()).toString(), 'part1,part2');
  assert.equal(session.trailers?.entries(), [['X-Sum', '11']]);
  session.close();
});

node('HEAD: a response to HEAD has no body, whatever its fields say, and the connection stays usable', async ({ port }) => {
  const session = new ClientSession(await open(port));
  const req = RequestHeader.build('HEAD', '/');
  req.insertHeader('Host', 'localhost');
  session.writeRequestHeader(req);
  const res = await session.readResponse();
  assert.is(res.status, 200);
  assert.is((await session.readBody()).length, 0);
  assert.ok(session.isReusable());
  session.close();
});

node('204 and 1xx (103 Early Hints) are handled', async ({ port }) => {
  const session = new ClientSession(await open(port));
  const a = RequestHeader.build('GET', '/204');
  a.insertHeader('Host', 'localhost');
  session.writeRequestHeader(a);
  assert.is((await session.readResponse()).status, 204);
  assert.is((await session.readBody()).length, 0);
  assert.ok(session.reuse());
  const b = RequestHeader.build('GET', '/early');
  b.insertHeader('Host', 'localhost');
  session.writeRequestHeader(b);
  const res = await session.readResponse();
  assert.is(res.status, 200);
  assert.equal(session.informational.map((h) => h.status), [103]);
  session.close();
});

node('release() hands a reusable connection to core\'s ConnectionPool; a new session reuses it', async ({ port }) => {
  const pool = new ConnectionPool();
  const first = new ClientSession(await open(port));
  const req = RequestHeader.build('GET', '/pooled-1');
  req.insertHeader('Host', 'localhost');
  first.writeRequestHeader(req);
  await first.readResponse();
  await first.readBody();
  const stream = first.release();
  assert.ok(stream !== null);
  pool.put('node', stream as Stream);
  const again = pool.get('node');
  assert.is(again, stream);
  const second = new ClientSession(again as Stream);
  const req2 = RequestHeader.build('GET', '/pooled-2');
  req2.insertHeader('Host', 'localhost');
  second.writeRequestHeader(req2);
  await second.readResponse();
  assert.is(JSON.parse((await second.readBody()).toString()).url, '/pooled-2');
  const close = RequestHeader.build('GET', '/last');
  assert.ok(second.reuse());
  close.insertHeader('Host', 'localhost').insertHeader('Connection', 'close');
  second.writeRequestHeader(close);
  await second.readResponse();
  await second.readBody();
  assert.is(second.release(), null, 'Connection: close is not reusable');
  pool.clear();
});

node.run();

const rawServer = suite<{ server: NetServer; port: number }>('client session with raw servers');
rawServer.before(async (ctx) => {
  ctx.server = createNetServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (d) => {
      const text = d.toString('latin1');
      if (text.includes('/close-delimited')) socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
      else if (text.includes('/bad')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
      else if (text.includes('/extra')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSTRAY');
      else if (text.includes('/continue-then-close')) socket.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nall of it');
      else if (text.startsWith('CONNECT')) socket.write('HTTP/1.1 200 Connection Established\r\n\r\nSERVER-FIRST');
      else if (text.includes('/silent')) return; // never answers
      else if (text.includes('/half-body')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      else if (text.includes('/hints-then-go')) {
        // The final response only after the client saw the 103 and said so: a session that waited
        // for the final head before handing out the 1xx would wait forever.
        socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
        socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
      }
      else if (text.includes('/echo-head')) socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${d.length}\r\n\r\n`, 'latin1'), d]));
      else if (text.includes('/two-parts')) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart1');
        setTimeout(() => socket.write('part2'), 50);
      }
      else socket.end();
    });
  });
  ctx.port = await listen(ctx.server);
});
rawServer.after(async (ctx) => new Promise<void>((r) => ctx.server.close(() => r())));

rawServer('a head without body leaves as Latin-1 bytes (obs-text kept); a body here in one piece is taken whole', async ({ port }) => {
  const session = new ClientSession(await open(port));
  try {
    const req = RequestHeader.build('GET', '/echo-head');
    req.headers.appendUnchecked('X-Latin1', 'caf\u00e9 \u00ff');
    assert.is(session.writeRequestHeader(req), undefined, 'no backpressure');
    await session.readResponse();
    const body = session.takeWholeBody();
    assert.ok(body !== undefined, 'the whole body came with the head');
    assert.ok(body.includes(Buffer.from('X-Latin1: caf\xe9 \xff\r\n', 'latin1')), 'one byte per character, not UTF-8');
    assert.is(session.bodyBytesRead(), body.length);
    assert.is(session.pollBodyChunk(), null, 'nothing left');
    assert.ok(session.isReusable());
  } finally {
    session.close();
  }
});

rawServer('pollBodyChunk gives what is here and undefined while more is to come; takeWholeBody takes nothing then', async ({ port }) => {
  const session = new ClientSession(await open(port));
  try {
    session.writeRequestHeader(RequestHeader.build('GET', '/two-parts'));
    await session.readResponse();
    assert.is(session.takeWholeBody(), undefined, 'not complete yet');
    assert.is(session.pollBodyChunk()?.toString(), 'part1', 'the piece that came with the head, nothing taken before');
    assert.is(session.pollBodyChunk(), undefined);
    assert.is((await session.readBodyChunk())?.toString(), 'part2');
    assert.is(session.pollBodyChunk(), null);
    assert.is(session.bodyBytesRead(), 10);
  } finally {
    session.close();
  }
});

rawServer('close-delimited body ends at EOF and the connection is not reusable', async ({ port }) => {
  const session = new ClientSession(await open(port));
  session.writeRequestHeader(RequestHeader.build('GET', '/close-delimited'));
  await session.readResponse();
  assert.is((await session.readBody()).toString(), 'until the end');
  assert.is(session.isReusable(), false);
  session.close();
});

rawServer('malformed response is a typed error', async ({ port }) => {
  const session = new ClientSession(await open(port));
  session.writeRequestHeader(RequestHeader.build('GET', '/bad'));
  try {
    await session.readResponse();
    assert.unreachable('should reject');
  } catch (e) {
    assert.ok(e instanceof H1ParseError);
    assert.is((e as H1ParseError).code, 'ERR_H1_DUPLICATE_CONTENT_LENGTH');
  }
  session.close();
});

rawServer('stray bytes after a response make the connection unusable', async ({ port }) => {
  const session = new ClientSession(await open(port));
  session.writeRequestHeader(RequestHeader.build('GET', '/extra'));
  await session.readResponse();
  assert.is((await session.readBody()).toString(), 'ok');
  assert.is(session.isReusable(), false);
  session.close();
});

rawServer('a server that closes without answering is ConnectionClosed', async ({ port }) => {
  const session = new ClientSession(await open(port));
  session.writeRequestHeader(RequestHeader.build('GET', '/nothing'));
  try {
    await session.readResponse();
    assert.unreachable('should reject');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ERR_CONNECTION_CLOSED');
  }
  session.close();
});

rawServer('1xx, then a close-delimited body and FIN in one segment', async ({ port }) => {
  const session = new ClientSession(await open(port));
  session.writeRequestHeader(RequestHeader.build('GET', '/continue-then-close'));
  const res = await session.readResponse();
  assert.is(res.status, 200);
  assert.equal(session.informational.map((h) => h.status), [100]);
  assert.is((await session.readBody()).toString(), 'all of it');
  assert.is(session.isReusable(), false);
  session.close();
});

/** `p`, or a rejection after `ms` (a bound on a hang, not a speed assertion). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms)));
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

rawServer('readResponseHead hands out each 1xx as it arrives, before the final head exists', async ({ port }) => {
  const stream = await open(port);
  const session = new ClientSession(stream);
  try {
    session.writeRequestHeader(RequestHeader.build('GET', '/hints-then-go'));
    const hint = await within(session.readResponseHead(), 3000, 'the 103');
    assert.is(hint.status, 103);
    assert.is(hint.headers.get('link'), '</a.css>; rel=preload');
    assert.is(session.response, null);
    stream.socket.write('go');
    const res = await within(session.readResponseHead(), 3000, 'the final head');
    assert.is(res.status, 200);
    assert.is(session.response, res);
    assert.is((await session.readBody()).toString(), 'ok');
  } finally {
    session.close();
  }
});

rawServer('close() settles a pending readResponse with a typed error', async ({ port }) => {
  const session = new ClientSession(await open(port));
  session.writeRequestHeader(RequestHeader.build('GET', '/silent'));
  const pending = session.readResponse();
  setTimeout(() => session.close(), 50);
  try {
    await within(pending, 3000, 'readResponse after close()');
    assert.unreachable('should reject');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ERR_H1_SESSION_CLOSED');
    assert.is((e as { type?: string }).type, 'ConnectionClosed');
  }
  assert.ok(session.stream.socket.destroyed);
});

rawServer('close() settles a pending body read with a typed error', async ({ port }) => {
  const session = new ClientSession(await open(port));
  session.writeRequestHeader(RequestHeader.build('GET', '/half-body'));
  await session.readResponse();
  assert.is((await session.readBodyChunk())?.toString(), 'abc');
  const pending = session.readBodyChunk();
  setTimeout(() => session.close(), 50);
  try {
    await within(pending, 3000, 'readBodyChunk after close()');
    assert.unreachable('should reject');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ERR_H1_SESSION_CLOSED');
  }
});

rawServer('CONNECT: a 2xx opens a tunnel; bytes after the head are handed over', async ({ port }) => {
  const session = new ClientSession(await open(port));
  const req = RequestHeader.build('CONNECT', 'example.com:443');
  req.insertHeader('Host', 'example.com:443');
  session.writeRequestHeader(req);
  const res = await session.readResponse();
  assert.is(res.status, 200);
  assert.is(session.isReusable(), false);
  const { socket, head } = session.takeOver();
  let got = head.toString();
  if (got.length < 12) {
    socket.resume();
    for await (const chunk of socket) {
      got += chunk.toString();
      if (got.length >= 12) break;
    }
  }
  assert.is(got, 'SERVER-FIRST');
  socket.destroy();
});

rawServer.run();
