// Our client against Node's node:http2 server (nghttp2) and against our own server: requests and
// responses, trailers both ways (gRPC), large bodies with small windows, multiplexing up to the
// server's MAX_CONCURRENT_STREAMS, the connector's sharing by reuseHash, TLS with ALPN h2.
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, HeaderMap, HttpPeer, RequestHeader } from '@sluice/core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Http2ClientSession, Http2Connector } from '../src/index.js';
import { startServer, type TestServer } from './helpers/echo-server.js';
import { bodies, pattern, sha256 } from './helpers/peers.js';

interface NodeServer {
  server: http2.Http2Server | http2.Http2SecureServer;
  port: number;
  maxSeen: number;
}

/** A node:http2 server: echoes method, path, body hash and trailers; answers with trailers; /download?n=N. */
async function nodeServer(options: http2.ServerOptions = {}, secure?: http2.SecureServerOptions): Promise<NodeServer> {
  const state = { server: undefined as unknown as http2.Http2Server, port: 0, maxSeen: 0 };
  let active = 0;
  const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    active++;
    state.maxSeen = Math.max(state.maxSeen, active);
    stream.on('close', () => active--);
    const path = String(headers[':path']);
    if (path.startsWith('/download')) {
      const n = Number(path.split('=')[1]);
      stream.respond({ ':status': 200 });
      stream.end(pattern(n));
      return;
    }
    const parts: Buffer[] = [];
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (d: Buffer) => parts.push(d));
    stream.on('end', () => {
      const body = Buffer.concat(parts);
      const delay = path.startsWith('/slow') ? 50 : 0;
      setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 201, 'content-type': 'application/json' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'fine' }));
        stream.end(JSON.stringify({ method: headers[':method'], path, authority: headers[':authority'], scheme: headers[':scheme'], length: body.length, sha256: sha256(body), trailer: trailers['x-checksum'] ?? null, te: headers.te ?? null }));
      }, delay);
    });
  };
  const server = secure !== undefined ? http2.createSecureServer({ ...options, ...secure }) : http2.createServer(options);
  server.on('stream', onStream);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.server = server as http2.Http2Server;
  state.port = (server.address() as { port: number }).port;
  return state;
}

const closers: Array<() => Promise<void> | void> = [];
async function closeAll(): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close();
}

async function session(port: number, options = {}): Promise<Http2ClientSession> {
  const stream = await connect(new HttpPeer(`127.0.0.1:${port}`));
  const s = new Http2ClientSession(stream, options);
  closers.push(() => s.connection.close());
  return s;
}

const againstNode = suite('client session against node:http2 server');
againstNode.after(closeAll);

againstNode('GET and POST with request trailers; response trailers (gRPC style)', async () => {
  const server = await nodeServer();
  closers.push(() => new Promise<void>((r) => server.server.close(() => r())));
  const s = await session(server.port);
  const get = s.sendRequest(RequestHeader.build('GET', '/hello?a=1').insertHeader('Host', 'example.test'), { endStream: true });
  const response = await get.readResponseHeader();
  assert.is(response.status, 201);
  assert.is(response.version, '2');
  const json = JSON.parse((await get.readBody()).toString());
  assert.equal([json.method, json.path, json.authority, json.scheme], ['GET', '/hello?a=1', 'example.test', 'http']);
  assert.is(get.responseTrailers?.get('grpc-status'), '0');

  const post = s.sendRequest(RequestHeader.build('POST', '/rpc').insertHeader('Host', 'x').insertHeader('TE', 'trailers').insertHeader('Connection', 'keep-alive'));
  await post.writeBody('hello ');
  await post.writeBody('world');
  const trailers = new HeaderMap().append('X-Checksum', 'abc');
  await post.finishRequest(trailers);
  await post.readResponseHeader();
  const echoed = JSON.parse((await post.readBody()).toString());
  assert.is(echoed.length, 11);
  assert.is(echoed.trailer, 'abc');
  assert.is(echoed.te, 'trailers');
  assert.is(post.responseTrailers?.get('grpc-message'), 'fine');
});

againstNode('large bodies both ways with small windows', async () => {
  const server = await nodeServer({ settings: { initialWindowSize: 16384 } });
  closers.push(() => new Promise<void>((r) => server.server.close(() => r())));
  const s = await session(server.port, { initialWindowSize: 16384, connectionWindowSize: 65535 });
  const body = pattern(2 << 20);
  const up = s.sendRequest(RequestHeader.build('POST', '/upload').insertHeader('Host', 'x'));
  await up.writeBody(body, true);
  await up.readResponseHeader();
  assert.is(JSON.parse((await up.readBody()).toString()).sha256, sha256(body));
  const down = s.sendRequest(RequestHeader.build('GET', `/download?n=${3 << 20}`).insertHeader('Host', 'x'), { endStream: true });
  await down.readResponseHeader();
  const got = await down.readBody();
  assert.is(got.length, 3 << 20);
  assert.is(sha256(got), sha256(pattern(3 << 20)));
});

againstNode('multiplexing stays within the server MAX_CONCURRENT_STREAMS; the connector opens more connections', async () => {
  const server = await nodeServer({ settings: { maxConcurrentStreams: 5 } });
  closers.push(() => new Promise<void>((r) => server.server.close(() => r())));
  const connector = new Http2Connector();
  closers.push(() => connector.close());
  const peer = new HttpPeer(`127.0.0.1:${server.port}`);
  const first = await connector.session(peer);
  await new Promise((r) => setTimeout(r, 50)); // the server's SETTINGS arrive
  assert.is(first.availableStreams, 5);
  assert.is(connector.reusedSession(peer), first, 'an open connection with free streams is reused synchronously');
  const streams = await Promise.all(Array.from({ length: 12 }, (_, i) => connector.request(peer, RequestHeader.build('GET', `/slow/${i}`).insertHeader('Host', 'x'), { endStream: true })));
  assert.is(connector.connectionsTo(peer), 3, 'three connections for 12 streams at 5 each');
  assert.is(connector.reusedSession(peer)?.availableStreams, 3, 'the third has 3 free streams');
  const more = await Promise.all(Array.from({ length: 3 }, (_, i) => connector.request(peer, RequestHeader.build('GET', `/slow/more${i}`).insertHeader('Host', 'x'), { endStream: true })));
  assert.is(connector.reusedSession(peer), undefined, 'every connection at its stream limit: none to reuse');
  for (const stream of more) {
    await stream.readResponseHeader();
    await stream.readBody();
  }
  const paths = await Promise.all(
    streams.map(async (stream) => {
      await stream.readResponseHeader();
      return JSON.parse((await stream.readBody()).toString()).path as string;
    }),
  );
  assert.equal(paths, Array.from({ length: 12 }, (_, i) => `/slow/${i}`));
  assert.ok(server.maxSeen <= 15);
  // Freed streams are reused: no new connection.
  const again = await connector.request(peer, RequestHeader.build('GET', '/again').insertHeader('Host', 'x'), { endStream: true });
  await again.readResponseHeader();
  await again.readBody();
  assert.is(connector.connectionsTo(peer), 3);
});

againstNode('TLS with ALPN h2 through core connect and the connector', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'h2tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const key = readFileSync(join(dir, 'key.pem'));
  const server = await nodeServer({}, { cert, key, allowHTTP1: false });
  closers.push(() => new Promise<void>((r) => server.server.close(() => r())));
  const connector = new Http2Connector();
  closers.push(() => connector.close());
  const peer = new HttpPeer(`127.0.0.1:${server.port}`, true, 'localhost', { alpn: 'h2', ca: cert });
  const stream = await connector.request(peer, RequestHeader.build('GET', '/tls').insertHeader('Host', 'localhost'), { endStream: true });
  await stream.readResponseHeader();
  const json = JSON.parse((await stream.readBody()).toString());
  assert.equal([json.path, json.scheme], ['/tls', 'https']);
});

const againstOurs = suite('client session against our server');
againstOurs.after(closeAll);

againstOurs('our client and our server: 200 concurrent requests over one connection, bodies intact', async () => {
  const server: TestServer = await startServer({ maxConcurrentStreams: 200 }, bodies);
  closers.push(() => server.close());
  const s = await session(server.port);
  await new Promise((r) => setTimeout(r, 20));
  const results = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const stream = s.sendRequest(RequestHeader.build('POST', `/r/${i}`).insertHeader('Host', 'ours'));
      const body = pattern(i * 97);
      await stream.writeBody(body, true);
      const response = await stream.readResponseHeader();
      return { status: response.status, json: JSON.parse((await stream.readBody()).toString()), hash: sha256(body) };
    }),
  );
  results.forEach((r, i) => {
    assert.is(r.status, 200);
    assert.is(r.json.path, `/r/${i}`);
    assert.is(r.json.sha256, r.hash);
  });
});

againstOurs('a server GOAWAY fails streams above its last stream id with a retryable error', async () => {
  const controller = new AbortController();
  const server = await startServer({ shutdown: controller.signal, shutdownPingTimeoutMs: 50 }, bodies);
  closers.push(() => server.close());
  const s = await session(server.port);
  const stream = s.sendRequest(RequestHeader.build('GET', `/download?n=${1 << 20}`).insertHeader('Host', 'x'), { endStream: true });
  await stream.readResponseHeader();
  controller.abort();
  const body = await stream.readBody();
  assert.is(body.length, 1 << 20);
  await s.closed;
  assert.is(s.isOpen, false);
  assert.throws(() => s.sendRequest(RequestHeader.build('GET', '/late'), { endStream: true }), (e: Error & { code?: string }) => e.code === 'ERR_H2_NO_STREAMS');
});

againstNode.run();
againstOurs.run();
