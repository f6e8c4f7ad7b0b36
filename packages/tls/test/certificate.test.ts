import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { CertificateAuthority, certificateFacts, createSelfSignedCertificate, generatePrivateKey } from '../src/certificate.js';
import { TlsConfigError } from '../src/errors.js';
import { testCa, testKey, tempDir, run } from './helpers/pki.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ca = testCa();
const key = testKey();

const authority = suite('certificate authority');
authority('the CA certificate is a CA, self-issued, valid for ten years', () => {
  const facts = certificateFacts(ca.cert);
  assert.ok(facts.isCa);
  assert.is(facts.commonName, 'Sluice Test CA');
  assert.is(facts.subject, facts.issuer);
  const years = (facts.validTo.getTime() - facts.validFrom.getTime()) / (365 * 86_400_000);
  assert.ok(years > 9.9 && years < 10.1, String(years));
});

authority('a leaf carries its DNS and IP SANs, is signed by the CA and is not a CA', () => {
  const leaf = ca.issue({ dnsNames: ['localhost', '*.example.com'], ipAddresses: ['127.0.0.1', '::1'], key });
  const facts = certificateFacts(leaf.cert);
  assert.equal(facts.dnsNames, ['localhost', '*.example.com']);
  assert.equal(facts.ipAddresses, ['127.0.0.1', '0:0:0:0:0:0:0:1']);
  assert.is(facts.commonName, 'localhost');
  assert.not.ok(facts.isCa);
  const x509 = new X509Certificate(leaf.cert);
  assert.ok(x509.checkIssued(new X509Certificate(ca.cert)));
  assert.ok(x509.verify(new X509Certificate(ca.cert).publicKey));
  assert.ok(x509.checkHost('a.example.com'));
  assert.ok(x509.checkIP('127.0.0.1'));
  assert.is(leaf.chain, leaf.cert + ca.cert);
});

authority('openssl verify accepts the chain for server and client purposes', async () => {
  const dir = tempDir();
  try {
    const leaf = ca.issue({ dnsNames: ['verify.test'], key });
    writeFileSync(join(dir.path, 'ca.pem'), ca.cert);
    writeFileSync(join(dir.path, 'leaf.pem'), leaf.cert);
    for (const purpose of ['sslserver', 'sslclient']) {
      const r = await run('openssl', ['verify', '-purpose', purpose, '-CAfile', join(dir.path, 'ca.pem'), join(dir.path, 'leaf.pem')]);
      assert.match(r.stdout, ': OK', r.stderr);
    }
  } finally {
    dir.remove();
  }
});

authority('validity windows: explicit dates, validityDays, an expired certificate', () => {
  const notBefore = new Date('2020-01-01T00:00:00Z');
  const notAfter = new Date('2020-02-01T00:00:00Z');
  const expired = certificateFacts(ca.issue({ dnsNames: ['old.test'], key, notBefore, notAfter }).cert);
  assert.is(expired.validFrom.getTime(), notBefore.getTime());
  assert.is(expired.validTo.getTime(), notAfter.getTime());
  const short = certificateFacts(ca.issue({ dnsNames: ['short.test'], key, validityDays: 2 }).cert);
  const days = (short.validTo.getTime() - short.validFrom.getTime()) / 86_400_000;
  assert.is(days, 2);
  assert.ok(short.validFrom.getTime() < Date.now());
});

authority('PEM out and back in: a CA loaded from its PEM issues certificates it verifies', () => {
  const reloaded = new CertificateAuthority(ca.cert, ca.key);
  const leaf = reloaded.issue({ dnsNames: ['again.test'], key });
  assert.ok(new X509Certificate(leaf.cert).verify(new X509Certificate(ca.cert).publicKey));
  assert.match(leaf.key, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(leaf.cert, /^-----BEGIN CERTIFICATE-----\n[^\r]*-----END CERTIFICATE-----\n$/);
});

authority('serial numbers are unique and positive', () => {
  const a = certificateFacts(ca.issue({ key }).cert).serialNumber;
  const b = certificateFacts(ca.issue({ key }).cert).serialNumber;
  assert.is.not(a, b);
  assert.ok(parseInt(a.slice(0, 1), 16) < 8);
});

const selfSigned = suite('self-signed certificates');
selfSigned('a self-signed leaf is its own issuer and verifies with its own key', () => {
  const own = createSelfSignedCertificate({ dnsNames: ['self.test'], key });
  const x509 = new X509Certificate(own.cert);
  assert.is(x509.subject, x509.issuer);
  assert.ok(x509.verify(x509.publicKey));
  assert.is(own.chain, own.cert);
  assert.equal(certificateFacts(own.cert).dnsNames, ['self.test']);
});

const errors = suite('certificate errors');
errors('bad inputs are TlsConfigError ERR_TLS_INVALID_CONFIG', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
  const cases: Array<[string, () => unknown]> = [
    ['bad IP', () => ca.issue({ ipAddresses: ['999.1.1.1'], key })],
    ['EC key', () => ca.issue({ key: ec })],
    ['not a key', () => ca.issue({ key: 'nope' })],
    ['window backwards', () => ca.issue({ key, notBefore: new Date(2000), notAfter: new Date(1000) })],
    ['key size', () => generatePrivateKey(512)],
    ['not a CA certificate', () => new CertificateAuthority('junk', key)],
    ['facts of junk', () => certificateFacts('junk')],
  ];
  for (const [name, f] of cases) assert.throws(f, (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_INVALID_CONFIG', name);
});

authority.run();
selfSigned.run();
errors.run();
