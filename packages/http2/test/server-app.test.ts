// Http2ServerApp under core's ListeningService: h2c and TLS (ALPN h2) endpoints, answered by
// node:http2 clients; a service shutdown drains streams in progress with the two-step GOAWAY.
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListeningService, ResponseHeader, silentLogger } from '@sluice/core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Http2ServerApp, type Http2ServerStream } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'h2app-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
const cert = readFileSync(join(dir, 'cert.pem'));
const key = readFileSync(join(dir, 'key.pem'));

let release: () => void = () => {};
async function handler(stream: Http2ServerStream): Promise<void> {
  if (stream.request.path === '/wait') await new Promise<void>((r) => (release = r));
  const body = JSON.stringify({ path: stream.request.uri, authority: stream.authority, scheme: stream.scheme });
  await stream.respond(ResponseHeader.build(200, '2').insertHeader('content-type', 'application/json'), body);
}

function get(client: http2.ClientHttp2Session, path: string): Promise<{ status: number; json: { path: string; scheme: string } }> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': path });
    let status = 0;
    const parts: Buffer[] = [];
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve({ status, json: JSON.parse(Buffer.concat(parts).toString()) }));
    req.on('error', reject);
  });
}

const app = suite('Http2ServerApp on ListeningService');
const shutdown = new AbortController();
// HTTP/1.1 by ALPN goes to the fallback app: here a fixed response.
const fallback = {
  processNewConnection(stream: import('@sluice/core').Stream): void {
    stream.socket.once('data', () => stream.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nfallback'));
  },
};
const service = new ListeningService('h2', new Http2ServerApp(handler, { fallback }))
  .addTcp('127.0.0.1:0')
  .addTls('127.0.0.1:0', { serverOptions: () => ({ cert, key, ALPNProtocols: ['h2', 'http/1.1'] }) });
let running: Promise<void>;

app.before(async () => {
  running = service.start(shutdown.signal, silentLogger);
  await service.readiness.ready;
});
app.after(async () => {
  if (!shutdown.signal.aborted) shutdown.abort();
  await running;
});

app('h2c with prior knowledge', async () => {
  const client = http2.connect(`http://127.0.0.1:${service.addresses[0].port}`);
  try {
    const r = await get(client, '/plain');
    assert.is(r.status, 200);
    assert.equal([r.json.path, r.json.scheme], ['/plain', 'http']);
  } finally {
    client.close();
  }
});

app('TLS with ALPN h2', async () => {
  const client = http2.connect(`https://localhost:${service.addresses[1].port}`, { ca: cert });
  try {
    const r = await get(client, '/secure');
    assert.is(r.status, 200);
    assert.equal([r.json.path, r.json.scheme], ['/secure', 'https']);
    assert.is((client.socket as import('node:tls').TLSSocket).alpnProtocol, 'h2');
  } finally {
    client.close();
  }
});

app('TLS with ALPN http/1.1 goes to the fallback app', async () => {
  const https = await import('node:https');
  const body = await new Promise<string>((resolve, reject) => {
    const options: import('node:https').RequestOptions = { host: '127.0.0.1', servername: 'localhost', port: service.addresses[1].port, path: '/', ca: cert, agent: false };
    Object.assign(options, { ALPNProtocols: ['http/1.1'] });
    https
      .get(options, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  assert.is(body, 'fallback');
});

app('service shutdown: GOAWAY, the stream in progress completes, the service stops', async () => {
  const client = http2.connect(`http://127.0.0.1:${service.addresses[0].port}`);
  let goaway = false;
  client.on('goaway', () => (goaway = true));
  const pending = get(client, '/wait');
  await new Promise((r) => setTimeout(r, 50));
  shutdown.abort();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(goaway, 'GOAWAY sent on shutdown');
  release();
  const r = await pending;
  assert.is(r.json.path, '/wait');
  await running; // resolves once every connection has closed
  client.close();
});

app.run();
