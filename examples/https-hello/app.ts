import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { CertificateAuthority, TlsSettings, createCertificateAuthority } from '@sluice/tls';

/**
 * The CA in `certDir` (ca.pem, ca-key.pem), created on first use so clients keep trusting it across
 * restarts, and a fresh certificate from it for localhost, 127.0.0.1 and ::1.
 */
export function localCertificates(certDir: string): { caFile: string; cert: string; key: string } {
  mkdirSync(certDir, { recursive: true });
  const caFile = join(certDir, 'ca.pem');
  const caKeyFile = join(certDir, 'ca-key.pem');
  let ca: CertificateAuthority;
  if (existsSync(caFile) && existsSync(caKeyFile)) ca = new CertificateAuthority(readFileSync(caFile, 'utf8'), readFileSync(caKeyFile, 'utf8'));
  else {
    ca = createCertificateAuthority({ commonName: 'Sluice https-hello CA' });
    writeFileSync(caKeyFile, ca.key, { mode: 0o600 });
    writeFileSync(caFile, ca.cert);
  }
  const leaf = ca.issue({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], validityDays: 30 });
  return { caFile, cert: leaf.chain, key: leaf.key };
}

function hello(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const tls = req.socket as TLSSocket;
  const body = `hello over HTTP/${req.httpVersion} (ALPN ${tls.alpnProtocol || 'none'}, ${tls.getProtocol()})\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * An HTTPS server speaking HTTP/2 and HTTP/1.1 by ALPN on `TlsSettings` (node:http2 with
 * `allowHTTP1`; it moves onto @sluice/http1 and @sluice/http2 once they serve).
 */
export function createHelloServer(options: { cert: string; key: string; keyLog?: string }): { server: Http2SecureServer; settings: TlsSettings } {
  const settings = new TlsSettings({ cert: options.cert, key: options.key, keyLog: options.keyLog }).enableH2();
  const server = createSecureServer({ ...settings.serverOptions(), allowHTTP1: true }, hello);
  settings.attach(server);
  return { server, settings };
}
