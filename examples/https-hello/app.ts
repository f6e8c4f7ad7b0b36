import { ListeningService, ResponseHeader, type ServerApp, type Stream } from '@sluice/core';
import { serveHttp1 } from '@sluice/http1';
import { serveHttp2 } from '@sluice/http2';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

function greeting(stream: Stream, httpVersion: string): string {
  const tls = stream.digest.tls;
  return `hello over HTTP/${httpVersion} (ALPN ${tls?.alpn ?? 'none'}, ${tls?.version ?? 'no TLS'})\n`;
}

function textResponse(body: string): ResponseHeader {
  return ResponseHeader.build(200).insertHeader('content-type', 'text/plain').insertHeader('content-length', Buffer.byteLength(body));
}

/**
 * Serves each TLS connection with Sluice's own codecs by what ALPN chose: HTTP/2 (@sluice/http2)
 * for `h2`, HTTP/1.1 (@sluice/http1) otherwise.
 */
export const helloApp: ServerApp = {
  processNewConnection(stream: Stream, shutdown: AbortSignal) {
    if (stream.digest.tls?.alpn === 'h2') {
      return serveHttp2(stream, (h2) => h2.respond(textResponse(greeting(stream, '2.0')), greeting(stream, '2.0')), { shutdown });
    }
    return serveHttp1(stream, async (session) => {
      const body = greeting(stream, '1.1');
      await session.respond(textResponse(body), body);
    });
  },
};

/** An HTTPS service on `TlsSettings` (ALPN h2 and http/1.1) listening on `addr`. */
export function createHelloService(addr: string, options: { cert: string; key: string; keyLog?: string }): { service: ListeningService; settings: TlsSettings } {
  const settings = new TlsSettings({ cert: options.cert, key: options.key, keyLog: options.keyLog }).enableH2();
  return { service: new ListeningService('https-hello', helloApp).addTls(addr, settings), settings };
}
