import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { once } from 'node:events';
import { DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_TOTAL_CONNECTION_TIMEOUT_MS, HttpPeer, Peer, SluiceError, TransportConnector, connect, parsePeerAddress } from '../src/index.js';
import { blackholeListener, tcpServer } from './helpers/net.js';

async function rejectsWith(p: Promise<unknown>, type: string): Promise<SluiceError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SluiceError, `a SluiceError, got ${e}`);
    assert.is((e as SluiceError).type, type, (e as Error).message);
    return e as SluiceError;
  }
  throw new Error(`expected ${type}`);
}

const peers = suite('Peer');

peers('addresses parse and print; reuse hash separates what must not share a connection', () => {
  assert.equal(parsePeerAddress('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
  assert.equal(parsePeerAddress('[::1]:443'), { host: '::1', port: 443 });
  assert.equal(parsePeerAddress('unix:/tmp/s.sock'), { path: '/tmp/s.sock' });
  assert.throws(() => parsePeerAddress('nope'), /not host:port/);
  assert.throws(() => parsePeerAddress('a:70000'), /not host:port/);
  assert.is(new Peer('[::1]:443').addressText, '[::1]:443');
  const a = new HttpPeer('127.0.0.1:443', true, 'a.example');
  assert.is(a.scheme, 'https');
  assert.is(a.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'a.example').reuseHash());
  assert.is.not(a.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'b.example').reuseHash());
  assert.is.not(a.reuseHash(), new HttpPeer('127.0.0.1:443', false, 'a.example').reuseHash());
  assert.is.not(a.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'a.example', { verifyCert: false }).reuseHash());
  assert.is.not(a.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'a.example', { ca: Buffer.from('x') }).reuseHash());
  assert.ok(new HttpPeer('127.0.0.1:1', false, '', { alpn: 'h2h1' }).wantsH2);
  // Trust material given as PEM strings: every PEM starts alike, so only the whole text may decide.
  const pemA = `-----BEGIN CERTIFICATE-----\nMIIB${'A'.repeat(900)}\n-----END CERTIFICATE-----\n`;
  const pemB = `-----BEGIN CERTIFICATE-----\nMIIB${'A'.repeat(899)}B\n-----END CERTIFICATE-----\n`;
  const withCa = (ca: string) => new HttpPeer('127.0.0.1:443', true, 'a.example', { ca }).reuseHash();
  assert.is.not(withCa(pemA), withCa(pemB), 'different CAs never share a pooled connection');
  assert.is(withCa(pemA), withCa(`${pemA}`), 'the same CA text does');
  const withCert = (cert: string) => new HttpPeer('127.0.0.1:443', true, 'a.example', { clientCert: { cert, key: 'k' } }).reuseHash();
  assert.is.not(withCert(pemA), withCert(pemB), 'different client certificates never share one');
});

peers('a peer changed after its reuse hash was asked gets the hash of what it is now', () => {
  const plain = new HttpPeer('127.0.0.1:443', true, 'a.example').reuseHash();
  const p = new HttpPeer('127.0.0.1:443', true, 'a.example');
  assert.is(p.reuseHash(), plain);
  assert.is(p.reuseHash(), p.reuseHash(), 'asked again, the same');
  p.sni = 'b.example';
  assert.is(p.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'b.example').reuseHash());
  p.sni = 'a.example';
  p.options.alpn = 'h2';
  assert.is(p.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'a.example', { alpn: 'h2' }).reuseHash());
  p.options = { verifyCert: false };
  assert.is(p.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'a.example', { verifyCert: false }).reuseHash());
  const cert = { cert: 'c1', key: 'k' };
  p.options = { clientCert: cert };
  const before = p.reuseHash();
  cert.cert = 'c2';
  assert.is.not(p.reuseHash(), before, 'a client certificate replaced in place');
  assert.is(p.reuseHash(), new HttpPeer('127.0.0.1:443', true, 'a.example', { clientCert: { cert: 'c2', key: 'k' } }).reuseHash());
});

const conn = suite('connect');

conn('connects over TCP with a digest and reads/writes through the stream', async () => {
  const srv = await tcpServer((s) => s.pipe(s));
  const stream = await connect(new Peer(`127.0.0.1:${srv.port}`));
  assert.is(stream.digest.peerAddr?.port, srv.port);
  assert.is(stream.digest.peerAddr?.family, 'IPv4');
  assert.ok(typeof stream.digest.connectMs === 'number' && stream.digest.connectMs >= 0);
  assert.is(stream.write('ping'), undefined, 'no backpressure for a small write');
  assert.is((await stream.read())!.toString(), 'ping');
  stream.destroy();
  await srv.close();
});

conn('refused connect is ConnectRefused from upstream, retryable', async () => {
  const srv = await tcpServer();
  const port = srv.port;
  await srv.close();
  const e = await rejectsWith(connect(new Peer(`127.0.0.1:${port}`)), 'ConnectRefused');
  assert.is(e.source, 'Upstream');
  assert.ok(e.retryable());
  assert.match(e.message, `127.0.0.1:${port}`);
});

conn('connect that hangs is ConnectTimedout after connectionTimeoutMs', async () => {
  const hole = await blackholeListener();
  try {
    const t0 = Date.now();
    const e = await rejectsWith(connect(new Peer(`127.0.0.1:${hole.port}`, false, '', { connectionTimeoutMs: 150 })), 'ConnectTimedout');
    assert.ok(Date.now() - t0 < 5000, 'bounded by the timeout, not the kernel');
    assert.match(e.message, 'exceeded 150 ms');
    await rejectsWith(connect(new Peer(`127.0.0.1:${hole.port}`, false, '', { totalConnectionTimeoutMs: 150 })), 'ConnectTimedout');
  } finally {
    hole.stop();
  }
});

conn('a peer that sets no connect timeout is bounded by the connector default (10 s unless configured)', async () => {
  assert.is(DEFAULT_CONNECTION_TIMEOUT_MS, 10_000);
  assert.is(DEFAULT_TOTAL_CONNECTION_TIMEOUT_MS, 30_000);
  assert.equal(new TransportConnector().connectTimeouts, { connectionTimeoutMs: 10_000, totalConnectionTimeoutMs: 30_000 });
  const hole = await blackholeListener();
  try {
    const connector = new TransportConnector({ connectionTimeoutMs: 150 });
    const t0 = Date.now();
    const e = await rejectsWith(connector.newStream(new Peer(`127.0.0.1:${hole.port}`)), 'ConnectTimedout');
    assert.ok(Date.now() - t0 < 5000, 'bounded by the default, not the kernel');
    assert.match(e.message, 'connect to');
    assert.match(e.message, 'exceeded 150 ms');
    // The total default bounds the TCP connect too when it is the shorter.
    const total = new TransportConnector({ totalConnectionTimeoutMs: 150 });
    assert.match((await rejectsWith(total.newStream(new Peer(`127.0.0.1:${hole.port}`)), 'ConnectTimedout')).message, 'total connect');
    // A peer's own bound wins over the connector's.
    const own = await rejectsWith(new TransportConnector({ connectionTimeoutMs: 60_000 }).newStream(new Peer(`127.0.0.1:${hole.port}`, false, '', { connectionTimeoutMs: 120 })), 'ConnectTimedout');
    assert.match(own.message, 'exceeded 120 ms');
  } finally {
    hole.stop();
  }
});

conn('a TLS handshake that never ends is bounded by the connector\'s total default', async () => {
  const srv = await tcpServer(); // accepts TCP, never speaks TLS
  try {
    const connector = new TransportConnector({ totalConnectionTimeoutMs: 200 });
    await rejectsWith(connector.newStream(new Peer(`127.0.0.1:${srv.port}`, true, 'localhost')), 'TLSHandshakeTimedout');
  } finally {
    await srv.close();
  }
});

conn('invalid connector connect bounds are a typed ConfigError', () => {
  for (const bad of [0, -1, Number.NaN]) {
    try {
      new TransportConnector({ connectionTimeoutMs: bad });
      assert.unreachable(`${bad} accepted`);
    } catch (e) {
      assert.is((e as SluiceError).code, 'ERR_CONNECTOR_INVALID_TIMEOUT');
      assert.is((e as SluiceError).type, 'ConfigError');
    }
  }
  assert.is(new TransportConnector({ connectionTimeoutMs: Infinity }).connectTimeouts.connectionTimeoutMs, Infinity);
});

conn('a TLS peer whose server never answers the handshake times out within the total bound', async () => {
  const srv = await tcpServer(); // accepts TCP, never speaks TLS
  const e = await rejectsWith(connect(new Peer(`127.0.0.1:${srv.port}`, true, 'localhost', { totalConnectionTimeoutMs: 200 })), 'TLSHandshakeTimedout');
  assert.is(e.source, 'Upstream');
  await srv.close();
});

conn('an aborted signal abandons the connect in either phase at once, far before its bounds', async () => {
  const hole = await blackholeListener();
  const srv = await tcpServer(); // accepts TCP, never speaks TLS
  try {
    for (const [peer, phase] of [[new Peer(`127.0.0.1:${hole.port}`, false, '', { connectionTimeoutMs: 60_000 }), 'tcp'], [new Peer(`127.0.0.1:${srv.port}`, true, 'localhost', { totalConnectionTimeoutMs: 60_000 }), 'tls']] as const) {
      const attempt = new AbortController();
      const connecting = connect(peer, undefined, undefined, attempt.signal);
      setTimeout(() => attempt.abort(), 100);
      const bound = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${phase}: not abandoned within 5 s`)), 5000).unref());
      const e = await Promise.race([connecting.then(() => assert.unreachable('connected'), (error: unknown) => error), bound]);
      assert.instance(e, SluiceError, phase);
      assert.is((e as SluiceError).source, 'Upstream');
    }
  } finally {
    hole.stop();
    await srv.close();
  }
});

conn('a signal aborted after the connect succeeded leaves the connection alone (TCP and TLS)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'core-connect-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const echo = (s: Socket) => s.on('data', (d: Buffer) => s.write(d)).on('error', () => {});
  const plain = await tcpServer(echo);
  const secure = createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, echo);
  secure.listen(0, '127.0.0.1');
  await once(secure, 'listening');
  try {
    const peers = [new Peer(`127.0.0.1:${plain.port}`), new Peer(`127.0.0.1:${(secure.address() as AddressInfo).port}`, true, 'localhost', { ca: cert })];
    for (const peer of peers) {
      const attempt = new AbortController();
      const stream = await connect(peer, undefined, undefined, attempt.signal);
      attempt.abort();
      await new Promise((r) => setImmediate(r)); // a destroy would have happened by now
      assert.not.ok(stream.socket.destroyed, `${peer}: the socket outlives the abort`);
      await stream.write(Buffer.from('still here'));
      assert.is((await stream.read())?.toString(), 'still here', `${peer}: and still carries bytes`);
      stream.destroy();
    }
  } finally {
    await plain.close();
    await new Promise<void>((r) => secure.close(() => r()));
  }
});

conn('a TLS peer that is not TLS fails the handshake with TLSHandshakeFailure', async () => {
  const srv = await tcpServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await rejectsWith(connect(new Peer(`127.0.0.1:${srv.port}`, true, 'localhost')), 'TLSHandshakeFailure');
  await srv.close();
});

conn('connects to a Unix domain socket', async () => {
  const path = `/tmp/sluice-test-${process.pid}.sock`;
  const server = createServer((s) => s.end('hi'));
  server.listen(path);
  await once(server, 'listening');
  const stream = await connect(new Peer(`unix:${path}`));
  assert.is(stream.digest.peerAddr?.family, 'unix');
  assert.is((await stream.read())!.toString(), 'hi');
  assert.is(await stream.read(), null);
  await new Promise((r) => server.close(r));
});

const streams = suite('Stream');

streams('read timeout is ReadTimedout and destroys the socket; unread comes first', async () => {
  const srv = await tcpServer((s) => s.write('a'));
  const stream = await connect(new Peer(`127.0.0.1:${srv.port}`, false, '', { readTimeoutMs: 100 }));
  const first = (await stream.read())!;
  stream.unread(first);
  assert.is((await stream.read())!.toString(), 'a');
  await rejectsWith(stream.read(), 'ReadTimedout');
  assert.ok(stream.socket.destroyed);
  await srv.close();
});

streams('write backpressure returns a promise; write timeout is WriteTimedout', async () => {
  const srv = await tcpServer((s) => s.pause()); // never reads: the kernel buffers fill
  const stream = await connect(new Peer(`127.0.0.1:${srv.port}`, false, '', { writeTimeoutMs: 200 }));
  const chunk = Buffer.alloc(1 << 20);
  let pending: Promise<void> | undefined;
  for (let i = 0; i < 64 && !pending; i++) pending = stream.write(chunk);
  assert.ok(pending, 'a full socket asks the writer to wait');
  const listenersBefore = stream.socket.listenerCount('drain');
  const waiters = Array.from({ length: 50 }, () => stream.drain());
  assert.ok(waiters.every((w) => w === waiters[0]), 'concurrent waiters share one wait');
  assert.is(stream.socket.listenerCount('drain'), listenersBefore, 'no listener per waiter');
  await rejectsWith(pending!, 'WriteTimedout');
  for (const w of waiters) await rejectsWith(w, 'WriteTimedout');
  await srv.close();
});

streams('peer reset is a typed error on read; end of stream is null', async () => {
  const srv = await tcpServer((s) => s.once('data', () => s.resetAndDestroy()));
  try {
    const stream = await connect(new Peer(`127.0.0.1:${srv.port}`));
    stream.write('go');
    await rejectsWith(stream.read(), 'ConnectionClosed');
    assert.is(await stream.read().catch((e: SluiceError) => e.type), 'ConnectionClosed', 'the failure sticks');
  } finally {
    await srv.close();
  }
  const eof = await tcpServer((s) => s.end('bye'));
  try {
    const stream = await connect(new Peer(`127.0.0.1:${eof.port}`));
    assert.is((await stream.read())!.toString(), 'bye');
    assert.is(await stream.read(), null, 'end of stream');
    assert.is(await stream.read(), null, 'and it stays ended');
  } finally {
    await eof.close();
  }
});

const transport = suite('TransportConnector');

transport('reuses a released connection, then makes new ones when none is idle', async () => {
  const srv = await tcpServer((s) => s.pipe(s));
  const connector = new TransportConnector();
  const peer = new Peer(`127.0.0.1:${srv.port}`);
  const first = await connector.getStream(peer);
  assert.is(first.reused, false);
  connector.releaseStream(first.stream, peer);
  const second = await connector.getStream(peer);
  assert.is(second.reused, true);
  assert.is(second.stream, first.stream);
  assert.is(srv.sockets.length, 1, 'one TCP connection served both');
  second.stream.write('x');
  assert.is((await second.stream.read())!.toString(), 'x', 'the reused stream still reads');
  const third = await connector.getStream(peer);
  assert.is(third.reused, false);
  assert.is(srv.sockets.length, 2);
  second.stream.destroy();
  third.stream.destroy();
  await srv.close();
});

peers.run();
conn.run();
streams.run();
transport.run();
