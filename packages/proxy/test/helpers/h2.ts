// HTTP/2 peers for proxy tests: node:http2 origins (h2c and TLS), a node:http2 client, a test certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, createSecureServer, createServer, type ClientHttp2Session, type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Session, type Settings } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransportConnector, silentLogger } from '@sluice/core';
import { TlsSettings } from '@sluice/tls';
import { httpProxyService, type HttpProxyServiceOptions, type ProxyHttp } from '../../src/index.js';
import { runProxyService, type RunningProxy } from './net.js';

export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** A self-signed P-256 certificate for localhost and 127.0.0.1, made with openssl. */
export function makeCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-h2-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { dir, certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

export interface H2Origin {
  port: number;
  /** HTTP/2 sessions (connections) the origin accepted so far. */
  sessions: ServerHttp2Session[];
  close(): Promise<void>;
}

type Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/** A node:http2 origin on 127.0.0.1 port 0: h2c, or TLS (with `allowHTTP1` when `http1` is set); `settings` it announces. */
export async function startH2Origin(handler: Handler, tls?: TestCert, http1 = false, settings: Settings = {}): Promise<H2Origin> {
  const server: Http2Server | Http2SecureServer = tls === undefined ? createServer({ settings }, handler) : createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: http1, settings }, handler);
  const origin: H2Origin = {
    port: 0,
    sessions: [],
    close: () =>
      new Promise((resolve) => {
        for (const s of origin.sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('session', (s: ServerHttp2Session) => origin.sessions.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin.port = (server.address() as AddressInfo).port;
  return origin;
}

export interface H2Reply {
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders;
}

/** One request on a node:http2 client session. */
export function h2Request(client: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string, trailers?: OutgoingHttpHeaders): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: body === undefined && trailers === undefined, waitForTrailers: trailers !== undefined });
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    let responseHeaders: IncomingHttpHeaders = {};
    let responseTrailers: IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    req.on('response', (h) => (responseHeaders = h));
    req.on('trailers', (t) => (responseTrailers = t));
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve({ headers: responseHeaders, body: Buffer.concat(parts), trailers: responseTrailers }));
    req.on('error', reject);
    if (body !== undefined || trailers !== undefined) req.end(body);
  });
}

/** A node:http2 client session to the proxy (h2c, or TLS trusting `ca`). */
export function h2Client(port: number, ca?: Buffer): ClientHttp2Session {
  const client = ca === undefined ? connect(`http://127.0.0.1:${port}`) : connect(`https://127.0.0.1:${port}`, { ca });
  client.on('error', () => {});
  return client;
}

/** Runs `proxy` on a TLS endpoint of 127.0.0.1 port 0 offering h2 and http/1.1 by ALPN. */
export async function startTlsProxy<Ctx>(proxy: ProxyHttp<Ctx>, cert: TestCert, options: HttpProxyServiceOptions = {}): Promise<RunningProxy> {
  const connector = new TransportConnector();
  const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 128 }, proxy, { logger: silentLogger, connector, alpnH2: true, ...options });
  return runProxyService(service.addTls('127.0.0.1:0', TlsSettings.intermediate(cert.certFile, cert.keyFile)), connector);
}
