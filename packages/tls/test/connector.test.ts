import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrivateKey } from '../src/certificate.js';
import { TlsConnector, type TlsPeerLike, type TlsPeerOptions } from '../src/connector.js';
import { TlsSettings } from '../src/settings.js';
import { TlsCertificateError, TlsConfigError, TlsHandshakeError, tlsErrorOf } from '../src/errors.js';
import { otherTestCa, testCa, testKey, tempDir } from './helpers/pki.js';
import { rejection, serveTls, type TestTlsServer } from './helpers/servers.js';

const ca = testCa();
const key = testKey();
const originCert = ca.issue({ dnsNames: ['origin.test'], ipAddresses: ['127.0.0.1'], key });
const expiredCert = ca.issue({ dnsNames: ['origin.test'], key, notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
const strangerCert = otherTestCa().issue({ dnsNames: ['origin.test'], key });
const clientCert = ca.issue({ commonName: 'proxy-client', key, usage: ['clientAuth'] });

function peer(port: number, sni: string, options: TlsPeerOptions = {}): TlsPeerLike {
  return { sni, address: { host: '127.0.0.1', port }, options: { ca: ca.cert, ...options } };
}

async function tcp(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

async function readAll(socket: Socket): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  await once(socket, 'end');
  return text;
}

const connector = new TlsConnector();

// --- verification ---------------------------------------------------------------------------------
const verify = suite<{ good: TestTlsServer; expired: TestTlsServer; stranger: TestTlsServer }>('verification');
verify.before(async (ctx) => {
  ctx.good = await serveTls(new TlsSettings({ cert: originCert.chain, key }));
  ctx.expired = await serveTls(new TlsSettings({ cert: expiredCert.chain, key }));
  ctx.stranger = await serveTls(new TlsSettings({ cert: strangerCert.chain, key }));
});
verify.after(async (ctx) => {
  await ctx.good.close();
  await ctx.expired.close();
  await ctx.stranger.close();
});

verify('a verified peer: SNI sent, certificate checked, data flows', async ({ good }) => {
  const tls = await connector.upgrade(await tcp(good.port), peer(good.port, 'origin.test'));
  assert.ok(tls.authorized);
  assert.is(await readAll(tls), 'hello\n');
  assert.is((good.accepted[good.accepted.length - 1] as unknown as { servername: string }).servername, 'origin.test');
});

verify('no SNI: the hostname checked is the address (an IP SAN)', async ({ good }) => {
  const tls = await connector.upgrade(await tcp(good.port), peer(good.port, ''));
  assert.ok(tls.authorized);
  tls.destroy();
});

verify('wrong hostname is ERR_TLS_CERT_HOSTNAME; alternativeCn or verifyHostname:false accept it', async ({ good }) => {
  const e = await rejection(connector.upgrade(await tcp(good.port), peer(good.port, 'wrong.test')));
  assert.instance(e, TlsCertificateError);
  assert.is((e as TlsCertificateError).code, 'ERR_TLS_CERT_HOSTNAME');
  assert.is((e as TlsCertificateError).side, 'connector');
  assert.match((e as Error).message, `127.0.0.1:${good.port}`);
  (await connector.upgrade(await tcp(good.port), peer(good.port, 'wrong.test', { alternativeCn: 'origin.test' }))).destroy();
  (await connector.upgrade(await tcp(good.port), peer(good.port, 'wrong.test', { verifyHostname: false }))).destroy();
  const still = await rejection(connector.upgrade(await tcp(good.port), peer(good.port, 'wrong.test', { alternativeCn: 'other.test' })));
  assert.is((still as TlsCertificateError).code, 'ERR_TLS_CERT_HOSTNAME');
});

verify('an expired certificate is ERR_TLS_CERT_EXPIRED', async ({ expired }) => {
  const e = await rejection(connector.upgrade(await tcp(expired.port), peer(expired.port, 'origin.test')));
  assert.instance(e, TlsCertificateError);
  assert.is((e as TlsCertificateError).code, 'ERR_TLS_CERT_EXPIRED');
  assert.is((e as TlsCertificateError).opensslCode, 'CERT_HAS_EXPIRED');
});

verify('an unknown CA is ERR_TLS_UNKNOWN_CA; verifyCert:false accepts it', async ({ stranger }) => {
  const e = await rejection(connector.upgrade(await tcp(stranger.port), peer(stranger.port, 'origin.test')));
  assert.instance(e, TlsCertificateError);
  assert.is((e as TlsCertificateError).code, 'ERR_TLS_UNKNOWN_CA');
  const tls = await connector.upgrade(await tcp(stranger.port), peer(stranger.port, 'origin.test', { verifyCert: false }));
  assert.not.ok(tls.authorized);
  tls.destroy();
});

verify('the connector default CA is used for peers that name none; a client key that does not match is a TlsConfigError', async ({ good }) => {
  const withDefault = new TlsConnector({ ca: ca.cert });
  const tls = await withDefault.upgrade(await tcp(good.port), { sni: 'origin.test', address: { host: '127.0.0.1', port: good.port }, options: {} });
  assert.ok(tls.authorized);
  tls.destroy();
  const bare = await rejection(new TlsConnector().upgrade(await tcp(good.port), { sni: 'origin.test', address: { host: '127.0.0.1', port: good.port }, options: {} }));
  assert.is((bare as TlsCertificateError).code, 'ERR_TLS_UNKNOWN_CA');
  const socket = await tcp(good.port);
  const mismatched = { cert: clientCert.cert, key: generatePrivateKey() };
  const bad = await rejection(connector.upgrade(socket, peer(good.port, 'origin.test', { clientCert: mismatched })));
  assert.instance(bad, TlsConfigError);
  socket.destroy();
});

verify('a Unix socket peer without SNI is checked as localhost', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'origin.sock');
  const { createServer: createTlsServer } = await import('node:tls');
  const local = ca.issue({ dnsNames: ['localhost'], key });
  const server = createTlsServer({ cert: local.chain, key }, (s) => s.end('unix\n'));
  server.listen(path);
  await once(server, 'listening');
  try {
    const socket = netConnect(path);
    await once(socket, 'connect');
    const tls = await connector.upgrade(socket, { sni: '', address: { path }, options: { ca: ca.cert } });
    assert.is(await readAll(tls), 'unix\n');
    const other = netConnect(path);
    await once(other, 'connect');
    const e = await rejection(connector.upgrade(other, { sni: 'wrong.test', address: { path }, options: { ca: ca.cert } }));
    other.destroy();
    assert.is((e as TlsCertificateError).code, 'ERR_TLS_CERT_HOSTNAME');
  } finally {
    await new Promise((r) => server.close(r));
    dir.remove();
  }
});

// --- client certificates and ALPN ----------------------------------------------------------------
const mtls = suite('client certificates and alpn');
mtls('mTLS: the client certificate reaches the server; without it the refusal is ERR_TLS_CLIENT_CERT_REQUIRED', async () => {
  const server = await serveTls(new TlsSettings({ cert: originCert.chain, key, clientCertificates: { ca: ca.cert } }));
  try {
    const tls = await connector.upgrade(await tcp(server.port), peer(server.port, 'origin.test', { clientCert: { cert: clientCert.cert, key } }));
    assert.is(await readAll(tls), 'hello\n');
    assert.match(server.accepted[0].getPeerX509Certificate()?.subject ?? '', 'CN=proxy-client');
    // TLS 1.3: the client finishes its handshake before the server judges its certificate, so the
    // refusal arrives as the first read's error (RFC 8446 §4.4.2.4 certificate_required).
    const bare = await connector.upgrade(await tcp(server.port), peer(server.port, 'origin.test'));
    const [e13] = (await once(bare, 'error')) as [Error];
    const typed = tlsErrorOf(e13, 'connector');
    assert.instance(typed, TlsCertificateError);
    assert.is(typed.code, 'ERR_TLS_CLIENT_CERT_REQUIRED');
  } finally {
    await server.close();
  }
  // TLS 1.2 servers answer with a plain handshake_failure alert: the handshake fails, untyped beyond that.
  const tls12 = await serveTls(new TlsSettings({ cert: originCert.chain, key, maxVersion: 'TLSv1.2', clientCertificates: { ca: ca.cert } }));
  try {
    const e = await rejection(connector.upgrade(await tcp(tls12.port), peer(tls12.port, 'origin.test')));
    assert.instance(e, TlsHandshakeError);
    assert.is((e as TlsHandshakeError).code, 'ERR_TLS_HANDSHAKE_FAILURE');
    assert.match((e as TlsHandshakeError).reason, 'handshake failure');
  } finally {
    await tls12.close();
  }
});

mtls('ALPN policies h1, h2, h2h1 against an h2-preferring server and an h1-only one', async () => {
  const h2 = await serveTls(new TlsSettings({ cert: originCert.chain, key }).enableH2());
  const h1 = await serveTls(new TlsSettings({ cert: originCert.chain, key }));
  try {
    const alpn = async (port: number, policy: 'h1' | 'h2' | 'h2h1') => {
      const tls = await connector.upgrade(await tcp(port), peer(port, 'origin.test', { alpn: policy }));
      tls.destroy();
      return tls.alpnProtocol;
    };
    assert.is(await alpn(h2.port, 'h1'), 'http/1.1');
    assert.is(await alpn(h2.port, 'h2'), 'h2');
    assert.is(await alpn(h2.port, 'h2h1'), 'h2');
    assert.is(await alpn(h1.port, 'h2h1'), 'http/1.1');
    const refused = await rejection(alpn(h1.port, 'h2'));
    assert.instance(refused, TlsHandshakeError);
    assert.match((refused as TlsHandshakeError).reason, 'no application protocol');
  } finally {
    await h2.close();
    await h1.close();
  }
});

// --- session reuse --------------------------------------------------------------------------------
const sessions = suite('session reuse');
for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
  sessions(`${maxVersion}: the second connection to a peer resumes; other trust material does not share it`, async () => {
    const server = await serveTls(new TlsSettings({ cert: originCert.chain, key, maxVersion }));
    const pooled = new TlsConnector();
    try {
      const target = peer(server.port, 'origin.test');
      const first = await pooled.upgrade(await tcp(server.port), target);
      assert.not.ok(first.isSessionReused());
      await readAll(first);
      assert.is(pooled.sessionCount, 1);
      const second = await pooled.upgrade(await tcp(server.port), target);
      assert.ok(second.isSessionReused());
      await readAll(second);
      assert.ok(server.accepted[1].isSessionReused() || second.isSessionReused());
      // Another CA object is another pool key: a full handshake.
      const third = await pooled.upgrade(await tcp(server.port), peer(server.port, 'origin.test', { ca: [ca.cert] }));
      assert.not.ok(third.isSessionReused());
      third.destroy();
      const off = new TlsConnector({ sessionCacheSize: 0 });
      (await off.upgrade(await tcp(server.port), target)).destroy();
      const again = await off.upgrade(await tcp(server.port), target);
      assert.not.ok(again.isSessionReused());
      again.destroy();
    } finally {
      await server.close();
    }
  });
}

// --- against openssl s_server --------------------------------------------------------------------
const openssl = suite('openssl s_server as the origin');
openssl('verified handshake, ALPN and mTLS against openssl s_server', async () => {
  const dir = tempDir();
  const file = (name: string, text: string) => {
    writeFileSync(join(dir.path, name), text);
    return join(dir.path, name);
  };
  const port = await freePort();
  const server = spawn('openssl', ['s_server', '-accept', String(port), '-cert', file('c.pem', originCert.cert), '-key', file('k.pem', key), '-CAfile', file('ca.pem', ca.cert), '-Verify', '1', '-alpn', 'h2,http/1.1', '-naccept', '1', '-rev'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  server.stdout.on('data', (d) => (out += d));
  try {
    for (let i = 0; i < 100 && !out.includes('ACCEPT'); i++) await new Promise((r) => setTimeout(r, 50));
    const tls = await connector.upgrade(await tcp(port), peer(port, 'origin.test', { alpn: 'h2h1', clientCert: { cert: clientCert.cert, key } }));
    assert.ok(tls.authorized);
    assert.is(tls.alpnProtocol, 'h2');
    tls.write('olleh\n');
    let echoed = '';
    tls.setEncoding('utf8');
    tls.on('data', (d: string) => (echoed += d));
    for (let i = 0; i < 100 && !echoed.includes('hello'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(echoed, 'hello');
    tls.destroy();
  } finally {
    server.kill();
    dir.remove();
  }
});

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

verify('CA bundles are told apart by their whole text, so a cached context never trusts the wrong CA', async ({ stranger }) => {
  // Two bundles of equal length that begin and end alike (the same CA first and last) and differ in
  // the middle: only the second trusts the CA that issued the stranger's certificate.
  const own = ca.cert;
  const other = otherTestCa().cert;
  const pad = (pem: string, length: number) => pem + '\n'.repeat(length - pem.length);
  const middle = Math.max(own.length, other.length);
  const onlyOurs = own + pad(own, middle) + own;
  const oursAndOther = own + pad(other, middle) + own;
  assert.is(onlyOurs.length, oursAndOther.length);
  const fresh = new TlsConnector();
  const refused = await rejection(fresh.upgrade(await tcp(stranger.port), peer(stranger.port, 'origin.test', { ca: onlyOurs })));
  assert.ok(refused instanceof TlsCertificateError);
  const tls = await fresh.upgrade(await tcp(stranger.port), peer(stranger.port, 'origin.test', { ca: oursAndOther }));
  assert.ok(tls.authorized, 'verified against the bundle that holds the other CA');
  tls.destroy();
});

verify.run();
mtls.run();
sessions.run();
openssl.run();
