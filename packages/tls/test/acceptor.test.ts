import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TlsSettings } from '../src/settings.js';
import { TlsCertificateError, TlsConfigError, TlsHandshakeError } from '../src/errors.js';
import { otherTestCa, testCa, testKey, tempDir, run } from './helpers/pki.js';
import { rejection, serveTls, tlsClient, type TestTlsServer } from './helpers/servers.js';

const ca = testCa();
const key = testKey();
const defaultCert = ca.issue({ dnsNames: ['default.test'], key });
const exactCert = ca.issue({ dnsNames: ['api.example.com'], key });
const wildcardCert = ca.issue({ dnsNames: ['*.example.com'], key });
const cnOf = (pem: string | undefined) => (pem ? /CN=([^\n]*)/.exec(new X509Certificate(pem).subject)?.[1] : undefined);
const servedCn = (v: { peerCertificate: X509Certificate | undefined }) => /CN=([^\n]*)/.exec(v.peerCertificate?.subject ?? '')?.[1];

// --- SNI selection -------------------------------------------------------------------------------
const sni = suite<{ server: TestTlsServer; settings: TlsSettings }>('sni selection');
sni.before(async (ctx) => {
  ctx.settings = new TlsSettings({
    cert: defaultCert.chain,
    key,
    certificates: [{ cert: exactCert.chain, key }, { cert: wildcardCert.chain, key }],
  });
  ctx.server = await serveTls(ctx.settings);
});
sni.after(async (ctx) => ctx.server.close());

for (const [name, expected] of [
  ['api.example.com', 'api.example.com'],
  ['API.Example.COM', 'api.example.com'],
  ['www.example.com', '*.example.com'],
  ['a.b.example.com', 'default.test'],
  ['example.com', 'default.test'],
  ['unknown.test', 'default.test'],
] as const) {
  sni(`node client with SNI ${name} gets ${expected}`, async ({ server }) => {
    const view = await tlsClient(server.port, { servername: name, ca: ca.cert, checkServerIdentity: () => undefined });
    assert.is(view.reply, 'hello\n');
    assert.is(servedCn(view), expected);
  });
}

sni('no SNI gets the default certificate', async ({ server }) => {
  assert.is(servedCn(await tlsClient(server.port, { ca: ca.cert, checkServerIdentity: () => undefined })), 'default.test');
});

sni('openssl s_client -servername picks by SNI and verifies against the CA', async ({ server }) => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'ca.pem'), ca.cert);
    for (const [name, cn] of [['api.example.com', 'api.example.com'], ['x.example.com', '*.example.com']]) {
      const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, '-servername', name, '-CAfile', join(dir.path, 'ca.pem'), '-verify_hostname', name, '-verify_return_error']);
      assert.match(r.stdout, `subject=CN = ${cn}`);
      assert.match(r.stdout, 'Verify return code: 0 (ok)');
    }
  } finally {
    dir.remove();
  }
});

sni('the server digest reads the SNI the client sent', async ({ server }) => {
  await tlsClient(server.port, { servername: 'www.example.com', ca: ca.cert });
  const last = server.accepted[server.accepted.length - 1] as unknown as { servername: string };
  assert.is(last.servername, 'www.example.com');
});

// --- configuration errors -------------------------------------------------------------------------
const config = suite('configuration errors');
config('no certificate at all', () => {
  assert.throws(() => new TlsSettings({}), (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_INVALID_CONFIG');
});
config('certificate and key that do not match', () => {
  const other = ca.issue({ dnsNames: ['x.test'] });
  assert.throws(() => new TlsSettings({ cert: defaultCert.cert, key: other.key }), (e: unknown) => e instanceof TlsConfigError && /does not load/.test(e.message));
});
config('missing file names the file', () => {
  assert.throws(() => new TlsSettings({ certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' }), (e: unknown) => e instanceof TlsConfigError && e.message.includes('/nonexistent/cert.pem'));
});
config('the same name twice', () => {
  assert.throws(
    () => new TlsSettings({ certificates: [{ cert: exactCert.chain, key }, { cert: exactCert.chain, key }] }),
    (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_DUPLICATE_SERVER_NAME',
  );
});
config('a bad wildcard name', () => {
  assert.throws(() => new TlsSettings({ certificates: [{ cert: exactCert.chain, key, serverNames: ['*.com'] }] }), (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_INVALID_SERVER_NAME');
});
config('bad versions, ALPN, ticket keys, cache size', () => {
  const base = { cert: defaultCert.chain, key };
  for (const bad of [{ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }, { alpn: [''] }, { ticketKeys: Buffer.alloc(16) }, { contextCacheSize: -1 }] as const) {
    assert.throws(() => new TlsSettings({ ...base, ...bad }), (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_INVALID_CONFIG', JSON.stringify(bad));
  }
});
config('the first SNI certificate is the default without a top-level one', async () => {
  const settings = new TlsSettings({ certificates: [{ cert: exactCert.chain, key }, { cert: wildcardCert.chain, key }] });
  const server = await serveTls(settings);
  try {
    assert.is(servedCn(await tlsClient(server.port, { ca: ca.cert, checkServerIdentity: () => undefined })), 'api.example.com');
  } finally {
    await server.close();
  }
});

// --- ALPN, versions, ciphers ----------------------------------------------------------------------
const negotiation = suite('alpn, versions and ciphers');
negotiation('enableH2 prefers h2, then http/1.1; default offers http/1.1 only', async () => {
  const h2 = new TlsSettings({ cert: defaultCert.chain, key }).enableH2();
  const h1 = new TlsSettings({ cert: defaultCert.chain, key });
  const s2 = await serveTls(h2);
  const s1 = await serveTls(h1);
  try {
    const opts = { ca: ca.cert, servername: 'default.test' };
    assert.is((await tlsClient(s2.port, { ...opts, ALPNProtocols: ['http/1.1', 'h2'] })).alpn, 'h2', 'server preference wins');
    assert.is((await tlsClient(s2.port, { ...opts, ALPNProtocols: ['http/1.1'] })).alpn, 'http/1.1');
    assert.is((await tlsClient(s1.port, { ...opts, ALPNProtocols: ['h2', 'http/1.1'] })).alpn, 'http/1.1');
    // A client without ALPN connects; one offering only protocols we do not speak is refused (RFC 7301 §3.2).
    assert.is((await tlsClient(s1.port, opts)).alpn, false);
    assert.match(String(await rejection(tlsClient(s1.port, { ...opts, ALPNProtocols: ['spdy/3'] }))), 'no application protocol');
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${s2.port}`, '-alpn', 'http/1.1,h2']);
    assert.match(r.stdout, 'ALPN protocol: h2');
  } finally {
    await s2.close();
    await s1.close();
  }
});

negotiation('min/max version, ciphers and groups reach the handshake; a refused version is a counted TlsHandshakeError', async () => {
  const failures: TlsHandshakeError[] = [];
  const settings = new TlsSettings({ cert: defaultCert.chain, key, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', groups: ['P-384'], onHandshakeError: (e) => failures.push(e) });
  const server = await serveTls(settings);
  try {
    const view = await tlsClient(server.port, { ca: ca.cert, servername: 'default.test' });
    assert.is(view.protocol, 'TLSv1.2');
    assert.is(view.cipher, 'ECDHE-RSA-AES256-GCM-SHA384');
    assert.is(view.groupName, 'secp384r1');
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, '-tls1_3']);
    assert.is.not(r.code, 0);
    await waitFor(() => failures.length === 1);
    assert.instance(failures[0], TlsHandshakeError);
    assert.is(failures[0].code, 'ERR_TLS_HANDSHAKE_FAILURE');
    assert.match(failures[0].reason, /unsupported protocol/);
    assert.is(failures[0].opensslCode, 'ERR_SSL_UNSUPPORTED_PROTOCOL');
    assert.match(failures[0].peerAddress ?? '', /^127\.0\.0\.1:\d+$/);
    assert.is(settings.stats.handshakeFailures, 1);
    // The server is still serving.
    assert.is((await tlsClient(server.port, { ca: ca.cert, servername: 'default.test' })).reply, 'hello\n');
  } finally {
    await server.close();
  }
});

negotiation('plain HTTP on the TLS port is a TlsHandshakeError, the server keeps serving', async () => {
  const failures: TlsHandshakeError[] = [];
  const settings = new TlsSettings({ cert: defaultCert.chain, key, onHandshakeError: (e) => failures.push(e) });
  const server = await serveTls(settings);
  try {
    const plain = netConnect(server.port, '127.0.0.1');
    plain.on('error', () => {});
    plain.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(plain, 'close');
    await waitFor(() => failures.length === 1);
    assert.match(failures[0].reason, /http request|wrong version number/);
    assert.is(failures[0].side, 'acceptor');
    assert.is(settings.stats.failuresByCode.get('ERR_TLS_HANDSHAKE_FAILURE'), 1);
    assert.is((await tlsClient(server.port, { ca: ca.cert, servername: 'default.test' })).reply, 'hello\n');
  } finally {
    await server.close();
  }
});

negotiation('the server cipher order applies on SNI certificates as on the default one', async () => {
  const settings = new TlsSettings({ cert: defaultCert.chain, key, certificates: [{ cert: exactCert.chain, key }], ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' });
  const server = await serveTls(settings);
  try {
    for (const servername of ['default.test', 'api.example.com']) {
      const view = await tlsClient(server.port, { ca: ca.cert, servername, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' });
      assert.is(view.cipher, 'ECDHE-RSA-AES256-GCM-SHA384', servername);
    }
  } finally {
    await server.close();
  }
});

negotiation('TlsSettings.intermediate: Mozilla intermediate profile from files', async () => {
  const dir = tempDir();
  writeFileSync(join(dir.path, 'cert.pem'), defaultCert.chain);
  writeFileSync(join(dir.path, 'key.pem'), key);
  const server = await serveTls(TlsSettings.intermediate(join(dir.path, 'cert.pem'), join(dir.path, 'key.pem')));
  try {
    const opts = { ca: ca.cert, servername: 'default.test' };
    const v13 = await tlsClient(server.port, opts);
    assert.is(v13.protocol, 'TLSv1.3');
    assert.is(v13.groupName, 'X25519');
    const v12 = await tlsClient(server.port, { ...opts, maxVersion: 'TLSv1.2' });
    assert.match(v12.cipher, /^ECDHE-RSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/);
    // CBC suites are not in the profile.
    await rejection(tlsClient(server.port, { ...opts, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' }));
  } finally {
    await server.close();
    dir.remove();
  }
});

negotiation('a client that never finishes its handshake is cut at handshakeTimeoutMs, typed', async () => {
  const failures: TlsHandshakeError[] = [];
  const settings = new TlsSettings({ cert: defaultCert.chain, key, handshakeTimeoutMs: 100, onHandshakeError: (e) => failures.push(e) });
  const server = await serveTls(settings);
  try {
    const silent = netConnect(server.port, '127.0.0.1');
    silent.on('error', () => {});
    await once(silent, 'close');
    assert.is(failures.length, 1);
    assert.is(failures[0].opensslCode, 'ERR_TLS_HANDSHAKE_TIMEOUT');
    assert.is(failures[0].code, 'ERR_TLS_HANDSHAKE_FAILURE');
  } finally {
    await server.close();
  }
});

// --- certificate callback -------------------------------------------------------------------------
const callback = suite('certificate callback');
callback('async callback picks certificates, results are cached, undefined falls back to static names', async () => {
  const asked: string[] = [];
  const dynamicCert = ca.issue({ dnsNames: ['dyn.test'], key });
  const settings = new TlsSettings({
    cert: defaultCert.chain,
    key,
    certificates: [{ cert: exactCert.chain, key }],
    certificateCallback: async (name) => {
      asked.push(name);
      await new Promise((r) => setTimeout(r, 5));
      return name === 'dyn.test' ? { cert: dynamicCert.chain, key } : undefined;
    },
  });
  const server = await serveTls(settings);
  try {
    const opts = { ca: ca.cert };
    assert.is(servedCn(await tlsClient(server.port, { ...opts, servername: 'dyn.test' })), 'dyn.test');
    assert.is(servedCn(await tlsClient(server.port, { ...opts, servername: 'DYN.test' })), 'dyn.test');
    assert.is(servedCn(await tlsClient(server.port, { ...opts, servername: 'api.example.com' })), 'api.example.com');
    assert.is(servedCn(await tlsClient(server.port, { ...opts, servername: 'api.example.com' })), 'api.example.com');
    assert.equal(asked, ['dyn.test', 'api.example.com']);
    assert.is(settings.stats.contextCacheHits, 2);
    settings.invalidateCertificateCache('dyn.test');
    await tlsClient(server.port, { ...opts, servername: 'dyn.test' });
    assert.equal(asked, ['dyn.test', 'api.example.com', 'dyn.test']);
    // Concurrent handshakes for a new name share one lookup.
    await Promise.all([1, 2, 3].map(() => tlsClient(server.port, { ...opts, servername: 'new.test', checkServerIdentity: () => undefined })));
    assert.is(asked.filter((n) => n === 'new.test').length, 1);
  } finally {
    await server.close();
  }
});

callback('a failing callback fails that handshake only, and is asked again next time', async () => {
  let calls = 0;
  const failures: TlsHandshakeError[] = [];
  const settings = new TlsSettings({
    cert: defaultCert.chain,
    key,
    certificateCallback: async () => {
      calls++;
      if (calls === 1) throw new Error('vault unreachable');
      return undefined;
    },
    onHandshakeError: (e) => failures.push(e),
  });
  const server = await serveTls(settings);
  try {
    await rejection(tlsClient(server.port, { ca: ca.cert, servername: 'x.test' }));
    assert.is(servedCn(await tlsClient(server.port, { ca: ca.cert, servername: 'x.test', checkServerIdentity: () => undefined })), 'default.test');
    assert.is(calls, 2);
  } finally {
    await server.close();
  }
});

callback('a callback may answer with a SecureContext; cached answers expire after contextCacheTtlMs', async () => {
  const { createSecureContext } = await import('node:tls');
  const ready = createSecureContext({ cert: exactCert.chain, key });
  let calls = 0;
  const settings = new TlsSettings({ cert: defaultCert.chain, key, contextCacheTtlMs: 50, certificateCallback: () => (calls++, ready) });
  const server = await serveTls(settings);
  try {
    const opts = { ca: ca.cert, servername: 'api.example.com' };
    assert.is(servedCn(await tlsClient(server.port, opts)), 'api.example.com');
    await tlsClient(server.port, opts);
    assert.is(calls, 1);
    await new Promise((r) => setTimeout(r, 80));
    await tlsClient(server.port, opts);
    assert.is(calls, 2);
  } finally {
    await server.close();
  }
});

// --- client certificates --------------------------------------------------------------------------
const mtls = suite('client certificates');
mtls('required: a client certificate from the CA is accepted and visible on the socket; none is ERR_TLS_CLIENT_CERT_REQUIRED', async () => {
  const failures: TlsHandshakeError[] = [];
  const clientCert = ca.issue({ commonName: 'client-1', key, usage: ['clientAuth'] });
  const settings = new TlsSettings({ cert: defaultCert.chain, key, clientCertificates: { ca: ca.cert }, onHandshakeError: (e) => failures.push(e) });
  const server = await serveTls(settings);
  const dir = tempDir();
  try {
    const ok = await tlsClient(server.port, { ca: ca.cert, servername: 'default.test', cert: clientCert.cert, key });
    assert.is(ok.reply, 'hello\n');
    const accepted = server.accepted[server.accepted.length - 1];
    assert.ok(accepted.authorized);
    assert.is(cnOf(accepted.getPeerX509Certificate()?.toString()), 'client-1');
    // openssl s_client with and without a certificate.
    writeFileSync(join(dir.path, 'c.pem'), clientCert.cert);
    writeFileSync(join(dir.path, 'k.pem'), key);
    const withCert = await run('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, '-cert', join(dir.path, 'c.pem'), '-key', join(dir.path, 'k.pem')], '', 10_000, 300);
    assert.match(withCert.stdout, 'hello');
    const without = await run('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`], '', 10_000, 300);
    assert.not.match(without.stdout, 'hello');
    await waitFor(() => failures.length === 1);
    assert.instance(failures[0], TlsCertificateError);
    assert.is(failures[0].code, 'ERR_TLS_CLIENT_CERT_REQUIRED');
    assert.is(settings.stats.failuresByCode.get('ERR_TLS_CLIENT_CERT_REQUIRED'), 1);
  } finally {
    dir.remove();
    await server.close();
  }
});

mtls('a client certificate from another CA is ERR_TLS_UNKNOWN_CA, an expired one ERR_TLS_CERT_EXPIRED; nothing reaches secureConnection', async () => {
  const failures: TlsHandshakeError[] = [];
  const settings = new TlsSettings({ cert: defaultCert.chain, key, clientCertificates: { ca: ca.cert }, onHandshakeError: (e) => failures.push(e) });
  const server = await serveTls(settings);
  try {
    const stranger = otherTestCa().issue({ commonName: 'stranger', key, usage: ['clientAuth'] });
    const expired = ca.issue({ commonName: 'expired', key, notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    for (const client of [stranger, expired]) {
      // TLS 1.3: the client's handshake completes before the server's verdict; it then sees the close.
      const view = await tlsClient(server.port, { ca: ca.cert, servername: 'default.test', cert: client.cert, key }).catch((e: Error) => ({ reply: e.message }));
      assert.is.not(view.reply, 'hello\n');
    }
    await waitFor(() => failures.length === 2);
    assert.equal(failures.map((f) => f.code), ['ERR_TLS_UNKNOWN_CA', 'ERR_TLS_CERT_EXPIRED']);
    assert.instance(failures[0], TlsCertificateError);
    assert.match(failures[0].peerAddress ?? '', /^127\.0\.0\.1:\d+$/);
    assert.is(server.accepted.length, 0);
  } finally {
    await server.close();
  }
});

mtls('requested only: clients without a certificate connect, unauthorized', async () => {
  const settings = new TlsSettings({ cert: defaultCert.chain, key, clientCertificates: { ca: ca.cert, required: false } });
  const server = await serveTls(settings);
  try {
    assert.is((await tlsClient(server.port, { ca: ca.cert, servername: 'default.test' })).reply, 'hello\n');
    const accepted = server.accepted[0];
    assert.not.ok(accepted.authorized);
  } finally {
    await server.close();
  }
});

// --- resumption -----------------------------------------------------------------------------------
const resumption = suite('session resumption');
for (const version of ['-tls1_3', '-tls1_2']) {
  resumption(`openssl s_client ${version} resumes with -sess_out / -sess_in, also on an SNI certificate`, async () => {
    const settings = new TlsSettings({ cert: defaultCert.chain, key, certificates: [{ cert: exactCert.chain, key }] });
    const server = await serveTls(settings);
    const dir = tempDir();
    try {
      for (const name of ['default.test', 'api.example.com']) {
        const sess = join(dir.path, `${name}.sess`);
        const first = await run('openssl', ['s_client', version, '-connect', `127.0.0.1:${server.port}`, '-servername', name, '-sess_out', sess], '', 10_000, 300);
        assert.match(first.stdout, /^New, /m);
        const second = await run('openssl', ['s_client', version, '-connect', `127.0.0.1:${server.port}`, '-servername', name, '-sess_in', sess], '', 10_000, 300);
        assert.match(second.stdout, /^Reused, /m, second.stdout);
      }
    } finally {
      dir.remove();
      await server.close();
    }
  });
}

resumption('two servers from the same settings share ticket keys; sessionTickets false turns resumption off', async () => {
  const settings = new TlsSettings({ cert: defaultCert.chain, key });
  const a = await serveTls(settings);
  const b = await serveTls(settings);
  const off = await serveTls(new TlsSettings({ cert: defaultCert.chain, key, sessionTickets: false }));
  try {
    const opts = { ca: ca.cert, servername: 'default.test' };
    const session = await sessionFrom(a.port, opts);
    const resumed = await tlsClient(b.port, { ...opts, session });
    assert.ok(resumed.reused);
    assert.ok(b.accepted[0].isSessionReused());
    const offSession = await sessionFrom(off.port, opts);
    assert.not.ok((await tlsClient(off.port, { ...opts, session: offSession })).reused);
  } finally {
    await a.close();
    await b.close();
    await off.close();
  }
});

resumption('with client certificates required, sessions resume on the default and on SNI certificates (TLS 1.2 and 1.3)', async () => {
  const clientCert = ca.issue({ commonName: 'resuming-client', key, usage: ['clientAuth'] });
  const settings = new TlsSettings({ cert: defaultCert.chain, key, certificates: [{ cert: exactCert.chain, key }], clientCertificates: { ca: ca.cert } });
  const server = await serveTls(settings);
  try {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      for (const servername of ['default.test', 'api.example.com']) {
        const opts = { ca: ca.cert, servername, cert: clientCert.cert, key, maxVersion };
        const session = await sessionFrom(server.port, opts);
        const again = await tlsClient(server.port, { ...opts, session });
        assert.ok(again.reused, `${maxVersion} ${servername}`);
        assert.is(again.reply, 'hello\n');
      }
    }
  } finally {
    await server.close();
  }
});

// --- reload ---------------------------------------------------------------------------------------
const reload = suite('certificate reload');
reload('reload() serves the new files to new handshakes; a broken pair keeps the old ones', async () => {
  const dir = tempDir();
  const certFile = join(dir.path, 'cert.pem');
  const keyFile = join(dir.path, 'key.pem');
  writeFileSync(certFile, defaultCert.chain);
  writeFileSync(keyFile, key);
  const settings = new TlsSettings({ certFile, keyFile });
  const server = await serveTls(settings);
  try {
    const opts = { ca: ca.cert, checkServerIdentity: () => undefined };
    assert.is(servedCn(await tlsClient(server.port, opts)), 'default.test');
    writeFileSync(certFile, ca.issue({ dnsNames: ['renewed.test'], key }).chain);
    settings.reload();
    assert.is(servedCn(await tlsClient(server.port, opts)), 'renewed.test');
    const other = ca.issue({ dnsNames: ['x.test'] });
    writeFileSync(keyFile, other.key);
    assert.throws(() => settings.reload(), (e: unknown) => e instanceof TlsConfigError);
    assert.is(servedCn(await tlsClient(server.port, opts)), 'renewed.test');
  } finally {
    await settings.close();
    await server.close();
    dir.remove();
  }
});

reload('watchFiles reloads when the files change, without a restart', async () => {
  const dir = tempDir();
  const certFile = join(dir.path, 'cert.pem');
  const keyFile = join(dir.path, 'key.pem');
  writeFileSync(certFile, defaultCert.chain);
  writeFileSync(keyFile, key);
  const reloads: Array<Error | undefined> = [];
  const settings = new TlsSettings({ certFile, keyFile, watchFiles: true, watchIntervalMs: 20, onReload: (e) => reloads.push(e) });
  const server = await serveTls(settings);
  try {
    const opts = { ca: ca.cert, checkServerIdentity: () => undefined };
    assert.is(servedCn(await tlsClient(server.port, opts)), 'default.test');
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(certFile, ca.issue({ dnsNames: ['watched.test'], key }).chain);
    await waitFor(() => reloads.length > 0, 5000);
    assert.is(reloads[0], undefined);
    assert.is(servedCn(await tlsClient(server.port, opts)), 'watched.test');
  } finally {
    await settings.close();
    await server.close();
    dir.remove();
  }
});

async function sessionFrom(port: number, opts: object): Promise<Buffer> {
  const { tlsConnect } = await import('./helpers/connect.js');
  return tlsConnect(port, opts);
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

sni.run();
config.run();
negotiation.run();
callback.run();
mtls.run();
resumption.run();
reload.run();
